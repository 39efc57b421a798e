// Reproducibility of a suite: how far two reports of it (two runs on one machine, say) agree, as
// a handful of figures. No test, no verdict, no gate: the figures are for a person to judge.
// Pure functions of the reports; same_answer() throws input_error when the reports have no
// benchmark in common.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "compare/gate.hpp"
#include "compare/report.hpp"

namespace ipcbench::compare {

// A spread of repetitions above this (max / min of the main metric) counts as unstable.
using schema::kSpreadLimit;

// |B / A - 1| in percent over the one-pair benchmarks ok in both reports that have the metric
// (each report's value: its estimate, or the median over its repetitions; see `estimates` below):
// how many, their median and their 90th percentile (nearest rank).
struct delta_summary {
  std::string metric;  // rtt_p50_ns or bytes_per_second
  std::size_t count = 0;
  std::optional<double> median_pct, p90_pct;  // nullopt when count is 0
};

// The two reports' orders of the mechanisms by one metric at one size and placement.
struct ranking_agreement {
  std::string metric;  // rtt_p50_ns (best: lowest) or bytes_per_second (best: highest)
  std::uint64_t message_size = 0;
  std::string placement;
  std::size_t n = 0;   // mechanisms in both reports, ok in both
  double tau_b = 0.0;  // Kendall's tau-b between the two reports' values; NaN when undefined
  // Reports with estimates: tau-b of the rankings as the reports declare them, a pair whose
  // intervals overlap counting as tied (stats.hpp, kendall_tau_declared); NaN otherwise.
  double tau_declared = std::numeric_limits<double>::quiet_NaN();
  // Reports with estimates: the pairs as both declare them (stats.hpp, count_declared_pairs).
  std::optional<declared_pairs> pairs;
  // Reports with estimates: each report's intervals of the ranking's mechanisms, the median of
  // (hi - lo) / value in percent over those that state one (a point states none); nullopt where
  // none does. A report whose intervals are wider ties pairs the other orders: with the pairs
  // only one report orders, this says which run was the less certain, not which was wrong.
  std::optional<double> width_a_pct, width_b_pct;
  std::string winner_a, winner_b;  // the best id in each report (ties: the first by name)
  // Reports with estimates: the two winners differ, but each report's intervals of the two
  // overlap, so both reports declare them tied.
  bool winners_tied = false;
};

// Within one report: the one-pair ok benchmarks with at least two repetitions of their main
// metric (latency: rtt_p50_ns, throughput: bytes_per_second), and how many spread over the limit.
// A report with estimates also says which of those it explains: the estimate lists modes (of its
// repetitions, or of the parts of their timed batches: counted apart as well), or its
// repetitions span more than one regime (`by_regime`), or it left some out for lying in a
// disturbance of the run (`disturbed`), for the host's steal time during their batch (`stolen`),
// for another task on a peer's CPU during it (`preempted`) or for belonging to no regime, the host
// having moved during them (`moved`), and those it is judged on spread no more than the limit
// (`spread`): a spread within one regime is not the regimes' doing, even in a benchmark that also
// ran in another. So does the run's pace beside them (`spread_at_run_pace`, newer reports): taken
// to the pace the other benchmarks kept next to each repetition, those it is judged on spread no
// more than the limit; counted apart as well. Of the rest, it counts those whose estimate names a
// cause
// (`spread_cause`: the CPU or a floor beside the slowest repetition), kept apart: a cause named
// for an outlier is no mode and no regime; and apart from that, those one repetition alone
// spreads (`spread_outlier`: the others within the limit), which leave the median standing but
// are no more explained for it.
struct spread_summary {
  std::size_t benchmarks = 0;
  std::size_t over = 0;
  std::optional<std::size_t> explained;    // of `over`; only for a report with estimates
  std::optional<std::size_t> by_pace;      // of `explained`: by the run's pace alone; the same
  std::optional<std::size_t> by_parts;     // of `explained`: by modes of batch parts; the same
  std::optional<std::size_t> cause_named;  // of `over - explained`; the same
  std::optional<std::size_t> one_alone;    // of `over - explained`; the same
};

// The answer state by state. A host that moves under a run (a VM whose vCPUs share a cache in one
// state and not in another) gives each benchmark one value per state, and each report takes its
// estimates in its own reference state (the slowest that holds a quarter of the run), so two
// runs whose mixes differ state their answers from different states, and compare as the host's
// two states, not as two runs. Here each benchmark is compared in one host state both reports
// measured it in, with kSameRegimeRepetitions repetitions or more each (`by_regime`; regimes
// matched by their cache-line round trips, within kRegimeFloorTolerance; of several, the one
// with the most repetitions on the poorer side, then the lower cache-line round trip); and each
// ranking in the one state in which both reports valued the most of its mechanisms (then the
// most with an interval in both, then the lower round trip), with the intervals each report
// states in that state (`by_regime[].interval`; a point without one).
inline constexpr std::size_t kSameRegimeRepetitions = 1;
struct state_ranking {
  ranking_agreement agreement;  // over the mechanisms valued in that state in both reports
  std::size_t of = 0;           // the mechanisms of the ranking over all states (`rankings`' n)
  std::size_t regime_a = 0, regime_b = 0;  // the state: its index in each report's regimes
  double cache_line_ns_a = 0.0, cache_line_ns_b = 0.0;
  std::size_t with_interval = 0;  // mechanisms with an interval there in both reports
};
struct same_regime_deltas {
  delta_summary latency, throughput;
  // Benchmarks with a value in both reports but no such regime, by pattern.
  std::size_t latency_left_out = 0, throughput_left_out = 0;
  // One per entry of `rankings` that has a state both reports valued two mechanisms or more in.
  std::vector<state_ranking> rankings;
  // Every latency benchmark with a value in both: in a common state as `latency` where it has
  // one; else as multiples of the floor its mechanism waits on, measured beside each repetition
  // (the median over each report's repetitions of rtt_p50_ns / floor): the cache-line round
  // trip for a receiver that spins (context.ipcbench.mechanisms[].spins), the wake-up round
  // trip for one that sleeps. Left out: no common state and no such floor in both (a report
  // without `spins`, or repetitions without floors). Two runs whose host mixes differ state
  // about half their benchmarks in different states; this compares all of them.
  struct state_or_floor {
    delta_summary deltas;
    std::size_t by_state = 0, by_floor = 0, left_out = 0;
  } latency_state_or_floor;
};

// Latency at a common floor. A report takes each latency estimate in its reference regime to
// its own run's median floor (`adjusted`: value = raw x (to_ns / floor beside it)^slope), so two
// runs on one host whose floors drifted apart (a wake-up round trip 5 % slower through the whole
// of one run) keep that drift between them. Here each benchmark adjusted to the same floor in
// both reports is taken on to one floor for both, the geometric mean of the two runs' to_ns for
// that floor, each with its own run's slope: value x (common / to_ns)^slope. The others (not
// adjusted in one report or the other) are compared as stated. nullopt when no benchmark is
// adjusted in both.
struct common_floor_deltas {
  delta_summary latency;
  std::size_t taken = 0;      // benchmarks taken to the common floor
  std::size_t as_stated = 0;  // the other latency benchmarks with a value in both
  struct floor_pair {
    std::string floor;  // wakeup_rtt_p50_ns or cache_line_rtt_p50_ns
    double to_ns_a = 0.0, to_ns_b = 0.0, common_ns = 0.0;
  };
  std::vector<floor_pair> floors;  // each floor some benchmark was taken to
};

// The answer where each report says how sure it is. A report states an interval (`interval`, at
// its confidence, 90 % by default) only for a benchmark with enough repetitions in the regime its
// value is taken in: on a VM whose host moves, a default run gives one to about a quarter of its
// benchmarks (the rankings' and the headline's among them). Here the benchmarks valued in both
// reports are split into those with an interval in both, with how often the two intervals
// overlap and how often one report's value lies inside the other's interval, and the rest. Two
// intervals that each hold their confidence, of runs the host did not move between, overlap
// about 98 % of the time, and about 75 % of values lie inside the other's (normal errors, equal
// widths); fewer say that something moved between the runs that neither run's interval saw.
// Those two shares for two 90 % intervals of equal width, normal errors, nothing moved between:
// P(|Z| < 2 x 1.645 / sqrt 2) and P(|Z| < 1.645 / sqrt 2), rounded.
inline constexpr int kUnmovedOverlapPct = 98;
inline constexpr int kUnmovedInsidePct = 75;
struct interval_split {
  delta_summary with_interval;  // an interval in both reports
  std::size_t overlapping = 0;  // of with_interval.count: the two intervals overlap
  std::size_t inside = 0;       // of 2 x with_interval.count: a value inside the other's interval
  // The median width of those 2 x with_interval.count intervals, in percent of their values;
  // nullopt when there is none.
  std::optional<double> median_width_pct;
  delta_summary without;  // the rest valued in both: one report or neither states one
};

// The runs as a whole. A host can run the guest slower through the whole of one run, its CPUs
// and memory and not only the cache line between them that the regimes follow (on the 2-vCPU
// development VM, 2026-11-30: one run's wake-up floor 6-17 % higher than the next run's, its
// `null` benchmark 15 % slower at 1 MiB, its cache-line states unchanged). Every benchmark then
// moves alike, and no ranking moves. Per pattern, over the benchmarks of `latency` or
// `throughput`: the median of B / A (the run's ratio: 0.94 is B's values 6 % below A's), the
// |delta| left about it (each benchmark's B / A over the run's ratio), and the median of B / A
// over the `null` benchmarks alone (family `calibration`: the harness with no IPC, which no
// mechanism moves; nullopt without any in both). A ratio alone does not say whose doing it is:
// a build that slows its harness moves the `null` benchmarks too.
struct run_ratio {
  delta_summary about;  // its metric, count, and |B / A / ratio - 1| in percent
  double ratio = 1.0;
  std::optional<double> null_ratio;
  std::size_t nulls = 0;  // null benchmarks in both
};

// The textbooks' comparison (each report's `claims`), claim by claim: the places both reports
// judged it at (`rows`), how many got the same verdict, how many opposite ones (`holds` in one
// report, `refuted` in the other), and how many of those the two reports decided in different
// states of the host (the regimes of their interval verdicts, claim_row::regime, not one state
// as same_state matches them): a host that moves gives two runs that met it in different states
// opposite verdicts that each state supports. The rest differ softly (a tie or untested in one).
struct claim_agreement {
  std::string id;  // shm_fastest
  std::size_t rows = 0, same = 0, opposite = 0;
  std::size_t opposite_in_different_states = 0;  // of `opposite`
};

struct same_answer_figures {
  std::string path_a, path_b;
  // The reports' normalisation (--normalise), and the ok repetitions each left out for want of
  // the floor.
  normalisation normalised = normalisation::none;
  std::size_t without_floor_a = 0, without_floor_b = 0;
  std::optional<regime_comparison> regimes;  // when both reports have regimes
  // The values compared: each report's stated answer (its `estimates`' value) when both reports
  // have estimates and the latencies are not normalised (the estimates are in ns); otherwise the
  // median over each report's repetitions.
  bool estimates = false;
  bool estimates_a = false, estimates_b = false;  // whether each report has them
  std::size_t common = 0;                         // benchmark names in both reports
  delta_summary latency, throughput;
  // The same benchmarks split by whether both reports state an interval: when both reports
  // have estimates and the latencies are not normalised.
  std::optional<interval_split> latency_by_interval, throughput_by_interval;
  // State by state: when both reports have regimes and estimates, and the latencies are not
  // normalised.
  std::optional<same_regime_deltas> same_regime;
  // When both reports have estimates, not normalised, and some adjusted to the same floor.
  std::optional<common_floor_deltas> common_floor;
  // The runs as a whole, per pattern: nullopt without a benchmark valued in both.
  std::optional<run_ratio> latency_run, throughput_run;
  // Latency at 64 B and throughput at 1 MiB, one entry per placement present (cross first);
  // calibration runs are left out. Empty for a metric when no mechanism is in both at that size.
  std::vector<ranking_agreement> rankings;
  spread_summary spread_a, spread_b;
  // One per claim both reports judged at one place or more, in A's order; empty when either
  // report has no claims (an older report).
  std::vector<claim_agreement> claims;
};

// Message sizes of the two rankings (the report schema's).
using schema::kRankingLatencySize;
using schema::kRankingThroughputSize;

same_answer_figures same_answer(const report& a, const report& b);

}  // namespace ipcbench::compare
