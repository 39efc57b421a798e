// Google Benchmark in-process: repetitions of one benchmark that fail beside repetitions that run
// must neither abort the program nor enter the aggregates.
#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/report.hpp"

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

TEST(GoogleBenchmark, FirstRepetitionFailedBlocksTheOthersSoNothingCrashes) {
  // Google Benchmark 1.7 crashes computing aggregates when the first repetition errored and two
  // or more later ones ran; run_case asks repetition_blocked() and skips the rest instead.
  report_extras extras;
  int call = 0;
  benchmark::RegisterBenchmark(
      "first_fails",
      [&](benchmark::State& state) {
        const int rep = call++;
        if (std::string why = extras.repetition_blocked("first_fails"); !why.empty()) {
          extras.add_repetition("first_fails", {{"status", "skipped"}, {"reason", why}});
          skip_run(state, "skipped: " + why);
          return;
        }
        if (rep == 0) {
          extras.add_repetition("first_fails", {{"status", "failed"}, {"reason", "on purpose"}});
          skip_run(state, "failed: on purpose");
          return;
        }
        extras.add_repetition("first_fails", {{"status", "ok"}});
        for (auto _ : state) state.SetIterationTime(1e-6);
        state.counters["rtt_p50_ns"] = 2;
      })
      ->Iterations(1)
      ->UseManualTime()
      ->Repetitions(4);
  collecting_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, "^first_fails");
  int errors = 0;
  for (const auto& r : reporter.runs) {
    EXPECT_NE(r.run_type, benchmark::BenchmarkReporter::Run::RT_Aggregate);
    if (r.error_occurred) ++errors;
  }
  EXPECT_EQ(errors, 4);
  EXPECT_EQ(call, 4);
  EXPECT_NE(extras.repetition_blocked("first_fails").find("repetition 1 failed (on purpose)"),
            std::string::npos);
  benchmark::ClearRegisteredBenchmarks();
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

}  // namespace
}  // namespace ipcbench
