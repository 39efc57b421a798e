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
// `of[i]` is the group of values[i], groups numbered by their values, lowest first.
struct grouping {
  std::size_t groups = 0;
  std::vector<int> of;
};
grouping group_by_gaps(std::span<const double> values, std::size_t min_members, double min_ratio,
                       std::size_t max_groups);

// The host's regimes from the cache-line floors measured beside the repetitions, in the order
// they ran: groups of at least 1 % of the series (3 floors at least) whose values are at least
// 1.5x apart; one regime on a quiet machine, or when the series is too short (fewer than 8).
// A percent, not a twentieth: a 10-minute run that ended with 20 s of the fast state (185 of
// 5,101 floors, 4x faster) otherwise counted those repetitions in the slow regime, where 118
// benchmarks took one of them into their estimate and spread over 1.5x without a cause named.
struct regime {
  double median = 0, min = 0, max = 0;
  std::size_t count = 0;
};
struct regimes {
  std::vector<regime> list;  // lowest cache-line round trip first
  std::vector<int> of;       // per floor of the series
  int reference = -1;        // see reference_regime; -1 for an empty series
};
regimes detect_regimes(std::span<const double> line_floors);
// The regime the estimates are taken in: the slowest (highest cache-line round trip) that holds
// at least a quarter of the run's floors; when none does, the one that holds the most. A state
// the host spends a good part of every run in, so that every benchmark gets its repetitions
// there and two runs report each benchmark from the same state. The fastest regime, which a
// 2-vCPU VM held for 10 % to 68 % of a 10-minute run, could not give 1,450 benchmarks a
// repetition each when it was short: two runs then reported a benchmark from different states
// (median differences of 6-21 %, 90th percentiles of 46-216 %), against 0.8 % and 5.8 % (latency)
// and 1.8 % and 11.7 % (throughput) for the same two runs read in the slow one, which held 79 %
// and 89 % of them (at least 43 % in thirteen of fourteen runs, 32 % in the other). A quarter
// keeps the choice away from the shares such a host shows; a rule on the fast regime's share (a
// fifth) took one run's estimates in the fast state and the next one's in the slow state, 43 %
// apart in the median. A run whose reference is short still reports the benchmarks it could not
// reach there from another regime (basis_of).
int reference_regime(const std::vector<regime>& list);

// The modes of one benchmark's repetitions: groups of at least three repetitions and a fifth
// of them, 1.2x apart at least (an outlier or two is no mode). One mode when unimodal.
struct mode {
  double value = 0;  // the median of its members
  std::vector<std::size_t> members;
};
std::vector<mode> detect_modes(std::span<const double> values);

}  // namespace ipcbench::estimate
