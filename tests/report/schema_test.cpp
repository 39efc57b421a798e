// The report schema: names, status values and metrics, and that results/README.md documents
// every name the schema defines.
#include "report/schema.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>

namespace ipcbench::schema {
namespace {

TEST(SchemaName, FormatsAndParsesBack) {
  const benchmark_name forked{.id = "shm_spin.futex",
                              .pattern = "latency",
                              .message_size = 4096,
                              .placement = "same",
                              .spawned = false};
  EXPECT_EQ(format_name(forked), "shm_spin.futex/latency/4096/same");
  benchmark_name spawned = forked;
  spawned.id = "fifo";
  spawned.placement = "cross";
  spawned.spawned = true;
  EXPECT_EQ(format_name(spawned), "fifo/latency/4096/cross.spawn");
  benchmark_name threads = forked;
  threads.id = "pipe";
  threads.placement = "cross";
  threads.threads = true;
  EXPECT_EQ(format_name(threads), "pipe/latency/4096/cross.threads");

  for (const benchmark_name& n : {forked, spawned, threads}) {
    const auto back = parse_name(format_name(n));
    ASSERT_TRUE(back) << format_name(n);
    EXPECT_EQ(back->id, n.id);
    EXPECT_EQ(back->pattern, n.pattern);
    EXPECT_EQ(back->message_size, n.message_size);
    EXPECT_EQ(back->placement, n.placement);
    EXPECT_EQ(back->spawned, n.spawned);
    EXPECT_EQ(back->threads, n.threads);
  }
}

TEST(SchemaName, GoogleBenchmarkSuffixesAndOtherShapes) {
  const auto gb = parse_name("tcp/throughput/65536/cross/iterations:1/manual_time");
  ASSERT_TRUE(gb);
  EXPECT_EQ(gb->id, "tcp");
  EXPECT_EQ(gb->pattern, "throughput");
  EXPECT_FALSE(parse_name("fifo/latency/64/cross.spawned"));
  EXPECT_FALSE(parse_name("fifo/latency/64/.spawn"));
  EXPECT_FALSE(parse_name("fifo/latency/64/cross.thread"));
  EXPECT_FALSE(parse_name("fifo/latency/64/.threads"));
  EXPECT_FALSE(parse_name("BM_memcpy/4096"));
}

TEST(SchemaName, IdSplitsIntoMechanismAndVariant) {
  EXPECT_EQ(mechanism_of("shm_spin.futex"), "shm_spin");
  EXPECT_EQ(variant_of("shm_spin.futex"), "futex");
  EXPECT_EQ(mechanism_of("pipe"), "pipe");
  EXPECT_EQ(variant_of("pipe"), "default");
}

TEST(SchemaStatus, RoundTripsAndErrorMessages) {
  for (status s : {status::ok, status::skipped, status::failed})
    EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_FALSE(parse_status("OK"));
  EXPECT_EQ(error_message(status::skipped, "too big"), "skipped: too big");
  EXPECT_EQ(status_of_error_message("skipped: too big"), status::skipped);
  EXPECT_EQ(status_of_error_message("failed: lost 3"), status::failed);
  EXPECT_EQ(status_of_error_message("something else"), status::failed);
}

TEST(SchemaMetrics, EachMetricIsACounterOrAGoogleBenchmarkTimeWithItsDirection) {
  const auto all = counters();
  for (const metric_spec& m : known_metrics()) {
    const bool time = m.name == "real_time" || m.name == "cpu_time";
    EXPECT_TRUE(time || std::find(all.begin(), all.end(), m.name) != all.end()) << m.name;
    const bool rate = m.name.ends_with("per_second");
    EXPECT_EQ(m.better, rate ? direction::higher_is_better : direction::lower_is_better) << m.name;
    EXPECT_EQ(find_metric(m.name), &m);
  }
  EXPECT_EQ(find_metric(counter::kMessages), nullptr);  // a count, not a measure of speed
  EXPECT_EQ(to_string(direction::lower_is_better), "lower_is_better");
  EXPECT_EQ(to_string(direction::higher_is_better), "higher_is_better");
}

TEST(SchemaFields, RepetitionWritesOnlyWhatIsSet) {
  repetition_fields too_big;
  too_big.state = status::skipped;
  too_big.reason = "too big";
  const nlohmann::json skipped = too_big;
  EXPECT_EQ(skipped, (nlohmann::json{{"status", "skipped"}, {"reason", "too big"}}));
  repetition_fields ok;
  ok.loss = loss_counts{0, 0, 0, 2, 10};
  ok.integrity_errors = 0;
  ok.cpus = std::array<int, 2>{0, 1};
  ok.cpu = peer_cpu_times{1, 2, 3, 4};
  ok.latency_percentiles_ns = std::map<std::string, std::int64_t>{{"50", 40}};
  const nlohmann::json j = ok;
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_EQ(j.at("lost"), 0);
  EXPECT_EQ(j.at("duplicated"), 0);
  EXPECT_EQ(j.at("reordered"), 0);
  EXPECT_EQ(j.at("stale"), 2);
  EXPECT_EQ(j.at("delivered"), 10);
  EXPECT_EQ(j.at("cpus"), nlohmann::json::array({0, 1}));
  EXPECT_EQ(j.at("cpu").at("consumer_sys_ns"), 4);
  // A wait for the CPU that was not read is absent, not 0.
  EXPECT_FALSE(j.at("cpu").contains("producer_waited_ns"));
  EXPECT_FALSE(j.at("cpu").contains("consumer_waited_ns"));
  EXPECT_EQ(j.at("latency_percentiles_ns").at("50"), 40);
  ok.cpu->producer_waited_ns = 7000;
  ok.cpu->consumer_waited_ns = 0;
  const nlohmann::json waited = ok;
  EXPECT_EQ(waited.at("cpu").at("producer_waited_ns"), 7000);
  EXPECT_EQ(waited.at("cpu").at("consumer_waited_ns"), 0);
  benchmark_fields pipe;
  pipe.mechanism = "pipe";
  pipe.message_size = 64;
  const nlohmann::json f = pipe;
  EXPECT_EQ(f.at("mechanism"), "pipe");
  EXPECT_EQ(f.at("message_size"), 64);
  EXPECT_EQ(f.size(), 8u);
}

std::string results_readme() {
  std::ifstream in(std::string(IPCBENCH_SOURCE_DIR) + "/results/README.md");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quoted(std::string_view name) {
  return "`" + std::string(name) + "`";
}

TEST(SchemaDocs, ResultsReadmeDocumentsEveryName) {
  const std::string doc = results_readme();
  ASSERT_FALSE(doc.empty());
  for (std::string_view name :
       std::initializer_list<std::string_view>{field::kMechanism,
                                               field::kVariant,
                                               field::kId,
                                               field::kFamily,
                                               field::kPattern,
                                               field::kMessageSize,
                                               field::kPlacement,
                                               field::kProcess,
                                               field::kStatus,
                                               field::kReason,
                                               field::kLost,
                                               field::kDuplicated,
                                               field::kReordered,
                                               field::kStale,
                                               field::kDelivered,
                                               field::kIntegrityErrors,
                                               field::kCpus,
                                               field::kCpu,
                                               field::kLatencyPercentiles,
                                               field::kSubBatches,
                                               std::string_view(kContextKey),
                                               kSpawnSuffix})
    EXPECT_NE(doc.find(quoted(name)), std::string::npos) << name;
  for (std::string_view name : counters())
    EXPECT_NE(doc.find(quoted(name)), std::string::npos) << name;
  for (status s : {status::ok, status::skipped, status::failed})
    EXPECT_NE(doc.find(quoted(to_string(s))), std::string::npos) << to_string(s);
  for (std::string_view key : kLatencyPercentileKeys)
    EXPECT_NE(doc.find("`\"" + std::string(key) + "\"`"), std::string::npos) << key;
}

TEST(SchemaDocs, ResultsReadmeStatesEachMetricsDirection) {
  const std::string doc = results_readme();
  for (const metric_spec& m : known_metrics()) {
    const std::string row = "| " + quoted(m.name) + " | " +
                            (m.better == direction::lower_is_better ? "lower" : "higher") +
                            " is better |";
    EXPECT_NE(doc.find(row), std::string::npos) << row;
  }
}

}  // namespace
}  // namespace ipcbench::schema
