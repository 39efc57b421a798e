#include "compare/gate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "compare/output.hpp"
#include "test_support.hpp"

namespace ipcbench::compare {
namespace {

// The fixtures have 5 repetitions a side: enough for one metric at alpha 0.01 (complete
// separation, p = 2/252), not for a family of 11 under Holm at 0.05. Tests of the verdict logic on
// them judge each metric on its own.
gate_options per_metric() {
  gate_options o;
  o.alpha = 0.01;
  o.family = correction::none;
  return o;
}

using nlohmann::json;
using testing::fixture;

// Five repetitions with about 2 % spread, as a quiet machine gives them.
const std::vector<double> kBase{1000, 1012, 995, 1005, 990};

std::vector<double> scaled(const std::vector<double>& v, double f) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * f);
  return out;
}

judgement judge_default(const std::vector<double>& b, const std::vector<double>& c,
                        direction better = direction::lower_is_better, double threshold = 0.05,
                        const gate_options& options = {}) {
  return judge(b, c, better, threshold, options);
}

TEST(Gate, PlantedSlowdownsOfTenAndTwentyFivePercentAreRegressions) {
  for (double f : {1.10, 1.25}) {
    const judgement j = judge_default(kBase, scaled(kBase, f));
    EXPECT_EQ(j.outcome, verdict::regression) << f;
    EXPECT_EQ(j.method, gate_method::significance_threshold);
    ASSERT_TRUE(j.p_value);
    EXPECT_DOUBLE_EQ(*j.p_value, 2.0 / 252.0);  // complete separation
    EXPECT_DOUBLE_EQ(j.baseline_median, 1000.0);
    EXPECT_NEAR(j.ratio, f, 1e-12);
  }
}

TEST(Gate, TwoPercentIsBelowTheFivePercentThreshold) {
  const judgement j = judge_default(kBase, scaled(kBase, 1.02));
  EXPECT_EQ(j.outcome, verdict::no_change);
  EXPECT_NEAR(j.ratio, 1.02, 1e-12);
  // Even when the 2 % is as significant as 5 samples allow, it stays below the threshold.
  const std::vector<double> tight{1000, 1001, 1002, 1003, 1004};
  const judgement k = judge_default(tight, scaled(tight, 1.02));
  EXPECT_DOUBLE_EQ(*k.p_value, 2.0 / 252.0);
  EXPECT_EQ(k.outcome, verdict::no_change);
}

TEST(Gate, LargeButNotSignificantIsNoChange) {
  // Medians differ by 1/6 but the samples interleave: p = 0.69 (see stats_test, case B).
  const std::vector<double> b{100, 300, 500, 700, 900};
  const std::vector<double> c{200, 400, 600, 800, 1000};
  const judgement j = judge_default(b, c);
  EXPECT_GT(j.ratio, 1.05);
  EXPECT_NEAR(*j.p_value, 0.6904761904761905, 1e-12);
  EXPECT_EQ(j.outcome, verdict::no_change);
}

TEST(Gate, ImprovementIsTheMirror) {
  EXPECT_EQ(judge_default(kBase, scaled(kBase, 1 / 1.10)).outcome, verdict::improvement);
  EXPECT_EQ(judge_default(kBase, scaled(kBase, 1 / 1.02)).outcome, verdict::no_change);
  // The boundary is 1 / (1 + t), the same step as the regression boundary the other way.
  const std::vector<double> tight{1000, 1001, 1002, 1003, 1004};
  EXPECT_EQ(judge_default(tight, scaled(tight, 1 / 1.049)).outcome, verdict::no_change);
  EXPECT_EQ(judge_default(tight, scaled(tight, 1 / 1.051)).outcome, verdict::improvement);
}

TEST(Gate, ThroughputDropIsARegressionAndRiseAnImprovement) {
  const std::vector<double> bps{2.00e9, 2.05e9, 1.98e9, 2.02e9, 2.01e9};
  const judgement drop = judge_default(bps, scaled(bps, 1 / 1.10), direction::higher_is_better);
  EXPECT_EQ(drop.outcome, verdict::regression);
  EXPECT_NEAR(drop.ratio, 1 / 1.10, 1e-12);  // raw contender / baseline
  const judgement rise = judge_default(bps, scaled(bps, 1.10), direction::higher_is_better);
  EXPECT_EQ(rise.outcome, verdict::improvement);
  EXPECT_EQ(judge_default(bps, scaled(bps, 0.98), direction::higher_is_better).outcome,
            verdict::no_change);
  // A collapse to zero throughput is a regression, not a division by zero.
  EXPECT_EQ(judge_default(bps, {0, 0, 0, 0, 0}, direction::higher_is_better).outcome,
            verdict::regression);
}

TEST(Gate, TooFewRepetitionsAreUntestedNeverARegression) {
  const std::vector<double> b{1000, 1010, 990};
  EXPECT_TRUE(too_few_to_test(3, 3, 0.05));   // smallest p = 0.1
  EXPECT_TRUE(too_few_to_test(3, 4, 0.05));   // 2/35 = 0.057
  EXPECT_FALSE(too_few_to_test(4, 4, 0.05));  // 2/70 = 0.029
  EXPECT_FALSE(too_few_to_test(3, 3, 0.2));   // 0.1 < 0.2
  const judgement j = judge_default(b, scaled(b, 1.25));
  EXPECT_EQ(j.method, gate_method::untested);
  EXPECT_FALSE(j.p_value);
  EXPECT_EQ(j.outcome, verdict::untested);  // +25 %, but 3 vs 3 could never be significant
  EXPECT_NEAR(j.ratio, 1.25, 1e-12);        // the ratio is still shown
  EXPECT_NE(j.untested_reason.find("needs 4 per side"), std::string::npos) << j.untested_reason;
  const judgement k = judge_default(b, scaled(b, 1.02));
  EXPECT_EQ(k.outcome, verdict::untested);
  // The same guard applies to the bootstrap, whose interval on 3 values would be far too narrow.
  gate_options boot;
  boot.test = test_kind::bootstrap;
  EXPECT_EQ(judge_default(b, scaled(b, 1.25), direction::lower_is_better, 0.05, boot).method,
            gate_method::untested);
  EXPECT_EQ(std::string(to_string(gate_method::untested)), "untested");
  EXPECT_EQ(std::string(to_string(verdict::untested)), "untested");
  EXPECT_EQ(repetitions_needed(0.05), 4u);       // 2/70 < 0.05
  EXPECT_EQ(repetitions_needed(0.05 / 72), 7u);  // 2/3432 = 5.8e-4 < 6.9e-4 <= 2/924
}

TEST(Gate, HolmStepDownOnAKnownFamily) {
  // alpha 0.05 over 4: 0.01 <= 0.0125, 0.012 <= 0.0167, 0.03 > 0.025 stops, so 0.04 stays too.
  const std::vector<double> p{0.04, 0.012, 0.03, 0.01};
  EXPECT_EQ(holm_reject(p, 0.05), (std::vector<bool>{false, true, false, true}));
  // Uncorrected, all four would be below 0.05.
  EXPECT_EQ(holm_reject(std::vector<double>{0.2, 0.001}, 0.05), (std::vector<bool>{false, true}));
  EXPECT_EQ(holm_reject(std::vector<double>{0.03, 0.03}, 0.05), (std::vector<bool>{false, false}));
  EXPECT_TRUE(holm_reject(std::vector<double>{}, 0.05).empty());
}

TEST(Gate, BootstrapTest) {
  gate_options boot;
  boot.test = test_kind::bootstrap;
  const judgement reg =
      judge_default(kBase, scaled(kBase, 1.25), direction::lower_is_better, 0.05, boot);
  EXPECT_EQ(reg.outcome, verdict::regression);
  EXPECT_EQ(reg.method, gate_method::significance_threshold);
  ASSERT_TRUE(reg.p_value);
  EXPECT_LT(*reg.p_value, 0.05);
  const judgement same = judge_default(kBase, kBase, direction::lower_is_better, 0.05, boot);
  EXPECT_EQ(same.outcome, verdict::no_change);
  EXPECT_GT(*same.p_value, 0.05);
}

TEST(Gate, ThresholdOptions) {
  const metric_spec& p50 = *find_metric("rtt_p50_ns");
  const metric_spec& p99 = *find_metric("rtt_p99_ns");
  gate_options o;
  EXPECT_DOUBLE_EQ(threshold_for(p50, o), 0.05);
  EXPECT_DOUBLE_EQ(threshold_for(p99, o), 0.15);
  EXPECT_DOUBLE_EQ(threshold_for(*find_metric("bytes_per_second"), o), 0.05);
  o.threshold_all = 0.20;
  EXPECT_DOUBLE_EQ(threshold_for(p50, o), 0.20);
  o.thresholds["rtt_p50_ns"] = 0.01;
  EXPECT_DOUBLE_EQ(threshold_for(p50, o), 0.01);
  EXPECT_DOUBLE_EQ(threshold_for(p99, o), 0.20);
}

TEST(CompareReports, IdenticalReportsHaveNoRegression) {
  const report r = load_report(fixture("baseline.json"));
  const comparison c = compare_reports(r, r, per_metric());
  EXPECT_EQ(c.summary.regressions, 0u);
  EXPECT_EQ(c.summary.improvements, 0u);
  // 5 latency benchmarks x 3 metrics (p50, p99, CPU) + 1 throughput x 2 (bytes/s, CPU)
  EXPECT_EQ(c.summary.unchanged, 17u);
  EXPECT_EQ(c.summary.missing, 0u);
  EXPECT_EQ(c.summary.added, 0u);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(exit_code(c, per_metric()), 0);
  for (const metric_result& m : c.results) {
    EXPECT_DOUBLE_EQ(m.result.ratio, 1.0) << m.name;
    EXPECT_EQ(m.baseline_n, 5u);
  }
}

TEST(CompareReports, FixtureRegressionsImprovementsAndMissing) {
  const report b = load_report(fixture("baseline.json"));
  const report c = load_report(fixture("contender.json"));
  const comparison out = compare_reports(b, c, per_metric());
  EXPECT_EQ(out.summary.regressions, 2u);
  EXPECT_EQ(out.summary.improvements, 2u);
  EXPECT_EQ(out.summary.unchanged, 7u);  // 3, and the CPU per message of 4 benchmarks
  EXPECT_EQ(out.summary.missing, 2u);    // shm_spin.futex gone, tcp failed
  EXPECT_EQ(out.summary.broken, 1u);     // tcp
  EXPECT_EQ(out.summary.added, 1u);      // eventfd
  EXPECT_EQ(exit_code(out, per_metric()), 1);

  auto find = [&](const std::string& name, const std::string& metric) -> const metric_result& {
    const auto it = std::find_if(out.results.begin(), out.results.end(), [&](const auto& r) {
      return r.name == name && r.metric == metric;
    });
    EXPECT_NE(it, out.results.end()) << name << " " << metric;
    return *it;
  };
  const metric_result& p50 = find("pipe/latency/64/cross", "rtt_p50_ns");
  EXPECT_EQ(p50.result.outcome, verdict::regression);
  EXPECT_DOUBLE_EQ(p50.result.baseline_median, 10050.0);
  EXPECT_DOUBLE_EQ(p50.result.contender_median, 12600.0);
  EXPECT_DOUBLE_EQ(p50.result.ratio, 12600.0 / 10050.0);
  EXPECT_EQ(find("pipe/latency/64/cross", "rtt_p99_ns").result.outcome, verdict::no_change);
  const metric_result& uds = find("unix_stream/throughput/65536/cross", "bytes_per_second");
  EXPECT_EQ(uds.result.outcome, verdict::regression);
  EXPECT_EQ(uds.better, direction::higher_is_better);
  EXPECT_DOUBLE_EQ(uds.result.ratio, 1.81e9 / 2.01e9);
  EXPECT_EQ(find("unix_dgram/latency/64/cross", "rtt_p50_ns").result.outcome, verdict::improvement);
  EXPECT_EQ(find("null/latency/64/none", "rtt_p50_ns").result.outcome, verdict::no_change);

  EXPECT_EQ(out.only_in_baseline, std::vector<std::string>{"shm_spin.futex/latency/64/same"});
  EXPECT_EQ(out.only_in_contender, std::vector<std::string>{"eventfd/latency/64/cross"});
  ASSERT_EQ(out.not_comparable.size(), 2u);
  EXPECT_EQ(out.not_comparable[0].name, "tcp/latency/64/cross");
  EXPECT_TRUE(out.not_comparable[0].lost);
  EXPECT_EQ(out.not_comparable[0].reason,
            "ok in baseline, failed in contender (integrity error: message 812 corrupted at "
            "byte 17)");
  EXPECT_EQ(out.not_comparable[1].name, "posix_mq/latency/1048576/cross");
  EXPECT_FALSE(out.not_comparable[1].lost);
  EXPECT_EQ(out.not_comparable[1].reason.rfind("skipped in both (message size 1048576", 0), 0u);

  // Different kernels: a warning, not a failure.
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("kernel 'Linux 6.1.0-13-amd64"), std::string::npos);
}

TEST(CompareReports, ABenchmarkLostInTheContenderFailsTheGate) {
  const report b = load_report(fixture("baseline.json"));
  const report c = load_report(fixture("contender.json"));
  gate_options o;
  o.metrics = {"rtt_p99_ns"};  // no regression on p99
  o.allow_untested = true;
  const comparison out = compare_reports(b, c, o);
  EXPECT_EQ(out.summary.regressions, 0u);
  // shm_spin.futex is gone, tcp failed its data check: both lost, tcp broken.
  EXPECT_EQ(out.summary.missing, 2u);
  EXPECT_EQ(out.summary.broken, 1u);
  EXPECT_EQ(exit_code(out, o), 1);
  // A deliberate removal may be allowed; a failure never is.
  o.allow_missing = true;
  EXPECT_EQ(exit_code(out, o), 1);

  // The same contender with tcp skipped instead of failed: allowed as a removal.
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(fixture("contender.json")));
  for (auto& e : doc["benchmarks"])
    if (e["name"] == "tcp/latency/64/cross") {
      e["status"] = "skipped";
      e["reason"] = "not available here";
    }
  const report skipped = parse_report(doc, "skipped.json");
  const comparison out2 = compare_reports(b, skipped, o);
  EXPECT_EQ(out2.summary.broken, 0u);
  EXPECT_EQ(out2.summary.missing, 2u);
  EXPECT_EQ(exit_code(out2, o), 0);
  o.allow_missing = false;
  EXPECT_EQ(exit_code(out2, o), 1);
}

// One side of an A/B job: `rounds` plain reports of one benchmark whose real_time in round i is
// values[i]. Folders of rounds merge into one report with a value per round (by_run).
report rounds_of(const std::vector<double>& values, const std::string& side) {
  std::vector<report> runs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const json doc = {{"context", json::object()},
                      {"benchmarks",
                       {{{"name", "x/1"},
                         {"run_name", "x/1"},
                         {"run_type", "iteration"},
                         {"real_time", values[i]},
                         {"time_unit", "ns"}}}}};
    runs.push_back(parse_report(doc, side + std::to_string(i)));
  }
  return merge_runs(runs);
}

TEST(PairedRounds, TheSignedRankTestRemovesTheDriftBetweenRounds) {
  // The machine drifts by up to 2.8x from round to round; in every round the contender is 10 %
  // slower. Over both sides' samples that is noise; round by round it is a regression.
  std::vector<double> base, cont;
  for (int i = 0; i < 12; ++i) {
    base.push_back(1000.0 * (1.0 + 2.0 * ((i * 7) % 12) / 12.0));
    cont.push_back(base.back() * 1.10);
  }
  const report b = rounds_of(base, "b"), c = rounds_of(cont, "c");
  gate_options unpaired;
  const comparison u = compare_reports(b, c, unpaired);
  ASSERT_EQ(u.results.size(), 1u);
  EXPECT_EQ(u.results[0].result.outcome, verdict::no_change);
  EXPECT_EQ(u.results[0].result.test, "mann-whitney");
  gate_options paired;
  paired.paired = true;
  const comparison p = compare_reports(b, c, paired);
  EXPECT_EQ(p.results[0].pairs, 12u);
  EXPECT_EQ(p.results[0].result.test, "signed-rank");
  EXPECT_DOUBLE_EQ(*p.results[0].result.p_value, 2.0 / 4096.0);
  EXPECT_EQ(p.results[0].result.outcome, verdict::regression);
  EXPECT_EQ(exit_code(p, paired), 1);
  // Four pairs cannot reach 0.05 (2/16 = 0.125): the rank test is used instead.
  const report b4 = rounds_of({1000, 1100, 1200, 1300}, "b"),
               c4 = rounds_of({1100, 1210, 1320, 1430}, "c");
  const comparison p4 = compare_reports(b4, c4, paired);
  EXPECT_EQ(p4.results[0].result.test, "mann-whitney");
}

TEST(MergeRuns, ABenchmarkAbsentFromARunCountsAsNotMeasuredThere) {
  const json one = {{"context", json::object()},
                    {"benchmarks",
                     {{{"name", "x/1"}, {"run_type", "iteration"}, {"real_time", 10}},
                      {{"name", "y/1"}, {"run_type", "iteration"}, {"real_time", 10}}}}};
  json without_y = one;
  without_y["benchmarks"].erase(1);
  const report merged =
      merge_runs({parse_report(one, "r1"), parse_report(without_y, "r2"), parse_report(one, "r3")});
  const benchmark_samples* y = merged.find("y/1");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->attempts, 3u);
  EXPECT_EQ(y->failures, 1u);
  EXPECT_EQ(y->status, run_status::skipped);
  EXPECT_EQ(y->reason, "absent from 1 of the runs");
  EXPECT_EQ(y->metrics.at("real_time").size(), 2u);
  EXPECT_EQ(merged.find("x/1")->failures, 0u);
}

TEST(PairedRounds, DetectableEffectShrinksWithTheSpreadPairingRemoves) {
  std::vector<double> base, cont;
  for (int i = 0; i < 12; ++i) {
    base.push_back(1000.0 * (1.0 + 2.0 * ((i * 7) % 12) / 12.0));
    cont.push_back(base.back() * (1.0 + 0.002 * (i % 3)));  // A/A with a little noise
  }
  const report b = rounds_of(base, "b"), c = rounds_of(cont, "c");
  gate_options unpaired, paired;
  paired.paired = true;
  const comparison u = compare_reports(b, c, unpaired);
  const comparison p = compare_reports(b, c, paired);
  ASSERT_TRUE(u.results[0].result.detectable);
  ASSERT_TRUE(p.results[0].result.detectable);
  EXPECT_GT(*u.results[0].result.detectable, 0.2);          // the drift hides anything smaller
  EXPECT_DOUBLE_EQ(*p.results[0].result.detectable, 0.05);  // the threshold binds
  EXPECT_EQ(p.detectable.metrics, 1u);
  EXPECT_DOUBLE_EQ(p.detectable.median, 0.05);
  EXPECT_EQ(p.detectable.largest_at, "x/1 real_time");
}

TEST(DefaultFamily, SizesThatAnswerTheQuestionsAndProcessesThatFitTheCpus) {
  const auto info = [](std::string_view name) { return *parse_name(name); };
  EXPECT_TRUE(in_default_family(info("pipe/latency/64/cross"), 2));
  EXPECT_TRUE(in_default_family(info("pipe/throughput/65536/cross"), 2));
  EXPECT_TRUE(in_default_family(info("pipe/throughput/1048576/cross"), 2));
  EXPECT_TRUE(in_default_family(info("eventfd/latency/0/cross"), 2));
  EXPECT_FALSE(in_default_family(info("pipe/latency/4097/cross"), 2));
  EXPECT_FALSE(in_default_family(info("pipe/throughput/65537/cross"), 2));
  // pairs/N runs 2N processes, fan_in/N and fan_out/N N + 1.
  EXPECT_TRUE(in_default_family(info("pipe/pairs/1/throughput/64/cross"), 2));
  EXPECT_FALSE(in_default_family(info("pipe/pairs/2/throughput/64/cross"), 2));
  EXPECT_TRUE(in_default_family(info("pipe/pairs/2/throughput/64/cross"), 4));
  EXPECT_FALSE(in_default_family(info("pipe/fan_in/2/throughput/64/cross"), 2));
  EXPECT_TRUE(in_default_family(info("pipe/fan_out/3/throughput/64/cross"), 4));
  EXPECT_TRUE(in_default_family(info("pipe/pairs/8/throughput/64/cross"), std::nullopt));
  // Plain Google Benchmark entries are all in it.
  EXPECT_TRUE(in_default_family(benchmark_info{}, 2));
}

TEST(DefaultFamily, BenchmarksOutsideItAreShownButNeverGated) {
  json doc = json::parse(std::ifstream(fixture("baseline.json")));
  json slower = doc;
  for (json* d : {&doc, &slower})
    for (auto& e : (*d)["benchmarks"])
      if (e["name"] == "pipe/latency/64/cross") {
        e["name"] = e["run_name"] = "pipe/latency/4097/cross";
        e["message_size"] = 4097;
      }
  for (auto& e : slower["benchmarks"])
    if (e["name"] == "pipe/latency/4097/cross" && e.contains("rtt_p50_ns"))
      e["rtt_p50_ns"] = e["rtt_p50_ns"].get<double>() * 1.5;
  const report b = parse_report(doc, "b"), c = parse_report(slower, "c");
  const comparison out = compare_reports(b, c, per_metric());
  EXPECT_EQ(out.summary.regressions, 0u);
  EXPECT_EQ(out.summary.not_gated, 3u);  // p50, p99 and CPU of pipe at 4097 B
  for (const auto& r : out.results)
    if (r.name == "pipe/latency/4097/cross") {
      EXPECT_EQ(r.result.outcome, verdict::not_gated);
      EXPECT_FALSE(r.gated);
    }
  gate_options all = per_metric();
  all.gate_all = true;
  EXPECT_EQ(compare_reports(b, c, all).summary.regressions, 1u);
}

TEST(GateOptions, DefaultIsFivePercentFamilyWiseWithHolm) {
  const gate_options o;
  EXPECT_DOUBLE_EQ(o.alpha, 0.05);
  EXPECT_EQ(o.family, correction::holm);
  EXPECT_EQ(std::string(to_string(correction::holm)), "holm");
}

TEST(CompareReports, PlainGoogleBenchmarkUsesRealTimeAndBytesPerSecond) {
  const report b = load_report(fixture("plain_baseline.json"));
  const report c = load_report(fixture("plain_contender.json"));
  gate_options o;
  o.alpha = 0.05;  // the fixture has 4 repetitions a side: the best p is 2/70 = 0.029
  const comparison out = compare_reports(b, c, o);
  ASSERT_EQ(out.results.size(), 4u);
  EXPECT_EQ(out.results[0].name, "BM_memcpy/4096");
  EXPECT_EQ(out.results[0].metric, "real_time");
  EXPECT_DOUBLE_EQ(out.results[0].result.baseline_median, 1200.0);  // ns
  EXPECT_NEAR(out.results[0].result.ratio, 1.10, 1e-12);
  EXPECT_EQ(out.results[0].result.outcome, verdict::regression);
  EXPECT_EQ(out.results[1].metric, "bytes_per_second");
  EXPECT_EQ(out.results[1].result.outcome, verdict::regression);
  EXPECT_EQ(out.results[2].name, "pipe/latency/64/cross/repeats:5");
  EXPECT_EQ(out.results[2].info.mechanism, "pipe");
  EXPECT_EQ(out.results[2].result.outcome, verdict::no_change);
  EXPECT_EQ(out.results[3].name, "BM_sleep/1");
  EXPECT_EQ(out.results[3].result.method, gate_method::untested);
  EXPECT_EQ(out.results[3].result.outcome, verdict::untested);
  ASSERT_EQ(out.not_comparable.size(), 1u);
  EXPECT_EQ(out.not_comparable[0].reason, "failed in both (connection refused)");
  // The 3 vs 3 benchmark is reported as untestable.
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("with 3 vs 3 repetitions untested"), std::string::npos)
      << out.warnings[0];
}

TEST(CompareReports, MachineWarnings) {
  json ctx_a = {{"host_name", "a"},
                {"num_cpus", 2},
                {"ipcbench", {{"cpu_model", "X"}, {"kernel", "Linux 6.1"}}}};
  json ctx_b = {{"host_name", "b"},
                {"num_cpus", 4},
                {"ipcbench", {{"cpu_model", "Y"}, {"kernel", "Linux 6.1"}}}};
  const json entries = {{{"name", "x"}, {"real_time", 1.0}}};
  const report a = parse_report({{"context", ctx_a}, {"benchmarks", entries}}, "a.json");
  const report b = parse_report({{"context", ctx_b}, {"benchmarks", entries}}, "b.json");
  const auto w = machine_warnings(a, b);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NE(w[0].find("host_name 'a' (baseline) vs 'b' (contender)"), std::string::npos);
  EXPECT_NE(w[1].find("cpu_model 'X' (baseline) vs 'Y' (contender)"), std::string::npos);
  EXPECT_NE(w[2].find("num_cpus 2 (baseline) vs 4 (contender)"), std::string::npos);
  EXPECT_TRUE(machine_warnings(a, a).empty());
}

// A report whose context.ipcbench.regimes holds these (cache-line median, share) pairs.
report with_regimes(const std::vector<std::pair<double, double>>& regimes,
                    const std::string& path = "r.json") {
  json list = json::array();
  for (const auto& [line, share] : regimes)
    list.push_back(
        {{"index", list.size()}, {"share", share}, {"cache_line_rtt_p50_ns", {{"median", line}}}});
  const json regime_doc = {{"floor", "cache_line_rtt_p50_ns"}, {"reference", 0}, {"regimes", list}};
  return parse_report({{"context", {{"ipcbench", {{"regimes", regime_doc}}}}},
                       {"benchmarks", {{{"name", "x"}, {"real_time", 1.0}}}}},
                      path);
}

TEST(Regimes, MixesThatDifferAreNamed) {
  const report a = with_regimes({{125, 0.47}, {545, 0.53}});
  const auto warning = [&](const report& b) {
    const auto c = compare_regimes(a, b, "baseline", "contender");
    return c ? c->warning : std::string("(no regimes)");
  };
  // The same mix within the tolerances: 25 % on the reference round trip, 0.2 on a share.
  EXPECT_EQ(warning(with_regimes({{156, 0.66}, {545, 0.34}})), "");
  EXPECT_EQ(warning(with_regimes({{130, 0.30}, {540, 0.70}})), "");
  // Shares 0.47 against 0.90: more than 0.2 apart.
  EXPECT_EQ(warning(with_regimes({{130, 0.90}, {540, 0.10}})),
            "the runs met the host's regimes in different mixes (shares more than 0.2 apart): "
            "baseline: 125 ns 47 %, 545 ns 53 %; contender: 130 ns 90 %, 540 ns 10 % (each "
            "regime's cache-line round trip and share of the repetitions); raw latencies are not "
            "comparable across them: --normalise wake or line compares multiples of the floors "
            "measured beside each repetition");
  EXPECT_NE(warning(with_regimes({{157, 0.47}, {545, 0.53}}))
                .find("(reference regimes more than 25 % apart): "),
            std::string::npos);
  EXPECT_NE(warning(with_regimes({{125, 1.0}})).find("(different numbers of regimes): "),
            std::string::npos);
  // Nothing when either side has none: an older report, or regimes null.
  const report old = parse_report({{"benchmarks", {{{"name", "x"}, {"real_time", 1.0}}}}}, "o");
  const report none = parse_report(
      {{"context", {{"ipcbench", {{"regimes", nullptr}}}}}, {"benchmarks", {{{"name", "x"}}}}},
      "n");
  EXPECT_FALSE(compare_regimes(a, old, "baseline", "contender"));
  EXPECT_FALSE(compare_regimes(none, a, "baseline", "contender"));
  EXPECT_FALSE(regimes_of(old));
  // The comparison carries the mixes, and the warning among its warnings.
  const comparison c =
      compare_reports(a, with_regimes({{130, 0.90}, {540, 0.10}}, "c.json"), per_metric());
  ASSERT_TRUE(c.regimes);
  EXPECT_EQ(c.regimes->b.regimes.size(), 2u);
  EXPECT_EQ(c.regimes->b.regimes[0].share, 0.90);
  EXPECT_EQ(std::count(c.warnings.begin(), c.warnings.end(), c.regimes->warning), 1);
  EXPECT_NE(render_table(c, false).find("Note: " + c.regimes->warning + "\n"), std::string::npos);
  const comparison same = compare_reports(a, a, per_metric());
  EXPECT_TRUE(same.regimes && same.regimes->warning.empty());
  EXPECT_EQ(render_table(same, false).find("Note: "), std::string::npos);
}

// A report whose regimes are (cache-line median, cache-line state, wake-up median, share).
report with_wake_states(const std::vector<std::tuple<double, int, double, double>>& regimes,
                        const std::string& path = "w.json") {
  json list = json::array();
  for (const auto& [line, state, wake, share] : regimes)
    list.push_back({{"index", list.size()},
                    {"share", share},
                    {"cache_line_state", state},
                    {"cache_line_rtt_p50_ns", {{"median", line}}},
                    {"wakeup_rtt_p50_ns", {{"median", wake}}}});
  const json regime_doc = {{"floor", "cache_line_rtt_p50_ns"}, {"reference", 0}, {"regimes", list}};
  return parse_report({{"context", {{"ipcbench", {{"regimes", regime_doc}}}}},
                       {"benchmarks", {{{"name", "x"}, {"real_time", 1.0}}}}},
                      path);
}

TEST(Regimes, WakeUpStatesOfOneCacheLineStateAreDifferentStates) {
  // A: the slow cache-line state at a wake-up round trip of 8.7 us, then 22.7 us; B: 8.4 us only.
  const auto a = regimes_of(with_wake_states({{488, 1, 8700, 0.65}, {488, 1, 22700, 0.35}}));
  const auto b = regimes_of(with_wake_states({{500, 0, 8400, 1.0}}));
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->split_by_wake(0));
  EXPECT_FALSE(b->split_by_wake(0));
  EXPECT_TRUE(same_state(*a, 0, *b, 0));
  EXPECT_FALSE(same_state(*a, 1, *b, 0));
  EXPECT_FALSE(same_state(*b, 0, *a, 1));
  // Reports that do not tell wake-up states apart match on the cache-line round trip alone, as
  // before, whatever their wake-up medians.
  const auto c = regimes_of(with_wake_states({{490, 0, 15000, 1.0}}));
  ASSERT_TRUE(c);
  EXPECT_TRUE(same_state(*b, 0, *c, 0));
  // The mix names each split regime's wake-up round trip.
  const auto cmp = compare_regimes(with_wake_states({{488, 1, 8700, 0.65}, {488, 1, 22700, 0.35}}),
                                   with_wake_states({{500, 0, 8400, 1.0}}), "A", "B");
  ASSERT_TRUE(cmp);
  EXPECT_NE(cmp->warning.find("A: 488 ns (wake-up 8.7 us) 65 %, 488 ns (wake-up 22.7 us) 35 %; "
                              "B: 500 ns 100 %"),
            std::string::npos)
      << cmp->warning;
}

TEST(Regimes, AMergedSideIsJudgedByItsFirstRunAndSaysSo) {
  const report merged = merge_runs({with_regimes({{125, 0.47}, {545, 0.53}}, "r1"),
                                    with_regimes({{125, 0.90}, {545, 0.10}}, "r2")});
  const auto c =
      compare_regimes(merged, with_regimes({{130, 0.90}, {540, 0.10}}), "baseline", "contender");
  ASSERT_TRUE(c);
  EXPECT_NE(c->warning.find("baseline (first of 2 runs): 125 ns 47 %, 545 ns 53 %; contender: "
                            "130 ns 90 %"),
            std::string::npos)
      << c->warning;
}

TEST(CompareReports, NothingInCommonIsBadInput) {
  const report b = load_report(fixture("baseline.json"));
  const report u = load_report(fixture("unrelated.json"));
  EXPECT_THROW(compare_reports(b, u, {}), input_error);
}

TEST(CompareReports, SelectedMetricsAbsentFromBothIsBadInput) {
  const report b = load_report(fixture("plain_baseline.json"));
  gate_options o;
  o.metrics = {"rtt_p50_ns"};
  EXPECT_THROW(compare_reports(b, b, o), input_error);
}

TEST(CompareReports, MetricOnlyInOneReportIsListed) {
  const report a = parse_report({{"benchmarks", {{{"name", "x"}, {"real_time", 1.0}}}}}, "a");
  const report b = parse_report(
      {{"benchmarks", {{{"name", "x"}, {"real_time", 1.0}, {"bytes_per_second", 5.0}}}}}, "b");
  const comparison out = compare_reports(a, b, {});
  ASSERT_EQ(out.results.size(), 1u);
  ASSERT_EQ(out.not_comparable.size(), 1u);
  EXPECT_EQ(out.not_comparable[0].reason, "bytes_per_second only in contender");
}

TEST(Output, JsonHasTheAgreedKeys) {
  const report b = load_report(fixture("baseline.json"));
  const report c = load_report(fixture("contender.json"));
  const json doc = json::parse(to_json(compare_reports(b, c, per_metric())).dump());
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "alpha", "baseline", "contender", "correction", "detectable_effect", "family",
                      "family_size", "not_comparable", "only_in_baseline", "only_in_contender",
                      "paired", "results", "runs", "summary", "test", "undecided", "warnings"}));
  EXPECT_EQ(doc["correction"], "none");
  EXPECT_EQ(doc["family_size"], 11);
  EXPECT_EQ(doc["family"], json({{"rule", "default"}, {"size", 11}}));
  EXPECT_EQ(doc["paired"], false);
  EXPECT_TRUE(doc["undecided"].is_null());
  EXPECT_EQ(doc["detectable_effect"]["metrics"], 11);
  EXPECT_EQ(doc["runs"], json({{"baseline", 1}, {"contender", 1}}));
  const json& r = doc["results"][0];
  EXPECT_EQ(r["name"], "pipe/latency/64/cross");
  EXPECT_EQ(r["id"], "pipe");
  EXPECT_EQ(r["mechanism"], "pipe");
  EXPECT_EQ(r["variant"], "default");
  EXPECT_EQ(r["pattern"], "latency");
  EXPECT_EQ(r["message_size"], 64);
  EXPECT_EQ(r["placement"], "cross");
  EXPECT_EQ(r["metric"], "rtt_p50_ns");
  EXPECT_EQ(r["direction"], "lower_is_better");
  EXPECT_EQ(r["baseline"], json({{"median", 10050.0}, {"n", 5}}));
  EXPECT_EQ(r["contender"], json({{"median", 12600.0}, {"n", 5}}));
  EXPECT_DOUBLE_EQ(r["ratio"].get<double>(), 12600.0 / 10050.0);
  EXPECT_DOUBLE_EQ(r["p_value"].get<double>(), 2.0 / 252.0);
  EXPECT_DOUBLE_EQ(r["threshold"].get<double>(), 0.05);
  EXPECT_EQ(r["method"], "significance+threshold");
  EXPECT_EQ(r["verdict"], "regression");
  EXPECT_EQ(r["test"], "mann-whitney");
  EXPECT_GE(r["detectable"].get<double>(), 0.05);  // never below the threshold
  EXPECT_EQ(doc["summary"], json({{"regressions", 2},
                                  {"improvements", 2},
                                  {"unchanged", 7},
                                  {"untested", 0},
                                  {"missing", 2},
                                  {"new", 1},
                                  {"failed", 1},
                                  {"not_gated", 0}}));
  EXPECT_EQ(doc["not_comparable"][0],
            json({{"name", "tcp/latency/64/cross"},
                  {"reason",
                   "ok in baseline, failed in contender (integrity error: message 812 "
                   "corrupted at byte 17)"},
                  {"lost", true},
                  {"failed", true}}));
}

TEST(Output, SummaryLineIsLastInTableAndMarkdown) {
  const report b = load_report(fixture("baseline.json"));
  const report c = load_report(fixture("contender.json"));
  const comparison out = compare_reports(b, c, per_metric());
  const std::string expected =
      "2 regressions, 2 improvements, 7 unchanged, 0 untested, 2 missing (1 failed), 1 new, 2 not "
      "comparable";
  EXPECT_EQ(summary_line(out), expected);
  const std::string table = render_table(out, false);
  EXPECT_EQ(table.substr(table.size() - expected.size() - 1), expected + "\n");
  EXPECT_EQ(table.find('\033'), std::string::npos);
  EXPECT_NE(render_table(out, true).find("\033[1;31mregression\033[0m"), std::string::npos);
  const std::string md = render_markdown(out);
  EXPECT_EQ(md.substr(md.size() - expected.size() - 5), "**" + expected + "**\n");
  EXPECT_NE(md.find("> **Warning:**"), std::string::npos);
  EXPECT_NE(md.find("### Regressions (2)"), std::string::npos);
}

TEST(CompareReports, FiveRepetitionsUnderAFamilyAreUntestedAndUndecided) {
  const report b = load_report(fixture("baseline.json"));
  const report baseline_again = load_report(fixture("baseline.json"));
  const comparison out = compare_reports(b, baseline_again, {});  // Holm at 0.05
  EXPECT_EQ(out.summary.regressions, 0u);
  EXPECT_EQ(out.summary.improvements, 0u);
  EXPECT_EQ(out.summary.untested, 17u);
  EXPECT_EQ(out.family_size, 0u);
  EXPECT_EQ(exit_code(out, {}), 0);  // nothing found: never a regression...
  // ... but not a quiet pass either: the comparison says it could not decide, and what it needs.
  EXPECT_EQ(out.undecided.count, 17u);
  EXPECT_EQ(out.undecided.baseline_n, 5u);
  EXPECT_EQ(out.undecided.needed, 6u);  // 2 / C(12, 6) = 0.00216 < 0.05 / 17
  EXPECT_EQ(undecided_message(out, false),
            "cannot decide: 17 gated metrics have as few as 5 vs 5 repetitions, whose smallest "
            "possible p (0.00794) cannot reach the 0.00294 that Holm needs over a family of 17 "
            "metrics; each side needs 6 repetitions (--allow-untested shows the ratios anyway)");
  for (const auto& r : out.results) {
    EXPECT_EQ(r.result.outcome, verdict::untested) << r.name;
    EXPECT_NE(r.result.untested_reason.find("needs 6 per side"), std::string::npos)
        << r.result.untested_reason;
  }
  ASSERT_FALSE(out.warnings.empty());
  EXPECT_NE(out.warnings.back().find("use at least 6 repetitions a side"), std::string::npos)
      << out.warnings.back();
}

TEST(CompareReports, TailPercentilesWithoutEnoughRoundTripsAreUntested) {
  auto entry = [](double p50, json p99, int messages) {
    return json{{"name", "pipe/latency/64/cross"},
                {"run_name", "pipe/latency/64/cross"},
                {"run_type", "iteration"},
                {"pattern", "latency"},
                {"rtt_p50_ns", p50},
                {"rtt_p99_ns", p99},
                {"messages", messages},
                {"status", "ok"}};
  };
  json a = json::array(), b = json::array();
  for (int i = 0; i < 8; ++i) {
    a.push_back(entry(1000 + i, nullptr, 400));
    b.push_back(entry(2000 + i, nullptr, 400));
  }
  const report ra = parse_report({{"benchmarks", a}}, "a.json");
  const report rb = parse_report({{"benchmarks", b}}, "b.json");
  const comparison out = compare_reports(ra, rb, {});
  ASSERT_EQ(out.results.size(), 2u);
  EXPECT_EQ(out.results[0].metric, "rtt_p50_ns");
  EXPECT_EQ(out.results[0].result.outcome, verdict::regression);  // 8 vs 8, family of 1
  EXPECT_EQ(out.results[1].metric, "rtt_p99_ns");
  EXPECT_EQ(out.results[1].result.outcome, verdict::untested);
  EXPECT_NE(out.results[1].result.untested_reason.find(
                "rtt_p99_ns needs at least 1000 samples per repetition; had 400"),
            std::string::npos)
      << out.results[1].result.untested_reason;
  EXPECT_EQ(out.family_size, 1u);
}

TEST(CompareReports, ConditionsThatDifferAreNamed) {
  auto ctx = [](const char* idle, const char* placement) {
    return json{{"ipcbench",
                 {{"idle_states", {{"in_force", idle}}},
                  {"placement", placement},
                  {"cpuidle", {{"driver", "haltpoll"}}}}}};
  };
  const json entries = {{{"name", "x"}, {"real_time", 1.0}}};
  const report a = parse_report({{"context", ctx("held", "cross")}, {"benchmarks", entries}}, "a");
  const report b =
      parse_report({{"context", ctx("allowed", "cross")}, {"benchmarks", entries}}, "b");
  const report c = parse_report({{"context", ctx("held", "same")}, {"benchmarks", entries}}, "c");
  EXPECT_TRUE(condition_warnings(a, a).empty());
  const auto w = condition_warnings(a, b);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "the runs differ in idle-state mode: 'held' (baseline) vs 'allowed' (contender); "
            "their numbers are not comparable");
  ASSERT_EQ(condition_warnings(a, c).size(), 1u);
  EXPECT_NE(condition_warnings(a, c)[0].find("placement"), std::string::npos);
}

// A report of one plain benchmark run under `ctx`, named `path`.
report one_benchmark_under(const json& ctx, const std::string& path) {
  return parse_report({{"context", ctx}, {"benchmarks", {{{"name", "x"}, {"real_time", 1.0}}}}},
                      path);
}

// Where a library's threads ran moves only ZeroMQ's, nng's and gRPC's numbers: a difference is
// warned, never refused. A report from before --library-threads ran them free and records no
// mode: against a free run it is no difference, against a pinned one it is.
TEST(CompareReports, LibraryThreadsThatDifferAreNamedNotRefused) {
  auto with = [](const char* mode) {
    json ctx = {{"ipcbench", {{"placement", "cross"}}}};
    if (mode != nullptr) ctx["ipcbench"]["library_threads"] = mode;
    return one_benchmark_under(ctx, mode != nullptr ? mode : "old");
  };
  const report old = with(nullptr), pinned = with("pinned"), unpinned = with("free");
  for (const report* b : {&old, &pinned, &unpinned})
    for (const report* c : {&old, &pinned, &unpinned})
      EXPECT_TRUE(condition_warnings(*b, *c).empty()) << b->path() << " " << c->path();
  EXPECT_TRUE(condition_notes(pinned, pinned).empty());
  EXPECT_TRUE(condition_notes(old, unpinned).empty());
  ASSERT_EQ(condition_notes(old, pinned).size(), 1u);
  EXPECT_EQ(condition_notes(old, pinned)[0],
            "the runs differ in library threads: 'free' (baseline, unrecorded: from before "
            "--library-threads) vs 'pinned' (contender); ZeroMQ's, nng's and gRPC's numbers moved "
            "with it, the other mechanisms' did not");
  ASSERT_EQ(condition_notes(pinned, unpinned).size(), 1u);
  EXPECT_NE(condition_notes(pinned, unpinned)[0].find("'free' (contender)"), std::string::npos);
  // compare_reports passes it on among its warnings.
  const comparison cmp = compare_reports(old, pinned, gate_options{});
  EXPECT_NE(std::find(cmp.warnings.begin(), cmp.warnings.end(), condition_notes(old, pinned)[0]),
            cmp.warnings.end());
}

// Runs whose hosts stole very different shares of the CPUs' time are named, never refused:
// 1 % or more in one, and at least twice the other's.
TEST(CompareReports, StealTimesThatDifferAreNamed) {
  auto with = [](std::optional<double> steal) {
    json ctx = {{"ipcbench", {{"placement", "cross"}, {"run_conditions", json::object()}}}};
    if (steal) ctx["ipcbench"]["run_conditions"]["steal_fraction"] = *steal;
    return one_benchmark_under(ctx, "r");
  };
  const report quiet = with(0.006), busy = with(0.050), busier = with(0.011), none = with({});
  EXPECT_TRUE(condition_warnings(quiet, busy).empty());
  ASSERT_EQ(condition_notes(quiet, busy).size(), 1u);
  EXPECT_EQ(condition_notes(quiet, busy)[0],
            "the host stole 0.6 % of the CPUs' time during the baseline and 5.0 % during the "
            "contender (run_conditions.steal_fraction): the estimates leave out the repetitions it "
            "stole from, but a busier host moves the others too");
  EXPECT_EQ(condition_notes(busy, quiet).size(), 1u);
  EXPECT_TRUE(condition_notes(quiet, busier).empty());             // 1.1 % is under twice 0.6 %
  EXPECT_TRUE(condition_notes(with(0.001), with(0.009)).empty());  // both under 1 %
  EXPECT_TRUE(condition_notes(none, busy).empty());                // not recorded on one side
}

TEST(MergeRuns, EachRunContributesItsMedian) {
  auto run = [](std::vector<double> values, const char* path) {
    json entries = json::array();
    for (double v : values)
      entries.push_back({{"name", "x"},
                         {"run_name", "x"},
                         {"run_type", "iteration"},
                         {"real_time", v},
                         {"time_unit", "ns"}});
    return parse_report({{"benchmarks", entries}}, path);
  };
  const report merged = merge_runs({run({1, 2, 9}, "a"), run({4}, "b"), run({5, 7}, "c")});
  const auto* x = merged.find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->metrics.at("real_time"), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(merged.path(), "a and 2 more");
  EXPECT_TRUE(merged.origin().run_medians);
  // One run is itself, its repetitions the samples, unless it stands as one sample.
  const report alone = merge_runs({run({1, 2, 9}, "a")});
  EXPECT_EQ(alone.find("x")->metrics.at("real_time"), (std::vector<double>{1, 2, 9}));
  EXPECT_FALSE(alone.origin().run_medians);
  const report one = merge_runs({run({1, 2, 9}, "a")}, /*one_run_as_sample=*/true);
  EXPECT_EQ(one.find("x")->metrics.at("real_time"), (std::vector<double>{2}));
  EXPECT_EQ(one.path(), "a");
  EXPECT_EQ(one.origin().runs, 1u);
  EXPECT_TRUE(one.origin().run_medians);
}

}  // namespace
}  // namespace ipcbench::compare
