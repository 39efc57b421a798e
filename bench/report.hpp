// Reporting: what each benchmark run adds beyond Google Benchmark's fields, the reporters that
// collect Google Benchmark's JSON next to the display, and the final enriched report.
// Coordinator side.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace ipcbench {

// Google Benchmark appends this to every name registered with Iterations(1) and UseManualTime();
// reports drop it so names read <id>/<pattern>/<size>/<placement>.
inline constexpr const char* kGoogleSuffix = "/iterations:1/manual_time";
std::string report_name(std::string gb_name);

// Google Benchmark's JSON reporter prints NaN and inf as bare words, which JSON has not; they
// become null (for example the coefficient of variation of a counter that is 0 everywhere).
std::string json_without_nonfinite(const std::string& text);

// Reports a skipped or failed repetition. It runs the one iteration and skips inside it: Google
// Benchmark 1.7 checks that every repetition of a benchmark has the same iteration count before it
// leaves errored ones out of the aggregates, and aborts the whole program when a repetition that
// returned before its loop (0 iterations) sits beside one that ran. It also crashes computing the
// aggregates when the first repetition errored and two or more later ones ran (the errored run
// has no statistics); report_extras::repetition_blocked() keeps that from happening.
void skip_run(benchmark::State& state, const std::string& message);

// Static fields of a benchmark name, and per-repetition fields of its iteration runs.
class report_extras {
 public:
  void set_static(const std::string& name, nlohmann::json fields) {
    static_[name] = std::move(fields);
  }
  // Records the next repetition of `name`; returns its index.
  int add_repetition(const std::string& name, nlohmann::json fields);
  // Adds our fields to Google Benchmark's JSON report.
  void enrich(nlohmann::json& report) const;
  // Why the next repetition of `name` must not run: its first repetition failed (see skip_run).
  // Empty when it may run.
  std::string repetition_blocked(const std::string& name) const;
  std::size_t failed() const noexcept { return failed_; }
  void count_failure() noexcept { ++failed_; }
  std::size_t lossy_runs() const noexcept { return lossy_; }
  void count_loss() noexcept { ++lossy_; }

 private:
  std::map<std::string, nlohmann::json> static_;
  std::map<std::pair<std::string, std::int64_t>, nlohmann::json> runs_;
  std::map<std::string, int> next_rep_;
  std::size_t failed_ = 0;
  std::size_t lossy_ = 0;
};

// Sends every call to the display reporter and to a JSON reporter writing into a string.
class tee_reporter : public benchmark::BenchmarkReporter {
 public:
  explicit tee_reporter(std::unique_ptr<benchmark::BenchmarkReporter> display);
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& report) override;
  void Finalize() override;
  std::string json() const { return json_out_.str(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> display_;
  benchmark::JSONReporter json_;
  std::ostringstream json_out_;
  std::ostringstream json_err_;
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
class progress_line {
 public:
  void start(std::size_t total);
  void step(const std::string& name);
  void finish();

 private:
  std::size_t total_ = 0, done_ = 0;
  std::int64_t t0_ = 0, last_print_ = 0;
  bool tty_ = false, active_ = false;
};

}  // namespace ipcbench
