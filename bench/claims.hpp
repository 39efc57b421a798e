// The textbooks' efficiency comparison as claims computed from the run's own repetitions
// (DESIGN.md rule 16: every claim carries its interval, and overlapping intervals are a tie):
//   shm_fastest          shared memory is the fastest way between processes, per size;
//   queues_slower        message queues are slower than pipes and shared memory, and cost more
//                        CPU per message;
//   fifo_as_pipe         a FIFO performs as a pipe once it is open (within 10 %, shown by the
//                        interval of the ratio);
//   threads_faster       threads communicate faster than processes (from the process tax).
// Each claim has one row per pattern and size it could be judged at, and a summary: where it
// holds, where it is a tie, where it is refuted, where it is untested. The report's `claims`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/answer.hpp"

namespace ipcbench {

// One one-pair benchmark of the run, as the claims see it.
struct claim_benchmark {
  std::string id;      // pipe, posix_shm.futex
  std::string family;  // the mechanism's chart family: "pipes & FIFOs", "shared memory & mmap"
  std::string pattern;
  std::size_t size = 0;
  bool threads = false;  // thread peers (--peers threads)
  bool paced = false;    // a paced stream: a rate searched for, not the mechanism's best
  const benchmark_history* history = nullptr;
};

// How two benchmarks compare on their metric (or, with `cpu`, their CPU time per message, lower
// is better), from their repetitions in one regime of the host (in_common_regime: the
// reference regime of the estimates where both have the repetitions an interval needs there,
// else the regime both met most): `ratio` is how many times better `a` is than `b` (b / a when
// lower is better, a / b otherwise) of their medians there, `lo` and `hi` the widest ratio their
// medians' intervals allow, and `verdict` "better", "worse", "tie" (the interval holds 1) or
// "untested" (an interval missing: too few repetitions in that regime).
// With `by_rank`, where an interval is missing, an exact rank test over every regime both ran in
// (estimate::stratified_rank_test, `rank`) decides "better" or "worse" when its p is at most
// 1 - confidence; it never says "tie" (a test of so few repetitions that finds no difference has
// not shown that there is none). What stays untested says why (`why`).
// `by_regime`: the same interval comparison in each regime where both have the repetitions for
// one, so that a reader sees the order in each state of the host the run could judge.
struct regime_verdict {
  int regime = 0;
  std::pair<std::size_t, std::size_t> repetitions{0, 0};
  double ratio = 0;
  double lo = 0, hi = 0;
  std::string verdict;  // better, worse or tie
};
struct comparison {
  double ratio = 0;
  std::optional<double> lo, hi;
  std::string verdict = "untested";
  std::optional<int> regime;
  std::pair<std::size_t, std::size_t> repetitions{0, 0};  // a's and b's in that regime
  std::optional<std::pair<double, double>> values;        // a's and b's medians there
  std::optional<estimate::rank_test> rank;
  std::string why;  // untested only
  std::vector<regime_verdict> by_regime;
  // The host's states order the two opposite ways: two regimes of by_regime, one "better" and
  // one "worse"; or, untested, in one regime every repetition of a beat every one of b, in
  // another every one of b beat every one of a.
  bool state_decides = false;
};
comparison compare_benchmarks(const benchmark_history& a, const benchmark_history& b,
                              bool lower_is_better, const run_regimes& r, double confidence,
                              bool cpu = false, bool by_rank = false);

// The report's `claims`: the four claims above from the run's one-pair benchmarks and its
// process_tax rows (process_tax_json).
nlohmann::json claims_json(const std::vector<claim_benchmark>& all, const run_regimes& r,
                           double confidence, const nlohmann::json& process_tax);

}  // namespace ipcbench
