// Reporting: what each benchmark run adds beyond Google Benchmark's fields (as the report
// schema's structs, assembled from the run), the reporter that builds the report from Google
// Benchmark's runs next to the display, and the progress display. Coordinator side.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "harness/session.hpp"
#include "report/schema.hpp"

namespace ipcbench {

// Google Benchmark appends this to every name registered with Iterations(1) and UseManualTime();
// reports drop it so names read <id>/<pattern>/<size>/<placement>.
inline constexpr const char* kGoogleSuffix = "/iterations:1/manual_time";
std::string report_name(std::string gb_name);

// Reports a skipped or failed repetition. It runs the one iteration and skips inside it: Google
// Benchmark 1.7 checks that every repetition of a benchmark has the same iteration count before it
// leaves errored ones out of the aggregates, and aborts the whole program when a repetition that
// returned before its loop (0 iterations) sits beside one that ran. (The bench program hands it
// one repetition at a time, one per round, and a benchmark that failed runs no further round.)
void skip_run(benchmark::State& state, const std::string& message);

// What one repetition of `c` adds to the report, from its run: our fields (everything but when
// it started and its place in the order, which are the caller's) and, for a repetition that ran,
// Google Benchmark's counters and the time of its one iteration (a message; for latency a round
// trip). Ratios use the floors measured right before it (`adjacent`) where there are any, the
// run's calibration otherwise.
struct repetition_report {
  schema::repetition_fields fields;
  std::map<std::string, double> counters;  // NaN is written as null
  double seconds_per_iteration = 0;
};
repetition_report assemble_repetition(const bench_case& c, const run_result& r,
                                      const calibration& floors, const adjacent_floors& adjacent);

// Where the library's threads of both peers ran in a repetition, as "<producer's>/<consumer's>"
// (placement_of: own, other, mixed or idle), or nullopt where it was not measured (a mechanism
// without library threads, thread peers, peers not pinned to one CPU each).
std::optional<std::string> library_placement(const run_result& r);

// Whether a failed run of a lossy mechanism failed only because round trips were lost,
// duplicated or reordered: what the mechanism is, no fault of the suite or the machine.
bool only_loss(const bench_case& c, const run_result& r);

// The report's status of a run's outcome.
schema::status report_status(run_status s);

// Our fields of each benchmark (by report name) and of each of its repetitions, in the order they
// ran (Google Benchmark's repetition_index).
class report_extras {
 public:
  void set_static(const std::string& name, schema::benchmark_fields fields) {
    static_[name] = std::move(fields);
  }
  // Records the next repetition of `name`; returns its index.
  int add_repetition(const std::string& name, schema::repetition_fields fields);
  // nullptr when nothing was recorded.
  const schema::benchmark_fields* fields(const std::string& name) const;
  // Hands over the fields of a recorded repetition, once (the report keeps them from then on);
  // nullopt when none was recorded or they were taken.
  std::optional<schema::repetition_fields> take_repetition(const std::string& name,
                                                           std::int64_t index);
  std::size_t failed() const noexcept { return failed_; }
  void count_failure() noexcept { ++failed_; }
  std::size_t lossy_runs() const noexcept { return lossy_; }
  void count_loss() noexcept { ++lossy_; }

 private:
  std::map<std::string, schema::benchmark_fields> static_;
  std::map<std::pair<std::string, std::int64_t>, schema::repetition_fields> runs_;
  std::map<std::string, int> next_rep_;
  std::size_t failed_ = 0;
  std::size_t lossy_ = 0;
};

// Google Benchmark's fields of the context and of one run, as its JSONReporter (1.7) writes
// them, but as JSON values: NaN and infinities (the coefficient of variation of a counter that is
// 0 everywhere) are null, which JSON has, instead of bare words, which it has not.
nlohmann::json gbench_context_json(const benchmark::BenchmarkReporter::Context& context);
nlohmann::json gbench_run_json(const benchmark::BenchmarkReporter::Run& run);

// The file reporter: builds the report document, {"context": ..., "benchmarks": [...]} in Google
// Benchmark's JSON format, from the runs as they are reported, with names in report_name() form
// and our fields from `extras` on each entry (aggregate rows are `ok`); it takes each
// repetition's fields out of `extras` as it reports it. Holds a reference to `extras`, which must
// outlive it. Throws only std::bad_alloc.
//
// The entries are kept packed (MessagePack) until the document is asked for: a default run holds
// thousands of repetitions, and every peer and floor process is forked from this one, so a fork
// copies the page tables of the coordinator's heap (as JSON trees the entries grew it by about
// 10 MB a minute; a fork beside 110 MB of small allocations took 4.4 ms here, 0.16 ms beside none).
class report_builder : public benchmark::BenchmarkReporter {
 public:
  explicit report_builder(report_extras& extras);
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& report) override;
  // After the last round: every entry's `repetitions` is its benchmark's count, and the
  // aggregate rows (mean, median, stddev, cv) of each benchmark with two or more that ran follow.
  void finish();
  // The document with every entry reported so far.
  const nlohmann::json& document();

 private:
  report_extras& extras_;
  nlohmann::json document_;
  std::vector<std::vector<std::uint8_t>> packed_;          // entries not yet in document_
  std::map<std::string, int> seen_;                        // repetitions reported so far, by name
  std::map<std::string, std::set<std::string>> counters_;  // the counters they carried
};

// Sends every call to the display reporter and to the file reporter; owns neither.
class tee_reporter : public benchmark::BenchmarkReporter {
 public:
  tee_reporter(benchmark::BenchmarkReporter& display, benchmark::BenchmarkReporter& file)
      : display_(display), file_(file) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& report) override;
  void Finalize() override;

 private:
  benchmark::BenchmarkReporter& display_;
  benchmark::BenchmarkReporter& file_;
  bool context_said_ = false;
};

// For --progress: prints nothing per run but failures (to stderr); the progress line comes from
// the benchmark function.
class quiet_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& report) override;
};

// One line per benchmark repetition: "[ 12/104] pipe/latency/4096/cross  0:32 elapsed, ~1:10 left".
// Rewrites one line on a terminal; elsewhere prints at most one line every 10 s.
// With a budget the time left is at least what is left of the budget, and the total at least one
// repetition of every benchmark.
class progress_line {
 public:
  void start(std::size_t total, double budget_s = 0);
  // The next `more` repetitions are planned: the total grows where it no longer covers them.
  void extend(std::size_t more) { total_ = std::max(total_, done_ + more); }
  void step(const std::string& name);
  void finish();

 private:
  std::size_t total_ = 0, done_ = 0;
  std::int64_t t0_ = 0, last_print_ = 0, budget_ns_ = 0;
  bool tty_ = false, active_ = false;
};

}  // namespace ipcbench
