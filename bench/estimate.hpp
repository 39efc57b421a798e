// The statistics behind a run's answer (DESIGN.md rules 13-16): the confidence interval of a
// median from order statistics, the stop rule that decides when a benchmark has repeated enough,
// the host's regimes found in the series of cache-line floors measured beside the repetitions,
// and the modes of a benchmark's repetitions. Plain functions on plain values, no I/O;
// coordinator side.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stats/rank.hpp"

namespace ipcbench::estimate {

// The median of `values` (the mean of the two middle ones for an even count); NaN when empty.
double median(std::vector<double> values);

// A distribution-free confidence interval of the median: [x(k), x(n-k+1)] of the sorted values
// for the largest k whose coverage, 1 - 2 P(Binomial(n, 1/2) <= k - 1), is at least
// `confidence`. nullopt when even [min, max] covers less (n = 4 covers 87.5 %, n = 5 93.75 %).
struct interval {
  double lo = 0, hi = 0;
  double confidence = 0;  // the interval's actual coverage
};
std::optional<interval> median_interval(std::span<const double> values, double confidence);
// The fewest repetitions whose median has an interval at `confidence` (5 at 90 %; 1000 at most).
std::size_t repetitions_for_interval(double confidence);

// Whether two benchmarks' values differ, from few repetitions: the exact stratified rank test
// (stats/rank.hpp), shared with the probes and compare.
using rank_stats::rank_stratum;
using rank_stats::rank_test;
using rank_stats::stratified_rank_test;

// When to stop repeating one benchmark: once `min_repetitions` have run, as soon as the interval
// of the median of the values it is judged on (its repetitions in the reference regime) is
// within `relative_width` of that median; at `max_repetitions` in any case.
struct stop_rule {
  double confidence = 0.9;
  double relative_width = 0.10;
  int min_repetitions = 5;
  int max_repetitions = 12;
};
enum class decision { go_on, converged, cap };
const char* to_string(decision d);
// `basis`: the values judged (maybe fewer than `repetitions`, the ok repetitions run).
decision decide(const stop_rule& rule, std::span<const double> basis, int repetitions);

// Groups of values apart from each other: sorted in log space, split at the widest gap that
// leaves at least `min_members` on both sides, is at least `min_ratio` (as a ratio of the values
// either side of it) and at least as wide as the spread of either side (so a drift, which leaves
// no such gap, stays one group); each side split again the same way, up to `max_groups`.
// A side's spread: its range, a twentieth trimmed at each end; with `core_spread`, no more than
// twice the range of its middle half (detect_regimes).
// `of[i]` is the group of values[i], groups numbered by their values, lowest first.
struct grouping {
  std::size_t groups = 0;
  std::vector<int> of;
};
grouping group_by_gaps(std::span<const double> values, std::size_t min_members, double min_ratio,
                       std::size_t max_groups, bool core_spread = false);

// The host's regimes from the floors measured beside the repetitions, in the order they ran.
// First its cache-line states: groups of the cache-line round trips of at least 1 % of the series
// (3 floors at least) whose values are at least 1.5x apart; one on a quiet machine, or when the
// series is too short (fewer than 8). A percent, not a twentieth: a 10-minute run that ended with
// 20 s of the fast state (185 of 5,101 floors, 4x faster) otherwise counted those repetitions in
// the slow regime, where 118 benchmarks took one of them into their estimate and spread over 1.5x
// without a cause named. A side's spread, against which a gap is weighed, is at most twice the
// range of its middle half (group_by_gaps' core_spread): on 2026-11-29 the host held three states,
// about 60 ns (9 % of the floors), 110-210 ns (71 %) and 410-780 ns (20 %); the gap from 209 to
// 410 ns had the two lower states on one side, 1.4x apart (78 to 111 ns), too close to be split
// and together as wide (2.7x) as the gap was not, so the run had one regime, and 423 benchmarks
// spread over 1.5x with nothing to say why.
// Then, within each cache-line state, its wake-up states: the wake-up round trips measured beside
// its repetitions (`wake_floors`, parallel to `line_floors`; latency repetitions have one), each
// taken as the median of it and its two measured neighbours either side in the series (the host's
// state lasts seconds; one 100-round measurement scatters), grouped the same way. A floor without
// a wake-up round trip takes the state of the nearest one that has it in the same cache-line state
// (the earlier on a tie). On 2026-11-27 the host held the wake-up round trip at 15-30 us for six
// minutes of a 10-minute run, against 5-10 us before and after, in both cache-line states: within
// the slow one a benchmark's repetitions read 2-3x apart, and nothing said why.
// Each regime is one wake-up state of one cache-line state.
struct regime {
  double median = 0, min = 0, max = 0;  // the cache-line round trips
  std::size_t count = 0;
  // Its cache-line state (regimes that differ in the wake-up round trip alone share it), and the
  // median of the wake-up round trips measured beside its repetitions (nullopt: none was).
  int line_state = 0;
  std::optional<double> wake_median;
};
struct regimes {
  // By cache-line state, lowest cache-line round trip first, then by wake-up state, fastest first.
  std::vector<regime> list;
  std::vector<int> of;  // per floor of the series
  int reference = -1;   // see reference_regime; -1 for an empty series
};
// The share of the run's floors the reference regime's cache-line state must hold
// (reference_regime): a quarter, and a twentieth in a quick run.
inline constexpr double kReferenceShare = 0.25;
inline constexpr double kQuickReferenceShare = 0.05;
regimes detect_regimes(std::span<const double> line_floors,
                       std::span<const std::optional<double>> wake_floors = {},
                       double reference_share = kReferenceShare);
// The regime the estimates are taken in. Its cache-line state: the slowest (highest cache-line
// round trip) that holds at least a quarter of the run's floors; when none does, the one that
// holds the most. A state the host spends a good part of every run in, so that every benchmark
// gets its repetitions there and two runs report each benchmark from the same state. The fastest
// state, which a 2-vCPU VM held for 10 % to 68 % of a 10-minute run, could not give 1,450
// benchmarks a repetition each when it was short: two runs then reported a benchmark from
// different states (median differences of 6-21 %, 90th percentiles of 46-216 %), against 0.8 % and
// 5.8 % (latency) and 1.8 % and 11.7 % (throughput) for the same two runs read in the slow one,
// which held 79 % and 89 % of them (at least 43 % in thirteen of fourteen runs, 32 % in the
// other). A quarter keeps the choice away from the shares such a host shows; a rule on the fast
// state's share (a fifth) took one run's estimates in the fast state and the next one's in the
// slow state, 43 % apart in the median. Within it, the fastest wake-up state that holds a quarter
// of that cache-line state's floors, else the one that holds the most: the slow wake-up state is
// the host's disturbance (one run of two met it), the fast one is in every run. A run whose
// reference is short still reports the benchmarks it could not reach there from another regime
// (basis_of).
// A quick run asks its cache-line state for a twentieth of the run instead (`share`). Each of
// its benchmarks runs once, so no share gives every benchmark a repetition in the reference:
// what the share can do is make two runs choose the same state, and in 50 s the host's shares
// swing further than in ten minutes. The slow state held 8.6-80 % of twelve quick runs on the
// 2-vCPU VM on 2026-11-30, the fast one 20-91 %; with a quarter, one pair of them took its
// estimates in the slow state and then in the fast one (latency |delta p50| a median of 36 %),
// and with a twentieth in the slow one both times (10.5 %, recomputed from the same
// repetitions; the other four pairs unchanged).
int reference_regime(const std::vector<regime>& list, double share = kReferenceShare);

// The modes of one benchmark's repetitions: groups of at least three repetitions and a fifth
// of them, 1.2x apart at least (an outlier or two is no mode). One mode when unimodal.
struct mode {
  double value = 0;  // the median of its members
  std::vector<std::size_t> members;
};
std::vector<mode> detect_modes(std::span<const double> values);

// The modes of a benchmark's timed batches split in parts (go_order::sub_batches): `parts[r]` is
// repetition r's parts in order. All parts pooled and grouped as detect_modes groups repetitions;
// kept only where there are two groups or more, each takes parts of two repetitions at least (the
// parts of one repetition alone are one stretch of time, however many: a repetition apart, not a
// mode) and spreads within `spread_limit` (max / min). Empty otherwise.
struct part_mode {
  double value = 0;                      // the median of its parts
  std::size_t parts = 0;                 // how many parts it holds
  std::vector<std::size_t> repetitions;  // the repetitions (indices into `parts`) with parts in it
};
std::vector<part_mode> detect_part_modes(const std::vector<std::vector<double>>& parts,
                                         double spread_limit);

}  // namespace ipcbench::estimate
