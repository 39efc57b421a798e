// What the bench program runs: mechanism x pattern x size (x topology), each a named case with
// its request and its run. Coordinator side.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/options.hpp"
#include "harness/session.hpp"

namespace ipcbench {

struct bench_case {
  std::string name;
  mechanism_traits traits;
  std::optional<topology> topo;  // a topology benchmark (harness/coordinator.hpp)
  std::size_t fan = 0;
  run_request req;
  std::function<run_result(const run_request&)> run;
};

// The calibration benchmark's traits: both peers' loops in one process, no IPC.
mechanism_traits null_traits();

// The calibration runs both peers' loops in one process: no process model applies.
bool in_process(const mechanism_traits& t);

// Whether the floors (a pair's cache-line and wake-up round trips, a pair's copy) bound this
// benchmark: one pair, and pairs/N (each pair's round trip, each pair's copy); not the
// aggregate of N producers or N consumers sharing a channel.
bool floors_apply(const bench_case& c);

// The sizes the headline answers at: the 64 B latency ranking, the 1 MiB throughput ranking and
// PIPE_BUF, where the textbooks' claims are read (plots: headline.py, ranking.py).
inline constexpr std::size_t kHeadlineSizes[] = {64, 4096, 1048576};
// Whether the answer rests on this benchmark: a mechanism's one pair, process peers, at a headline
// size (a notification at its own sizes), either pattern; the stop rule's batches give these
// their minimum first (repetition_plan).
bool in_headline(const bench_case& c);

// Whether a headline ranking rests on this benchmark: in_headline, at its pattern's ranking size
// (schema::kRankingLatencySize, schema::kRankingThroughputSize).
// The stop rule's batches pace these over the whole run (order_by_need, ranking_quota) and let
// them converge no sooner than kRankingMinimum repetitions in the reference regime
// (ranking_rule), so that their medians' intervals are not [min, max] and every mechanism of a
// ranking samples the host at about the same times.
bool in_ranking(const bench_case& c);

// The calibration benchmarks, then every registered mechanism's one-pair benchmarks, then (fork
// process model only) the topology benchmarks. The cases hold references into registry().
std::vector<bench_case> make_cases(const bench_options& o);

// The cases Google Benchmark's filter selects, as it would (POSIX extended regex search; a
// leading '-' negates), searched in the report's name and in Google Benchmark's (with
// kGoogleSuffix), so "pipe/latency/64/cross$" selects. Throws usage_error on a bad regular
// expression.
std::vector<bench_case> select_matching(std::vector<bench_case> cases, std::string filter);

}  // namespace ipcbench
