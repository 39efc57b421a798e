// The textbooks' efficiency claims computed from a run (bench/claims): on known repetitions, a
// claim that holds, a tie, a split by size and an untested one.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/claims.hpp"

namespace ipcbench {
namespace {

// Five ok repetitions around `v` (v, v, v*(1-s), v*(1+s), v): the median is v and its 90 %
// interval [v*(1-s), v*(1+s)].
benchmark_history steady_history(const std::string& name, double v, double s = 0.05,
                                 double cpu_ns = 1000) {
  benchmark_history h{.name = name, .metric = "rtt_p50_ns", .samples = {}, .stopped = "cap"};
  std::uint64_t order = 0;
  for (double x : {v, v, v * (1 - s), v * (1 + s), v}) {
    repetition_sample r;
    r.order = order++;
    r.ok = true;
    r.value = x;
    r.cpu_ns_per_message = cpu_ns;
    h.samples.push_back(r);
  }
  return h;
}

struct fixture {
  std::vector<benchmark_history> histories;
  std::vector<claim_benchmark> benchmarks;
  void add(const std::string& id, const std::string& family, const std::string& pattern,
           std::size_t size, double v, double cpu_ns = 1000) {
    histories.push_back(steady_history(id + "/" + pattern + "/" + std::to_string(size) + "/cross",
                                       v, 0.05, cpu_ns));
    benchmarks.push_back({.id = id, .family = family, .pattern = pattern, .size = size});
  }
  nlohmann::json claims(const nlohmann::json& tax = nlohmann::json::array()) {
    for (std::size_t i = 0; i < benchmarks.size(); ++i) benchmarks[i].history = &histories[i];
    const nlohmann::json all = claims_json(benchmarks, find_regimes(histories), 0.9, tax);
    std::map<std::string, nlohmann::json> by;
    for (const auto& c : all) by[c["id"].get<std::string>()] = c;
    EXPECT_EQ(by.size(), 4u);
    return by;
  }
};

constexpr const char* kShm = "shared memory & mmap";
constexpr const char* kPipes = "pipes & FIFOs";
constexpr const char* kQueues = "message queues";

TEST(Claims, ASummaryNamesTheFirstUntestedPlacesAndCountsTheRest) {
  fixture f;
  f.histories.reserve(16);
  f.add("posix_shm.futex", kShm, "latency", 64, 2e3);
  f.add("pipe", kPipes, "latency", 64, 10e3);
  for (std::size_t size : {1, 512, 4095, 4097, 16384, 65535}) {
    f.add("posix_shm.futex", kShm, "latency", size, 2e3);
    f.add("pipe", kPipes, "latency", size, 10e3);
  }
  // Two repetitions each but at 64 B: no interval, so untested there.
  for (std::size_t i = 2; i < f.histories.size(); ++i) f.histories[i].samples.resize(2);
  const auto by = f.claims();
  const auto& c = by.at("shm_fastest");
  EXPECT_EQ(c["verdict"], "holds");
  EXPECT_EQ(c["summary"],
            "holds at latency 64 B; untested at latency 1 B, latency 512 B, latency 4095 B and 3 "
            "more (each of the claim's rows says why)");
  EXPECT_EQ(c["rows"].size(), 7u);
  // Four untested places are named in full ("and 1 more" would save nothing).
  f.histories.resize(10);
  f.benchmarks.resize(10);
  EXPECT_EQ(f.claims().at("shm_fastest")["summary"],
            "holds at latency 64 B; untested at latency 1 B, latency 512 B, latency 4095 B, "
            "latency 4097 B");
}

TEST(Claims, ASummaryNamesTheFirstTiesAndCountsTheRest) {
  // A FIFO and a pipe alike at six sizes, spread by 20 %: every interval of the ratio holds 1 and
  // reaches past the 10 % margin, so six ties, the first three named.
  fixture f;
  f.histories.reserve(16);
  for (std::size_t size : {1, 64, 512, 4095, 4096, 4097})
    for (const char* id : {"fifo", "pipe"}) {
      f.histories.push_back(steady_history(
          std::string(id) + "/latency/" + std::to_string(size) + "/cross", 10e3, 0.2));
      f.benchmarks.push_back({.id = id, .family = kPipes, .pattern = "latency", .size = size});
    }
  const auto by = f.claims();
  EXPECT_EQ(by.at("fifo_as_pipe")["verdict"], "tie");
  EXPECT_EQ(by.at("fifo_as_pipe")["summary"],
            "tie at latency 1 B, latency 64 B, latency 512 B and 3 more (each of the claim's rows "
            "has its interval)");
}

TEST(Claims, WithoutIntervalsARankTestOverTheRegimesOrdersWhatIsApart) {
  fixture f;
  f.histories.reserve(16);
  // Three repetitions each, apart: no interval (5 needed), the rank test's p = 0.1: holds.
  f.add("posix_shm.futex", kShm, "latency", 64, 2e3);
  f.add("pipe", kPipes, "latency", 64, 10e3);
  // Two each: p = 1/3, untested, and why.
  f.add("posix_shm.futex", kShm, "latency", 4096, 2e3);
  f.add("pipe", kPipes, "latency", 4096, 10e3);
  for (std::size_t i = 0; i < 2; ++i) f.histories[i].samples.resize(3);
  for (std::size_t i = 2; i < 4; ++i) f.histories[i].samples.resize(2);
  const auto by = f.claims();
  const auto& c = by.at("shm_fastest");
  ASSERT_EQ(c["rows"].size(), 2u) << c.dump(1);
  const auto& held = c["rows"][0]["against"][0];
  EXPECT_EQ(c["rows"][0]["verdict"], "holds") << held.dump(1);
  EXPECT_TRUE(held["interval"].is_null());
  EXPECT_NEAR(held["rank_test"]["p"].get<double>(), 0.1, 1e-12);
  EXPECT_EQ(held["rank_test"]["strata"], 1);
  EXPECT_FALSE(held.contains("why"));
  const auto& open = c["rows"][1]["against"][0];
  EXPECT_EQ(c["rows"][1]["verdict"], "untested");
  const std::string why = open["why"].get<std::string>();
  EXPECT_NE(why.find("need 5 repetitions of each in one regime"), std::string::npos) << why;
  EXPECT_NE(why.find("gives p = 0.333, above 0.1"), std::string::npos) << why;
}

TEST(Claims, AFifoPerformsAsAPipeOnlyWhereTheRatioIsShownWithinTheMargin) {
  fixture f;
  f.histories.reserve(16);
  // 64 B: 2 % apart, 5 repetitions each spread by 5 %: the ratio's interval, [d(5), d(21)] of
  // the 25 differences (coverage 1 - 2 x 12/252), lies within 10 % of 1: holds.
  f.add("fifo", kPipes, "latency", 64, 10.2e3);
  f.add("pipe", kPipes, "latency", 64, 10e3);
  // 4096 B: 5 times slower, three repetitions each (no median's interval): refuted, from the
  // interval of the ratio alone ([min, max] of the 9 differences, coverage 0.9).
  f.add("fifo", kPipes, "latency", 4096, 50e3);
  f.add("pipe", kPipes, "latency", 4096, 10e3);
  // 512 B: 8 % apart, spread by 5 %: the interval reaches across 1/1.1 and stays below 1:
  // untested, and why.
  f.add("fifo", kPipes, "latency", 512, 10.8e3);
  f.add("pipe", kPipes, "latency", 512, 10e3);
  // 65536 B: alike but spread by 20 %: the interval holds 1 and reaches past both margins: a
  // tie, said as such.
  f.histories.push_back(steady_history("fifo/latency/65536/cross", 10e3, 0.2));
  f.benchmarks.push_back({.id = "fifo", .family = kPipes, .pattern = "latency", .size = 65536});
  f.histories.push_back(steady_history("pipe/latency/65536/cross", 10e3, 0.2));
  f.benchmarks.push_back({.id = "pipe", .family = kPipes, .pattern = "latency", .size = 65536});
  // 1 B: two each: too few for an interval of the ratio.
  f.add("fifo", kPipes, "latency", 1, 10e3);
  f.add("pipe", kPipes, "latency", 1, 10e3);
  for (std::size_t i : {2, 3}) f.histories[i].samples.resize(3);
  for (std::size_t i : {8, 9}) f.histories[i].samples.resize(2);
  const auto by = f.claims();
  const auto& c = by.at("fifo_as_pipe");
  std::map<std::string, nlohmann::json> row;
  for (const auto& r : c["rows"]) row[r["where"].get<std::string>()] = r;
  ASSERT_EQ(row.size(), 5u) << c.dump(1);
  const auto& same = row.at("latency 64 B");
  EXPECT_EQ(same["verdict"], "holds") << same.dump(1);
  EXPECT_NEAR(same["interval_confidence"].get<double>(), 1 - 24.0 / 252, 1e-12);
  EXPECT_NEAR(same["ratio"].get<double>(), 10e3 / 10.2e3, 1e-9) << same.dump(1);
  EXPECT_GE(same["interval"][0].get<double>(), 1 / 1.1);
  EXPECT_LE(same["interval"][1].get<double>(), 1.1);
  EXPECT_DOUBLE_EQ(same["margin"].get<double>(), 0.1);
  EXPECT_EQ(same["repetitions"], (nlohmann::json{5, 5}));
  const auto& far = row.at("latency 4096 B");
  EXPECT_EQ(far["verdict"], "refuted") << far.dump(1);
  EXPECT_NEAR(far["interval_confidence"].get<double>(), 0.9, 1e-12);
  EXPECT_LT(far["interval"][1].get<double>(), 1 / 1.1);  // the FIFO 5 times worse
  const auto& open = row.at("latency 512 B");
  EXPECT_EQ(open["verdict"], "untested") << open.dump(1);
  EXPECT_NE(open["why"].get<std::string>().find("shows a difference but reaches across the 10 % "
                                                "margin"),
            std::string::npos)
      << open["why"];
  const auto& tie = row.at("latency 65536 B");
  EXPECT_EQ(tie["verdict"], "tie") << tie.dump(1);
  EXPECT_LT(tie["interval"][0].get<double>(), 1 / 1.1);
  EXPECT_GT(tie["interval"][1].get<double>(), 1.1);
  EXPECT_NE(tie["why"].get<std::string>().find("holds 1"), std::string::npos) << tie["why"];
  const auto& few = row.at("latency 1 B");
  EXPECT_EQ(few["verdict"], "untested") << few.dump(1);
  EXPECT_NE(few["why"].get<std::string>().find("too few repetitions"), std::string::npos)
      << few["why"];
  EXPECT_EQ(c["verdict"], "split");
  EXPECT_EQ(c["summary"],
            "holds at latency 64 B; tie at latency 65536 B; refuted at latency 4096 B; untested "
            "at latency 1 B, latency 512 B");
}

TEST(Claims, TheRankTestRanksWithinEachRegimeOfTheHost) {
  fixture f;
  f.histories.reserve(4);
  f.add("posix_shm.futex", kShm, "throughput", 64, 2e9);
  f.add("pipe", kPipes, "throughput", 64, 1e9);
  // Four repetitions each, two in a fast state of the host (cache line 130 ns) and two in a
  // slow one (530 ns), where both are three times slower; no interval in either.
  std::uint64_t order = 0;
  for (auto& h : f.histories) {
    h.samples.resize(4);
    for (std::size_t i = 0; i < 4; ++i) {
      h.samples[i].order = order++;
      h.samples[i].line_ns = i < 2 ? 130.0 : 530.0;
      if (i >= 2) h.samples[i].value /= 3;
    }
  }
  const auto by = f.claims();
  const auto& row = by.at("shm_fastest")["rows"][0];
  EXPECT_EQ(row["verdict"], "holds") << row.dump(1);
  EXPECT_NEAR(row["against"][0]["rank_test"]["p"].get<double>(), 2.0 / 36, 1e-12);
  EXPECT_EQ(row["against"][0]["rank_test"]["strata"], 2);

  // In the slow state the pipe is faster (shared memory only a fifth as fast there): the host's
  // state decides the order, so untested, and why says so.
  for (auto& s : f.histories[0].samples)
    if (s.line_ns == 530.0) s.value /= 5;
  const auto split = f.claims().at("shm_fastest")["rows"][0];
  EXPECT_EQ(split["verdict"], "untested") << split.dump(1);
  const std::string why = split["against"][0]["why"].get<std::string>();
  EXPECT_NE(why.find("gives p = 1,"), std::string::npos) << why;
  EXPECT_NE(why.find("the host's state decides the order: every repetition of the subject was "
                     "better in regime 0 and worse in regime 1"),
            std::string::npos)
      << why;
  EXPECT_EQ(split["against"][0]["host_state_decides"], true);
  const std::string summary = f.claims().at("shm_fastest")["summary"].get<std::string>();
  EXPECT_NE(summary.find("the host's state decides the order at 1 of the untested"),
            std::string::npos)
      << summary;
}

// Repetitions in two states of the host: `fast` of them at a cache line of 130 ns, then `slow`
// at 530 ns, each state's five values around its own median (v, v, 0.95 v, 1.05 v, v, ...).
void in_states(benchmark_history& h, std::uint64_t& order, double fast_value, std::size_t fast,
               double slow_value, std::size_t slow) {
  h.samples.clear();
  const double shape[] = {1.0, 1.0, 0.95, 1.05, 1.0};
  for (std::size_t i = 0; i < fast + slow; ++i) {
    repetition_sample r;
    r.order = order++;
    r.ok = true;
    r.line_ns = i < fast ? 130.0 : 530.0;
    r.value = (i < fast ? fast_value : slow_value) * shape[(i < fast ? i : i - fast) % 5];
    r.cpu_ns_per_message = 1000;
    h.samples.push_back(r);
  }
}

TEST(Claims, AComparisonIsDecidedInTheEstimatesRegimeWhereBothHaveEnoughThere) {
  // Shared memory is five times faster than the pipe in the host's fast state (eight repetitions
  // each) and twice as slow in its slow state (five each), which holds 10 of the run's 26 floors
  // and is the reference regime of the estimates. The comparison is decided there, not in the
  // state both met most, and says that the other state orders it the other way.
  fixture f;
  f.histories.reserve(2);
  f.add("posix_shm.spin", kShm, "latency", 65536, 1);
  f.add("pipe", kPipes, "latency", 65536, 1);
  std::uint64_t order = 0;
  in_states(f.histories[0], order, 2e3, 8, 20e3, 5);
  in_states(f.histories[1], order, 10e3, 8, 10e3, 5);
  const auto by = f.claims();
  const auto& c = by.at("shm_fastest");
  const auto& row = c["rows"].at(0);
  const auto& against = row["against"].at(0);
  EXPECT_EQ(row["verdict"], "refuted") << row.dump(1);
  EXPECT_EQ(against["regime"], 1);
  EXPECT_EQ(against["repetitions"], (nlohmann::json{5, 5}));
  EXPECT_EQ(against["values"], (nlohmann::json{20e3, 10e3}));
  EXPECT_FALSE(row.contains("outside_reference"));
  ASSERT_EQ(against["by_regime"].size(), 2u) << against.dump(1);
  EXPECT_EQ(against["by_regime"][0]["regime"], 0);
  EXPECT_EQ(against["by_regime"][0]["verdict"], "better");
  EXPECT_EQ(against["by_regime"][0]["repetitions"], (nlohmann::json{8, 8}));
  EXPECT_NEAR(against["by_regime"][0]["ratio"].get<double>(), 5.0, 1e-9);
  EXPECT_EQ(against["by_regime"][1]["verdict"], "worse");
  EXPECT_EQ(against["host_state_decides"], true);
  EXPECT_EQ(c["summary"],
            "refuted at latency 65536 B; at latency 65536 B another state of the host orders a "
            "comparison the other way (its by_regime)");
}

TEST(Claims, AComparisonDecidedOutsideTheEstimatesRegimeSaysSo) {
  // As above, but the two ran twice each in the slow state, too few for an interval there; a
  // third benchmark holds the slow state's share of the run (the reference regime). The
  // comparison is decided in the fast state, and the row and the summary say so.
  fixture f;
  f.histories.reserve(3);
  f.add("posix_shm.spin", kShm, "latency", 65536, 1);
  f.add("pipe", kPipes, "latency", 65536, 1);
  f.add("null", "calibration", "latency", 1, 1);
  std::uint64_t order = 0;
  in_states(f.histories[0], order, 2e3, 8, 20e3, 2);
  in_states(f.histories[1], order, 10e3, 8, 10e3, 2);
  in_states(f.histories[2], order, 200, 0, 200, 10);
  const auto by = f.claims();
  const auto& c = by.at("shm_fastest");
  const auto& row = c["rows"].at(0);
  EXPECT_EQ(row["verdict"], "holds") << row.dump(1);
  EXPECT_EQ(row["against"][0]["regime"], 0);
  EXPECT_EQ(row["outside_reference"], 0);
  EXPECT_EQ(row["against"][0]["by_regime"].size(), 1u);
  EXPECT_FALSE(row["against"][0].contains("host_state_decides"));
  EXPECT_EQ(c["summary"],
            "holds at latency 65536 B; latency 65536 B is decided in regime 0 (cache line 130 "
            "ns), not in the estimates' regime 1 (cache line 530 ns), where both had too few "
            "repetitions");
}

TEST(Claims, SharedMemoryFastestSplitBySize) {
  fixture f;
  // 64 B: shared memory 2 us, pipe 10 us: holds. 1 MiB: shared memory 400 us, pipe 390 us,
  // intervals overlapping: a tie. 4 MiB: the pipe twice as fast: refuted.
  f.histories.reserve(16);
  f.add("posix_shm.futex", kShm, "latency", 64, 2e3);
  f.add("pipe", kPipes, "latency", 64, 10e3);
  f.add("posix_shm.futex", kShm, "latency", 1 << 20, 400e3);
  f.add("pipe", kPipes, "latency", 1 << 20, 390e3);
  f.add("posix_shm.futex", kShm, "latency", 4 << 20, 2000e3);
  f.add("pipe", kPipes, "latency", 4 << 20, 1000e3);
  const auto by = f.claims();
  const auto& c = by.at("shm_fastest");
  EXPECT_EQ(c["verdict"], "split");
  EXPECT_EQ(c["summary"],
            "holds at latency 64 B; tie at latency 1048576 B; refuted at latency 4194304 B");
  ASSERT_EQ(c["rows"].size(), 3u);
  const auto& first = c["rows"][0];
  EXPECT_EQ(first["fastest"]["id"], "posix_shm.futex");
  EXPECT_DOUBLE_EQ(first["against"][0]["ratio"].get<double>(), 5.0);
  EXPECT_EQ(c["rows"][2]["fastest"]["id"], "pipe");
  EXPECT_FALSE(c["source"].get<std::string>().empty());
}

TEST(Claims, QueuesSlowerAndCostlierOnlyWhereBothShow) {
  fixture f;
  f.histories.reserve(16);
  // 64 B: the queue is slower than both and uses more CPU than both: holds.
  f.add("posix_mq", kQueues, "throughput", 64, 1e6, 5000);
  f.add("pipe", kPipes, "throughput", 64, 3e6, 2000);
  f.add("posix_shm.futex", kShm, "throughput", 64, 9e6, 1000);
  // 4096 B: the queue faster than the pipe: refuted.
  f.add("posix_mq", kQueues, "throughput", 4096, 4e8, 5000);
  f.add("pipe", kPipes, "throughput", 4096, 2e8, 2000);
  f.add("posix_shm.futex", kShm, "throughput", 4096, 9e8, 1000);
  const auto by = f.claims();
  const auto& c = by.at("queues_slower");
  EXPECT_EQ(c["verdict"], "split");
  EXPECT_EQ(c["summary"], "holds at throughput 64 B; refuted at throughput 4096 B");
  EXPECT_EQ(c["rows"][0]["cpu"].size(), 2u);
  EXPECT_EQ(c["rows"][0]["cpu"][0]["verdict"], "worse");  // the queue's CPU against the pipe's
}

TEST(Claims, FifoAsPipeHoldsOnOverlapAndThreadsUntestedWithoutThreadPeers) {
  fixture f;
  f.histories.reserve(16);
  f.add("fifo", kPipes, "latency", 64, 10.2e3);
  f.add("pipe", kPipes, "latency", 64, 10e3);
  const auto by = f.claims();
  EXPECT_EQ(by.at("fifo_as_pipe")["verdict"], "holds");
  EXPECT_EQ(by.at("threads_faster")["verdict"], "untested");
  EXPECT_NE(by.at("threads_faster")["summary"].get<std::string>().find("--peers processes,threads"),
            std::string::npos);
  // Only one family ran: shared memory has nothing to be compared with.
  EXPECT_EQ(by.at("shm_fastest")["verdict"], "untested");
}

TEST(Claims, RowsShowTheValuesTheirRatioCompares) {
  // The FIFO ran in both host regimes, the pipe only in the fast one. The FIFO's estimate comes
  // from the slow (reference: a third of the run) regime, but the two are compared in the fast
  // one: the row shows the two medians compared there, not the FIFO's estimate beside a ratio
  // from another regime.
  fixture f;
  std::uint64_t order = 0;
  const auto rep = [&](benchmark_history& h, double v, double line) {
    repetition_sample r;
    r.order = order++;
    r.ok = true;
    r.value = v;
    r.line_ns = line;
    r.cpu_ns_per_message = 1000;
    h.samples.push_back(r);
  };
  benchmark_history fifo{
      .name = "fifo/latency/64/cross", .metric = "rtt_p50_ns", .samples = {}, .stopped = "cap"};
  benchmark_history pipe{
      .name = "pipe/latency/64/cross", .metric = "rtt_p50_ns", .samples = {}, .stopped = "cap"};
  for (double x : {0.98, 1.0, 1.0, 1.02, 1.0}) rep(fifo, 10.2e3 * x, 130);
  for (double x : {0.98, 1.0, 1.0, 1.02, 1.0}) rep(fifo, 20e3 * x, 530);
  for (double x : {0.98, 1.0, 1.0, 1.02, 1.0}) rep(pipe, 10e3 * x, 130);
  f.histories = {fifo, pipe};
  f.benchmarks = {{.id = "fifo", .family = kPipes, .pattern = "latency", .size = 64},
                  {.id = "pipe", .family = kPipes, .pattern = "latency", .size = 64}};
  const auto by = f.claims();
  const auto& row = by.at("fifo_as_pipe")["rows"].at(0);
  EXPECT_EQ(row["regime"], 0) << row;
  EXPECT_DOUBLE_EQ(row["fifo"].get<double>(), 10.2e3) << row;
  EXPECT_DOUBLE_EQ(row["pipe"].get<double>(), 10e3) << row;
  EXPECT_EQ(row["values"], (nlohmann::json{10.2e3, 10e3})) << row;
  EXPECT_NEAR(row["ratio"].get<double>(), 10e3 / 10.2e3, 1e-9) << row;
  EXPECT_EQ(row["verdict"], "holds") << row;
}

TEST(Claims, ThreadsFasterFromTheProcessTax) {
  fixture f;
  const nlohmann::json tax = {
      {{"id", "pipe"}, {"pattern", "latency"}, {"message_size", 64}, {"verdict", "tie"}},
      {{"id", "pipe"},
       {"pattern", "latency"},
       {"message_size", 4096},
       {"verdict", "processes slower"}}};
  const auto by = f.claims(tax);
  const auto& c = by.at("threads_faster");
  EXPECT_EQ(c["verdict"], "split");
  EXPECT_EQ(c["summary"], "holds at pipe latency 4096 B; tie at pipe latency 64 B");
}

}  // namespace
}  // namespace ipcbench
