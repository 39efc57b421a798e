// The search for the highest send rate a lossy stream carries with less than kMaxPacedLoss of its
// messages lost (the paced UDP benchmark, run_paced_channel in harness/runner.hpp). A pure
// function over a loss(rate) callback, so it is tested on scripted losses; the runner's callback
// runs one short paced trial batch per call. Plain values; coordinator side.
//
// The search, at most limits.max_trials calls of loss_at:
//   1. the start rate (the unpaced goodput): below the threshold, it is the answer (pacing cannot
//      send faster than unpaced, so nothing higher is worth a trial);
//   2. the start times lowest_fraction: at or above the threshold, no rate tried qualifies
//      (best is empty, and the trials say what each lost);
//   3. bisection in log space between the highest rate that qualified and the lowest that did
//      not, for the trials left: each halves the ratio's logarithm, so 6 of them narrow a bracket
//      of 16x to under 5 %.
// The answer is the highest rate tried that qualified. A loss_at that returns nullopt (a trial
// that failed) ends the search at once, with `aborted` set.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace ipcbench {

// Less than 0.1 % lost: the threshold of the paced benchmark.
inline constexpr double kMaxPacedLoss = 0.001;
// The lowest rate the search tries, as a fraction of the unpaced goodput.
inline constexpr double kLowestRateFraction = 1.0 / 16;
// Paced trial batches at most (the unpaced one that gives the start rate comes on top).
inline constexpr std::uint64_t kMaxRateTrials = 8;

struct rate_search_limits {
  double max_loss = kMaxPacedLoss;  // a rate qualifies when its loss is below this
  double lowest_fraction = kLowestRateFraction;
  std::uint64_t max_trials = kMaxRateTrials;
};

struct rate_trial {
  double rate = 0;  // the target, messages/s
  double loss = 0;  // the fraction lost at it
};

struct rate_search_result {
  std::optional<double> best;      // the highest rate tried whose loss was below max_loss
  std::vector<rate_trial> trials;  // every trial, in the order run
  bool aborted = false;            // a trial failed (loss_at returned nullopt)
};

// Loss at a target rate (messages/s), or nullopt when the trial could not be run.
using loss_function = std::function<std::optional<double>(double rate)>;

// Searches from `start` (> 0; 0 or less runs no trial). See the header comment.
rate_search_result find_highest_rate(double start, const loss_function& loss_at,
                                     const rate_search_limits& limits = {});

}  // namespace ipcbench
