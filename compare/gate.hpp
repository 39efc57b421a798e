// The regression gate: which benchmarks and metrics two reports share, and for each a verdict
// (regression, improvement, no change) that needs both a significant difference over the
// repetitions and an effect beyond a per-metric threshold. Throws input_error when the reports
// have nothing to compare and std::invalid_argument for bad options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compare/report.hpp"
#include "compare/stats.hpp"

namespace ipcbench::compare {

enum class test_kind { mann_whitney, bootstrap };
// `untested`: the samples cannot support a verdict (too few repetitions for the test to reach the
// family's level, or a tail percentile with too few round trips behind it). The ratio is shown;
// it is never a regression and never sets the exit code.
// `not_gated`: outside the gate's family (see in_default_family); its ratio and p-value are
// shown, and it never sets the exit code.
enum class verdict { regression, improvement, no_change, untested, not_gated };
enum class gate_method { significance_threshold, untested };
// How the error over the family of metrics compared is controlled: Holm's step-down (the
// probability of any false verdict stays at most alpha, which is what a gate that must not fail
// on noise needs), or none (each metric at alpha on its own).
enum class correction { holm, none };

std::string_view to_string(test_kind test);      // "mann-whitney", "bootstrap"
std::string_view to_string(verdict outcome);     // "regression", "improvement", "no change"
std::string_view to_string(gate_method method);  // "significance+threshold", "untested"
std::string_view to_string(correction c);        // "holm", "none"
// to_string(direction) is the schema's (report/schema.hpp).

// Metrics compared when --metrics is not given: on ipcbench entries, and on plain Google
// Benchmark entries (which have `real_time`, and `bytes_per_second` with SetBytesProcessed).
inline constexpr std::string_view kDefaultMetrics[] = {"rtt_p50_ns", "rtt_p99_ns",
                                                       "bytes_per_second", "cpu_ns_per_message"};
inline constexpr std::string_view kPlainDefaultMetrics[] = {"real_time", "bytes_per_second"};

struct gate_options {
  test_kind test = test_kind::mann_whitney;
  // Family-wise: with Holm's correction an A/A comparison exits 1 in at most 1 of 20 runs.
  double alpha = 0.05;
  correction family = correction::holm;
  std::vector<std::string> metrics;                       // empty: the defaults above
  std::optional<double> threshold_all;                    // fraction; overrides the defaults
  std::map<std::string, double, std::less<>> thresholds;  // fraction per metric; overrides all
  // A benchmark ok in the baseline that is missing from the contender or skipped there fails the
  // gate unless this is set (a deliberate removal); one that failed there always does.
  bool allow_missing = false;
  // A comparison in which a gated metric cannot reach its level for want of repetitions is
  // refused (undecided below) unless this is set; its ratios are then shown as untested.
  bool allow_untested = false;
  // Gate every benchmark instead of the default family (in_default_family).
  bool gate_all = false;
  // The sides are the rounds of one A/B job, paired by index: a metric whose pairs can reach its
  // level is tested with the signed-rank test on the per-round log ratios.
  bool paired = false;
  std::size_t resamples = kBootstrapResamples;
  std::uint64_t seed = kBootstrapSeed;
};

// Threshold (fraction) for one metric under these options.
double threshold_for(const metric_spec& metric, const gate_options& options);

// The default gate family: the benchmarks whose processes fit the CPUs (`cpus`; unknown: all
// fit) at the sizes that answer the suite's questions, 64 B, 64 KiB and 1 MiB (and size 0, the
// notification-only mechanisms). Oversubscribed topologies and the sizes between are reported
// but not gated, so the family stays small enough for a gate that can detect a real change.
// Entries whose names do not parse (plain Google Benchmark) are all in it.
bool in_default_family(const benchmark_info& info, std::optional<std::size_t> cpus);
inline constexpr std::uint64_t kDefaultFamilySizes[] = {0, 64, 65536, 1048576};

struct judgement {
  verdict outcome = verdict::no_change;
  gate_method method = gate_method::significance_threshold;
  double baseline_median = 0.0;
  double contender_median = 0.0;
  double ratio = 1.0;             // contender median / baseline median
  std::optional<double> p_value;  // raw (uncorrected); empty when untested
  std::string untested_reason;    // why untested, with the repetitions it needs where that helps
  std::string test;               // the test behind p_value: "mann-whitney", "signed-rank", ...
  // Smallest worsening (fraction, e.g. 0.08) the gate would have called a regression here: the
  // contender's own spread moved to the baseline's median, then worsened until the test is
  // significant at Holm's first level, and at least the threshold. Empty when untested.
  std::optional<double> detectable;
};

// Verdict for one metric of one benchmark, as a family of one. The effect is the ratio of
// medians, inverted for higher-is-better metrics so that > 1 is always worse: a regression needs
// effect > 1 + t, an improvement effect < 1 / (1 + t) (the same step in the other direction), and
// both need significance at `alpha`; samples with which the test cannot reach alpha are untested.
judgement judge(std::span<const double> baseline, std::span<const double> contender,
                direction better, double threshold, const gate_options& options);

// True when no outcome of the test can be significant at alpha with these sample sizes.
bool too_few_to_test(std::size_t n_baseline, std::size_t n_contender, double alpha);
// Smallest n for which n vs n repetitions can reach `level`.
std::size_t repetitions_needed(double level);
// Holm's step-down over raw p-values: which hypotheses are rejected at family-wise level alpha.
std::vector<bool> holm_reject(std::span<const double> p_values, double alpha);

struct metric_result {
  std::string name;
  benchmark_info info;
  std::string metric;
  direction better = direction::lower_is_better;
  std::size_t baseline_n = 0;
  std::size_t contender_n = 0;
  std::size_t pairs = 0;  // rounds with a value on both sides (paired sides only)
  double threshold = 0.0;
  bool gated = true;        // in the gate's family
  bool normalised = false;  // a latency metric of normalised reports: multiples of the floor
  // Normalised reports: the repetitions left out of it for want of the floor, in words ("2
  // baseline repetitions without floors.wakeup_rtt_p50_ns"); empty when none were.
  std::string without_floor;
  judgement result;
};

struct not_comparable_entry {
  std::string name;
  std::string reason;
  bool lost = false;    // ok in the baseline but skipped or failed in (some runs of) the contender
  bool broken = false;  // lost by failing (a data check, a hung or crashed peer), not a skip
};

struct summary_counts {
  std::size_t regressions = 0;
  std::size_t improvements = 0;
  std::size_t unchanged = 0;
  std::size_t untested = 0;
  std::size_t missing = 0;  // only in the baseline, or ok there and skipped/failed in contender
  std::size_t broken = 0;   // of those: ok in the baseline, failed in some run of the contender
  std::size_t not_gated = 0;
  std::size_t added = 0;  // only in the contender, or ok there and skipped/failed in baseline
  std::size_t not_comparable = 0;
};

// The host regimes a run met (context.ipcbench.regimes, newer reports): each one's cache-line
// round trip (median) and share of the repetitions, lowest round trip first, and the reference
// regime the report's estimates are taken in. Reports that tell the host's wake-up states apart
// give each regime its cache-line state and the median wake-up round trip beside it: regimes of
// one cache-line state differ in their wake-up round trip alone.
struct regime_mix {
  struct regime {
    double cache_line_ns = 0.0;
    double share = 0.0;
    std::optional<int> line_state;  // `cache_line_state`
    std::optional<double> wake_ns;  // `wakeup_rtt_p50_ns.median`
  };
  std::vector<regime> regimes;
  std::size_t reference = 0;
  // Whether regime `i` shares its cache-line state with another regime of the run; whether any
  // regime does.
  bool split_by_wake(std::size_t i) const;
  bool split_by_wake() const;
};

// Whether regime `ia` of one mix and `ib` of the other are one host state: their cache-line round
// trips within kRegimeFloorTolerance and, where either run told wake-up states apart in that
// cache-line state, their wake-up round trips within it too.
bool same_state(const regime_mix& ma, std::size_t ia, const regime_mix& mb, std::size_t ib);

// nullopt when the report has no regimes (an older report, or null: no cache-line floors).
std::optional<regime_mix> regimes_of(const report& r);

// Two mixes differ when they have different numbers of regimes, reference regimes whose
// cache-line round trips differ by more than this fraction, or a regime whose shares differ by
// more than kRegimeShareTolerance.
inline constexpr double kRegimeFloorTolerance = 0.25;
inline constexpr double kRegimeShareTolerance = 0.2;

// Both sides' mixes, when both reports have them, and the warning when they differ.
struct regime_comparison {
  regime_mix a, b;
  std::string warning;  // one line naming both mixes; empty when they agree
};

// `names` label the two sides ("baseline" and "contender", or "A" and "B"). A merged side's
// context is its first run's (merge_runs), and the warning says so.
std::optional<regime_comparison> compare_regimes(const report& a, const report& b,
                                                 const char* name_a, const char* name_b);

struct comparison {
  std::string baseline_path;
  std::string contender_path;
  test_kind test = test_kind::mann_whitney;
  double alpha = 0.05;
  correction family = correction::holm;
  std::size_t family_size = 0;  // metrics tested (not untested), over which the error is controlled
  std::size_t baseline_runs = 1, contender_runs = 1;  // reports per side
  // The normalisation of the latency metrics (--normalise), and the ok repetitions each side
  // left out for want of the floor.
  normalisation normalised = normalisation::none;
  std::size_t baseline_without_floor = 0, contender_without_floor = 0;
  std::optional<regime_comparison> regimes;  // its warning is in `warnings` too
  std::vector<std::string> warnings;
  std::vector<metric_result> results;
  std::vector<std::string> only_in_baseline;
  std::vector<std::string> only_in_contender;
  std::vector<not_comparable_entry> not_comparable;
  summary_counts summary;
  bool paired = false;
  std::string family_rule;  // "default" or "all"
  // Gated metrics left untested for want of repetitions: how many, the sample sizes of the
  // smallest group, the level they could not reach and what each side needs for every metric
  // of the family to reach its level.
  struct undecided_metrics {
    std::size_t count = 0;
    std::size_t baseline_n = 0, contender_n = 0;
    double level = 0;
    std::size_t needed = 0;
  } undecided;
  // The detectable effect over the tested family: median, 90th percentile and largest.
  struct detectable_effect {
    std::size_t metrics = 0;
    double median = 0, p90 = 0, largest = 0;
    std::string largest_at;  // "name metric"
    double level = 0;        // Holm's first level it was computed at
  } detectable;
};

// The one-line refusal of a comparison with undecided metrics (empty when there are none).
std::string undecided_message(const comparison& result, bool runs);

// Warnings when the reports come from different machines or kernels.
std::vector<std::string> machine_warnings(const report& baseline, const report& contender);

// Differences in the conditions of the two runs that make their numbers incomparable: the
// idle-state mode in force, placement, process model, target time, sweep and cpuidle driver
// (context.ipcbench). One line each; ipcbench-compare refuses them unless --allow-mismatch.
std::vector<std::string> condition_warnings(const report& baseline, const report& contender);
// Differences in the conditions that move only some mechanisms' numbers, warned and never
// refused: where a library's threads ran (context.ipcbench.library_threads, --library-threads;
// a report without it, from before the option, ran them free). One line each.
std::vector<std::string> condition_notes(const report& baseline, const report& contender);

comparison compare_reports(const report& baseline, const report& contender,
                           const gate_options& options);

// 1 when there is a regression, a benchmark that failed in the contender after it was ok in the
// baseline, or (unless allow_missing) one that disappeared or was skipped; else 0.
int exit_code(const comparison& result, const gate_options& options);

// The repetitions (or runs) a side needs for every metric of a family of `family` to reach
// Holm's first level (alpha alone with correction none).
std::size_t repetitions_for_family(std::size_t family, const gate_options& options);

}  // namespace ipcbench::compare
