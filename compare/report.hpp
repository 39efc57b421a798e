// Loading benchmark reports (ipcbench reports and plain Google Benchmark JSON) and turning their
// per-repetition entries into samples per benchmark and metric. Everything here throws
// input_error for input that cannot be used, with a one-line message that names the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/schema.hpp"

namespace ipcbench::compare {

// Bad input: an unreadable file, malformed JSON, JSON that is not a report, nothing to compare.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The metrics and the status values are the report schema's (report/schema.hpp).
using schema::direction;
using schema::find_metric;
using schema::known_metrics;
using schema::metric_spec;
using run_status = schema::status;

// --normalise: each repetition's latency metrics divided by a floor measured beside it (its
// `floors`), so that runs taken in different host regimes compare as multiples of their floors.
// `wake` divides by floors.wakeup_rtt_p50_ns, `line` by floors.cache_line_rtt_p50_ns, the words
// of the plots' fleet view. Throughput and CPU metrics are never normalised.
enum class normalisation { none, wake, line };
std::optional<normalisation> parse_normalisation(std::string_view word);  // "wake", "line"
std::string_view to_string(normalisation n);                              // "none", "wake", "line"
// The key of the floor in a repetition's `floors` ("" for none).
std::string_view floor_key(normalisation n);
// The round-trip and one-way times among the known metrics (rtt_*, one_way_*): what a
// normalisation divides.
bool latency_metric(std::string_view metric);

// What a benchmark measures; empty where neither the entry nor its name says.
struct benchmark_info {
  std::optional<std::string> id;
  std::optional<std::string> mechanism;
  std::optional<std::string> variant;
  std::optional<std::string> family;  // the entry's `family`: `calibration` for the null runs
  std::optional<std::string> pattern;
  std::optional<std::uint64_t> message_size;
  std::optional<std::string> placement;
  std::optional<std::string> topology;  // topology benchmarks: pairs, fan_in, fan_out
  std::optional<std::uint64_t> fan;     // and their N
};

// schema::parse_name as a benchmark_info, with the id split into mechanism and variant. nullopt
// when the name has another shape.
std::optional<benchmark_info> parse_name(std::string_view name);

// A report's own answer for one benchmark (top-level `estimates`, newer reports only).
struct stated_estimate {
  std::string metric;           // rtt_p50_ns or bytes_per_second
  std::optional<double> value;  // null when no repetition was ok
  // The interval of the value at the report's confidence (`interval`), when it states one.
  std::optional<std::pair<double, double>> interval;
  bool multimodal = false;    // it lists `modes`
  bool spread_cause = false;  // it names why its repetitions spread (`spread_cause`)
  // One repetition alone spreads them over the limit, the others lying within it
  // (`spread_outlier`, newer reports).
  bool spread_outlier = false;
  // Its modes are those of the parts of its repetitions' timed batches (each mode states
  // `sub_batches`, newer reports), not of the repetitions.
  bool part_modes = false;
  // Max / min over the repetitions it is judged on (`spread`), when the report states it.
  std::optional<double> spread;
  // The same taken to the run's pace beside each repetition (`spread_at_run_pace`, newer
  // reports), where the run beside the slowest ran slower.
  std::optional<double> spread_at_run_pace;
  std::size_t regimes = 0;  // `by_regime` entries: the regimes its repetitions span
  // Repetitions its value leaves out for lying in a disturbance of the run (`disturbed`, newer
  // reports): the host moved every benchmark together there.
  std::size_t disturbed = 0;
  // Repetitions it leaves out for the steal time the host took of the peers' CPUs during their
  // batch (`stolen`, newer reports).
  std::size_t stolen = 0;
  // Of its regime's repetitions, those it left out because another task took a peer's CPU during
  // their timed batch (`preempted`, newer reports).
  std::size_t preempted = 0;
  // Repetitions it leaves out for belonging to no regime: the host moved during them (`moved`,
  // newer reports).
  std::size_t moved = 0;
  // Its value in each regime it met (`by_regime`): the regime's index in the report's
  // context.ipcbench.regimes, the repetitions there, their median and, where the report states
  // one (newer reports, enough repetitions there), that median's interval. Entries without a
  // value are left out.
  struct regime_value {
    std::size_t regime = 0;
    std::size_t repetitions = 0;
    double value = 0.0;
    std::optional<std::pair<double, double>> interval;
  };
  std::vector<regime_value> by_regime;
  // A latency value the report took to its run's median floor (`adjusted`): value = raw value x
  // (to_ns / floor beside each repetition)^slope, `floor` naming the floor (wakeup_rtt_p50_ns or
  // cache_line_rtt_p50_ns), the slope fitted over the run.
  struct adjustment {
    std::string floor;
    double slope = 0.0;
    double to_ns = 0.0;
  };
  std::optional<adjustment> adjusted;
};

// A row of a report's `claims` (the textbooks' comparison judged by the run, newer reports only;
// results/README.md#claims): the claim's id, the place (`where`: "latency 64 B"), the verdict,
// and the regime of the host its verdict was taken in: that of its first comparison decided with
// an interval (`against`, `speed`, `cpu`; nullopt where none was: a rank test over the regimes,
// untested, or a `fifo_as_pipe` row, judged over every regime).
struct claim_row {
  std::string claim;    // shm_fastest
  std::string where;    // latency 64 B
  std::string verdict;  // holds, tie, refuted, untested
  std::optional<std::size_t> regime;
};

// All repetitions of one benchmark in one report.
struct benchmark_samples {
  std::string name;  // run_name, or name where there is no run_name
  benchmark_info info;
  bool ipcbench_fields = false;        // entries carry ipcbench's extra fields (`pattern`, ...)
  run_status status = run_status::ok;  // not ok when any repetition was skipped or failed
  std::string reason;                  // why not ok
  std::size_t repetitions = 0;         // iteration entries seen, ok or not
  // Attempts: the repetitions of one report, or the runs of a merged side; failures: those of
  // them that were skipped or failed (an ok run of a merged side had every repetition ok).
  std::size_t attempts = 0;
  std::size_t failures = 0;
  std::map<std::string, std::vector<double>, std::less<>> metrics;  // one value per ok repetition
  // Merged sides only: per metric, one value per run in run order, NaN where there is none.
  std::map<std::string, std::vector<double>, std::less<>> by_run;
  // Metrics an ok repetition had as null because too few samples back them, with the reason.
  std::map<std::string, std::string, std::less<>> unsupported;
  // Normalised reports: per latency metric, the ok repetitions left out of it because they had
  // no floor to divide by (over all runs of a merged side).
  std::map<std::string, std::size_t, std::less<>> without_floor;
  std::optional<stated_estimate> estimate;  // its entry in the report's `estimates`
  // A single report's latency benchmarks: per ok repetition with that floor beside it
  // (`floors`), rtt_p50_ns over the wake-up round trip and over the cache-line round trip, in
  // repetition order. Empty in a merged side and in a normalised report.
  std::vector<double> p50_per_wake, p50_per_line;
};

// A tail percentile is reported, and gated, only when enough round trips back it
// (schema::min_samples_for_percentile: p99 1,000, p99.9 10,000); the bench program writes null
// below that. The minimum for `metric`, or nullopt when it is not a tail percentile.
std::optional<std::uint64_t> tail_minimum(std::string_view metric);

// How a report's samples came about.
struct report_origin {
  std::size_t runs = 1;      // reports merged into it (merge_runs)
  bool run_medians = false;  // its samples are each run's median (merge_runs), not repetitions
  normalisation normalised = normalisation::none;
  bool estimates = false;  // it has top-level `estimates` (a single report)
};

class report {
 public:
  report(std::string path, nlohmann::json context, std::vector<benchmark_samples> benchmarks,
         report_origin origin = {}, std::vector<claim_row> claims = {});

  const std::string& path() const { return path_; }
  const report_origin& origin() const { return origin_; }
  const nlohmann::json& context() const { return context_; }  // an object, maybe empty
  const std::vector<benchmark_samples>& benchmarks() const { return benchmarks_; }
  // A single report's claims rows, in its order; empty for a merged side and an older report.
  const std::vector<claim_row>& claims() const { return claims_; }
  const benchmark_samples* find(std::string_view name) const;

 private:
  std::string path_;
  report_origin origin_;
  nlohmann::json context_;
  std::vector<benchmark_samples> benchmarks_;  // in order of first appearance
  std::vector<claim_row> claims_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Builds a report from parsed JSON; `path` only names the source in messages. With a
// normalisation, an ok repetition's latency metrics are divided by its floor, or left out (and
// counted in without_floor) where it has none.
report parse_report(const nlohmann::json& doc, const std::string& path,
                    normalisation normalise = normalisation::none);

// The ok repetitions of a normalised report left out for want of the floor, over all its
// benchmarks.
std::size_t repetitions_without_floor(const report& r);

// Several runs of one side (separate runs on one machine, or the rounds of an A/B job) as one
// report whose samples are each run's median per metric: a change is then judged against the
// spread between runs, not within one. One run is returned as it is, unless `one_run_as_sample`
// (one run a side of two separate runs: its repetitions are no samples of the other run's host),
// which makes it one run of one median per metric like the others. The context is the first
// run's; a benchmark is not ok when it is not ok in any run, and counts the runs it failed in
// (`failures` of `attempts`). `by_run` keeps each run's median at the run's index (NaN where
// the benchmark was absent, failed or lacked the metric), so that the runs of two sides can be
// paired by index (the rounds of a same-job A/B job). Estimates belong to one report: a merged
// side has none.
report merge_runs(const std::vector<report>& runs, bool one_run_as_sample = false);

// Reads and parses a file: input_error("cannot read 'x': <strerror>"), ("'x' is not valid JSON:
// ..."), ("'x' is not a benchmark report: ...").
report load_report(const std::string& path, normalisation normalise = normalisation::none);

}  // namespace ipcbench::compare
