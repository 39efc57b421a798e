// Google Benchmark in-process: repetitions of one benchmark that fail beside repetitions that run
// must neither abort the program nor enter the aggregates; the report builder writes Google
// Benchmark's fields and ours, with null for numbers JSON cannot hold.
#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/session.hpp"
#include "cli/cli.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

class collecting_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& report) override {
    runs.insert(runs.end(), report.begin(), report.end());
  }
  std::vector<Run> runs;
};

schema::repetition_fields repetition(schema::status state, std::string reason = {}) {
  schema::repetition_fields r;
  r.state = state;
  r.reason = std::move(reason);
  return r;
}

// A repetition right after another takes that one's "after" cache-line round trip as its own
// "before": nothing is measured again, and the regime and moved() read the value given.
TEST(AdjacentFloors, ARoundTripJustMeasuredIsTakenInsteadOfMeasuringItAgain) {
  cpu_choice cpus;
  cpus.producer = 0;
  cpus.consumer = 0;
  const adjacent_floors f = measure_adjacent_floors(cpus, pattern::latency, 64, false, 123.0);
  ASSERT_TRUE(f.line_rtt_p50_ns.has_value());
  EXPECT_EQ(*f.line_rtt_p50_ns, 123.0);
  EXPECT_FALSE(f.wake_rtt_p50_ns.has_value());  // no bounds asked for
  EXPECT_FALSE(f.line_after_rtt_p50_ns.has_value());
}

// A throughput repetition's copy floor is measured after it, not before. One that beat that floor,
// or came within 10 % of it, has the floor measured once more, longer, and the higher kept; one
// far below it does not.
TEST(AdjacentFloors, ACopyFloorTheRepetitionCameCloseToIsMeasuredAgainLonger) {
  const std::vector<int> allowed = allowed_cpus();
  if (allowed.size() < 2) GTEST_SKIP() << "the copy floor is measured between two CPUs";
  cpu_choice cpus;
  cpus.producer = allowed.front();
  cpus.consumer = allowed.back();
  for (const bool close : {false, true}) {
    adjacent_floors f = measure_adjacent_floors(cpus, pattern::throughput, 65536, true);
    EXPECT_TRUE(f.copy_after);
    EXPECT_FALSE(f.copy_bytes_per_second.has_value());  // none before the repetition
    // 1 B/s is far below any floor; 1 PB/s beats every one.
    measure_floors_after(f, cpus, pattern::throughput, 65536, nullptr, close ? 1e15 : 1.0);
    ASSERT_TRUE(f.copy_bytes_per_second.has_value());
    EXPECT_GT(*f.copy_bytes_per_second, 0);
    EXPECT_EQ(f.copy_remeasured, close);
    EXPECT_EQ(adjacent_floors_json(f).contains("copy_floor_remeasured_s"), close);
  }
  // Latency has no copy floor to measure again.
  adjacent_floors l = measure_adjacent_floors(cpus, pattern::latency, 64, true);
  measure_floors_after(l, cpus, pattern::latency, 64, nullptr, 1e15);
  EXPECT_FALSE(l.copy_remeasured);
}

TEST(SizingHint, AFirstRepetitionTakesTheLargestSmallerSizeThatHasRun) {
  // 64 B and 4 KiB have run, 64 KiB has not, 1 MiB has.
  const std::vector<std::pair<std::size_t, double>> sizes = {
      {64, 8'000}, {4096, 9'000}, {65536, 0}, {1 << 20, 500'000}};
  EXPECT_EQ(hint_from_smaller(sizes, 65536), 9'000);  // 4 KiB's, not 1 MiB's
  EXPECT_EQ(hint_from_smaller(sizes, 4097), 9'000);
  EXPECT_EQ(hint_from_smaller(sizes, 4096), 8'000);  // never its own size's
  EXPECT_EQ(hint_from_smaller(sizes, 64), 0);        // nothing smaller has run
  EXPECT_EQ(hint_from_smaller(sizes, 4 << 20), 500'000);
  EXPECT_EQ(hint_from_smaller({}, 64), 0);
}

TEST(SizingHint, ARoundTripWithoutOneIsSizedFromTheWakeUpFloorBesideIt) {
  EXPECT_EQ(sizing_basis(9'000, pattern::latency, 25'000.0), 9'000);  // its own hint first
  EXPECT_EQ(sizing_basis(0, pattern::latency, 25'000.0), 25'000);     // else the floor
  EXPECT_EQ(sizing_basis(0, pattern::latency, std::nullopt), 0);      // no floor: the full run
  EXPECT_EQ(sizing_basis(0, pattern::latency, 0.0), 0);
  EXPECT_EQ(sizing_basis(0, pattern::throughput, 25'000.0), 0);  // a stream: no such floor
  EXPECT_EQ(sizing_basis(7'000, pattern::throughput, std::nullopt), 7'000);
}

TEST(GoogleBenchmark, FailedRepetitionBesideGoodOnesIsReportedNotFatal) {
  int call = 0;
  benchmark::RegisterBenchmark(
      "mixed",
      [&call](benchmark::State& state) {
        if (call++ % 2 == 1) {  // the second repetition fails, after a good one
          skip_run(state, "failed: on purpose");
          return;
        }
        for (auto _ : state) state.SetIterationTime(1e-6);
      })
      ->Iterations(1)
      ->UseManualTime()
      ->Repetitions(3);
  collecting_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, "^mixed");
  int errors = 0, aggregates = 0;
  for (const auto& r : reporter.runs) {
    if (r.error_occurred) {
      ++errors;
      EXPECT_EQ(r.error_message, "failed: on purpose");
    }
    if (r.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate) {
      ++aggregates;
      if (r.aggregate_name == "mean") {
        EXPECT_NEAR(r.GetAdjustedRealTime(), 1000.0, 1.0);  // ns: the failed repetition left out
      }
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_GT(aggregates, 0);
  benchmark::ClearRegisteredBenchmarks();
}

using gb_run = benchmark::BenchmarkReporter::Run;

gb_run iteration_run(const std::string& name, std::int64_t index) {
  gb_run r;
  r.run_name.function_name = name;
  r.run_name.iterations = "iterations:1";
  r.run_name.time_type = "manual_time";
  r.family_index = 3;
  r.per_family_instance_index = 0;
  r.repetitions = 2;
  r.repetition_index = index;
  r.iterations = 1;
  r.time_unit = benchmark::kMicrosecond;
  r.real_accumulated_time = 2e-6;
  r.cpu_accumulated_time = 1e-6;
  return r;
}

TEST(ReportBuilder, RunHasGoogleBenchmarksFieldsAndNullForNonFinite) {
  gb_run r = iteration_run("pipe/latency/64/cross", 1);
  r.counters["messages"] = 10;
  r.counters["nan"] = std::numeric_limits<double>::quiet_NaN();
  r.counters["inf"] = -std::numeric_limits<double>::infinity();
  const auto j = gbench_run_json(r);
  EXPECT_EQ(j.at("name"), "pipe/latency/64/cross/iterations:1/manual_time");
  EXPECT_EQ(j.at("run_name"), "pipe/latency/64/cross/iterations:1/manual_time");
  EXPECT_EQ(j.at("run_type"), "iteration");
  EXPECT_EQ(j.at("family_index"), 3);
  EXPECT_EQ(j.at("per_family_instance_index"), 0);
  EXPECT_EQ(j.at("repetitions"), 2);
  EXPECT_EQ(j.at("repetition_index"), 1);
  EXPECT_EQ(j.at("threads"), 1);
  EXPECT_EQ(j.at("iterations"), 1);
  EXPECT_DOUBLE_EQ(j.at("real_time").get<double>(), 2.0);  // us per iteration
  EXPECT_DOUBLE_EQ(j.at("cpu_time").get<double>(), 1.0);
  EXPECT_EQ(j.at("time_unit"), "us");
  EXPECT_DOUBLE_EQ(j.at("messages").get<double>(), 10.0);
  EXPECT_TRUE(j.at("nan").is_null());
  EXPECT_TRUE(j.at("inf").is_null());
  EXPECT_FALSE(j.contains("error_occurred"));
  EXPECT_FALSE(j.contains("aggregate_name"));
  EXPECT_FALSE(j.contains("label"));

  r.error_occurred = true;
  r.error_message = "skipped: too big";
  r.report_label = "a label";
  const auto e = gbench_run_json(r);
  EXPECT_EQ(e.at("error_occurred"), true);
  EXPECT_EQ(e.at("error_message"), "skipped: too big");
  EXPECT_EQ(e.at("label"), "a label");
}

TEST(ReportBuilder, AggregateRowsHaveTheirNameAndUnit) {
  gb_run r = iteration_run("pipe/latency/64/cross", 0);
  r.run_type = gb_run::RT_Aggregate;
  r.aggregate_name = "cv";
  r.aggregate_unit = benchmark::kPercentage;
  r.real_accumulated_time = 0.25;  // a ratio, written as it is
  r.cpu_accumulated_time = std::numeric_limits<double>::quiet_NaN();
  const auto j = gbench_run_json(r);
  EXPECT_EQ(j.at("name"), "pipe/latency/64/cross/iterations:1/manual_time_cv");
  EXPECT_EQ(j.at("run_type"), "aggregate");
  EXPECT_EQ(j.at("aggregate_name"), "cv");
  EXPECT_EQ(j.at("aggregate_unit"), "percentage");
  EXPECT_FALSE(j.contains("repetition_index"));
  EXPECT_DOUBLE_EQ(j.at("real_time").get<double>(), 0.25);
  EXPECT_TRUE(j.at("cpu_time").is_null());
}

TEST(ReportBuilder, EntriesCarryOurFieldsUnderReportNames) {
  report_extras extras;
  extras.set_static("pipe/latency/64/cross", {.mechanism = "pipe",
                                              .variant = "default",
                                              .id = "pipe",
                                              .family = "pipes",
                                              .pattern = "latency",
                                              .message_size = 64,
                                              .placement = "cross",
                                              .process = "fork"});
  schema::repetition_fields ok = repetition(schema::status::ok);
  ok.integrity_errors = 0;
  ok.cpus = std::array<int, 2>{0, 1};
  extras.add_repetition("pipe/latency/64/cross", ok);
  schema::repetition_fields lossy = repetition(schema::status::failed, "lost 1");
  lossy.loss = schema::loss_counts{1, 0, 0, 0, std::nullopt};
  extras.add_repetition("pipe/latency/64/cross", lossy);
  report_builder builder(extras);
  gb_run mean = iteration_run("pipe/latency/64/cross", 0);
  mean.run_type = gb_run::RT_Aggregate;
  mean.aggregate_name = "mean";
  builder.ReportRuns(
      {iteration_run("pipe/latency/64/cross", 0), iteration_run("pipe/latency/64/cross", 1), mean});
  const auto& entries = builder.document().at("benchmarks");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(builder.document().at("context").is_object());
  for (const auto& e : entries) {
    EXPECT_EQ(e.at("run_name"), "pipe/latency/64/cross");
    EXPECT_EQ(e.at("mechanism"), "pipe");
    EXPECT_EQ(e.at("message_size"), 64);
    EXPECT_EQ(e.at("process"), "fork");
  }
  EXPECT_EQ(entries[0].at("name"), "pipe/latency/64/cross");
  EXPECT_EQ(entries[0].at("status"), "ok");
  EXPECT_EQ(entries[0].at("cpus"), nlohmann::json::array({0, 1}));
  EXPECT_FALSE(entries[0].contains("lost"));
  EXPECT_EQ(entries[1].at("status"), "failed");
  EXPECT_EQ(entries[1].at("reason"), "lost 1");
  EXPECT_EQ(entries[1].at("lost"), 1);
  EXPECT_FALSE(entries[1].contains("cpus"));
  EXPECT_EQ(entries[2].at("name"), "pipe/latency/64/cross_mean");
  EXPECT_EQ(entries[2].at("status"), "ok");
  EXPECT_EQ(entries[2].at("reason"), "");
}

TEST(ReportBuilder, RealRunWritesNullForANonFiniteAggregate) {
  // A counter that is 0 in every repetition has a coefficient of variation of 0/0.
  report_extras extras;
  benchmark::RegisterBenchmark("constant",
                               [](benchmark::State& state) {
                                 for (auto _ : state) state.SetIterationTime(1e-6);
                                 state.counters["zero"] = 0;
                               })
      ->Iterations(1)
      ->UseManualTime()
      ->Repetitions(3);
  report_builder builder(extras);
  collecting_reporter display;
  tee_reporter tee(display, builder);
  benchmark::RunSpecifiedBenchmarks(&tee, "^constant");
  benchmark::ClearRegisteredBenchmarks();
  const auto& doc = builder.document();
  EXPECT_TRUE(doc.at("context").contains("host_name"));
  EXPECT_TRUE(doc.at("context").contains("library_build_type"));
  EXPECT_EQ(doc.at("context").at("date").get<std::string>().size(), 25u);  // RFC 3339
  bool saw_cv = false;
  for (const auto& e : doc.at("benchmarks")) {
    if (e.value("aggregate_name", "") == "cv") {
      saw_cv = true;
      EXPECT_TRUE(e.at("zero").is_null()) << e.dump();
    }
  }
  EXPECT_TRUE(saw_cv);
  EXPECT_EQ(display.runs.size(), doc.at("benchmarks").size());
  // The document survives a round trip through text: no NaN or Infinity words.
  EXPECT_EQ(nlohmann::json::parse(doc.dump()), doc);
}

TEST(Filter, SelectsByTheReportNameOrGoogleBenchmarksAndNegates) {
  std::vector<bench_case> cases(3);
  cases[0].name = "pipe/latency/64/cross";
  cases[1].name = "pipe/latency/640/cross";
  cases[2].name = "fifo/latency/64/cross";
  auto names = [&](const std::string& filter) {
    std::vector<std::string> out;
    for (const auto& c : select_matching(cases, filter)) out.push_back(c.name);
    return out;
  };
  EXPECT_EQ(names("^pipe/latency/64/cross$"), std::vector<std::string>{"pipe/latency/64/cross"});
  EXPECT_EQ(names("/64/cross/iterations:1/manual_time$"),
            (std::vector<std::string>{"pipe/latency/64/cross", "fifo/latency/64/cross"}));
  EXPECT_EQ(names("-^pipe/"), std::vector<std::string>{"fifo/latency/64/cross"});
  EXPECT_EQ(names("all").size(), 3u);
  EXPECT_TRUE(names("^udp").empty());
  EXPECT_THROW(names("(("), usage_error);
}

}  // namespace
}  // namespace ipcbench
