// One run of the bench program: the CPUs its peers use, its calibrated floors, the benchmarks it
// runs round by round until the stop rule or the budget ends each (DESIGN.md rule 14), and what
// it collected as they ran (our report fields, the run records, each benchmark's repetitions for
// the estimates, the failure counts, the progress line). Google Benchmark's registered benchmarks
// hold a reference to it, so it is neither copied nor moved. Coordinator side, one thread.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/answer.hpp"
#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "bench/estimate.hpp"
#include "bench/report.hpp"
#include "harness/floor_station.hpp"
#include "harness/placement.hpp"
#include "probe/report_probes.hpp"
#include "sys/system.hpp"

namespace ipcbench {

// How many repetitions each benchmark gets. With a budget (`budget_s` > 0), shuffled batches of up
// to 32 of the benchmarks furthest from an answer that fit in what is left of it (a benchmark's
// first repetition runs whatever the budget): while the host is in the reference regime the
// headline's benchmarks (in_headline) short of the stop rule's minimum there, then those with the
// fewest repetitions there; otherwise those with the fewest repetitions in the regime the host is
// in now; then the widest interval; then a random rank (order_by_need).
// Without a budget every benchmark runs once per round. After `rule`'s minimum a benchmark leaves
// when the stop rule says so, at its cap in any case.
struct repetition_plan {
  estimate::stop_rule rule;
  // The share of the run the reference regime's cache-line state must hold
  // (estimate::reference_regime): a quick run's is smaller.
  double reference_share = estimate::kReferenceShare;
  double budget_s = 0;
  std::uint64_t seed = 0;
};

// A pair that has not run yet sizes its sizing run from the same mechanism's, pattern's and
// peers' largest smaller size that has run: `sizes` holds each size and its last timed batch's time
// per message (0: not run). A smaller message seldom takes longer, so the hinted sizing run
// (harness/coordinator.hpp hinted_sizing_count) lasts about its 4 ms or more, or is the full one;
// its own duration sizes the rest. 0 when no smaller size has run.
double hint_from_smaller(const std::vector<std::pair<std::size_t, double>>& sizes,
                         std::size_t size);

// What a pair's sizing run is sized from: `hint` (its own or a smaller sibling's last timed batch's
// time per message) where there is one; else, for a round trip, the wake-up floor's round trip
// measured just before it (`wake_rtt_ns`), so that a benchmark's first repetition sizes about
// 4 ms too, not the full 1,000 round trips. A mechanism that sleeps to wait takes at least that
// floor; one that spins takes less and makes a sizing run shorter than 4 ms, and one slower than
// it (gRPC's 150 us) a longer one, never more than the full one. On the 2-vCPU VM the full sizing
// runs of first repetitions took 9 of the 26 s a quick run spent in round trips. 0: none.
double sizing_basis(double hint, pattern p, std::optional<double> wake_rtt_ns);

class bench_session {
 public:
  bench_session() = default;
  bench_session(const bench_session&) = delete;
  bench_session& operator=(const bench_session&) = delete;

  // Records c's report fields; c runs in the rounds of run().
  void add(const bench_case& c);
  // Before any benchmark runs: takes `cpus`, the choice the benchmarks run with (choose_cpus),
  // and measures the run's floors on them (measure_calibration). With two different CPUs each
  // repetition measures its floors on them again first (adjacent_floors).
  void calibrate(cpu_choice cpus, const std::vector<std::size_t>& sizes);
  // Runs the added benchmarks round by round (see repetition_plan), reporting each repetition
  // to `reporter`; with --progress, `progress` shows one line.
  void run(benchmark::BenchmarkReporter& reporter, const repetition_plan& plan, bool progress);

  const cpu_choice& cpus() const noexcept { return cpus_; }
  const calibration& floors() const noexcept { return floors_; }
  const report_extras& extras() const noexcept { return extras_; }
  report_extras& extras() noexcept { return extras_; }
  // Every repetition so far, in the order they ran.
  // The run records, each with the regime of the host it ran in (as the run's regimes stand).
  std::vector<probes::run_record> records() const;
  // After run(): the regimes over the run, and each benchmark's history.
  const run_regimes& regimes() const noexcept { return regimes_; }
  const std::vector<benchmark_history>& histories() const noexcept { return histories_; }
  // The benchmarks, in the order add() took them (histories() is parallel to it).
  const std::vector<bench_case>& cases() const noexcept { return cases_; }
  // context.ipcbench.stop_rule, and the top-level `estimates`.
  nlohmann::json stop_rule_json() const;
  nlohmann::json estimates_json() const;

 private:
  adjacent_floors measure_adjacent(const bench_case& c) const;
  // The time per message a pair's sizing run is sized from (harness/coordinator.hpp
  // hinted_sizing_count): its own last timed batch's, else hint_from_smaller over its siblings;
  // 0: none (sizing_basis may still give one).
  double sizing_hint(std::size_t index) const;
  void run_repetition(benchmark::State& state, std::size_t index);
  void record(const bench_case& c, const repetition_report& rep);
  // The benchmarks of the next round, or none when the run is over.
  std::vector<std::size_t> plan_round(double elapsed_s);
  // Whether the cache-line round trip measured last is nearest the reference regime's.
  bool host_in_reference() const;
  // Every benchmark still going has run at least once.
  bool all_started() const;

  cpu_choice cpus_;
  bool adjacent_floors_ = false;  // cpus_ are two different CPUs
  // Where the floors beside every repetition run: two helpers started with the calibration
  // (none where they could not be started: the floors fork, as the calibration's do).
  std::unique_ptr<floor_station> station_;
  calibration floors_;
  report_extras extras_;
  progress_line progress_;
  repetition_plan plan_;
  estimate::stop_rule ranking_rule_;  // a ranking's benchmarks' (ranking_rule of plan_.rule)
  std::uint64_t next_order_ = 0;      // each repetition's place in the run
  std::vector<probes::run_record> records_;
  std::vector<bench_case> cases_;
  std::vector<benchmark_history> histories_;  // one per case
  std::vector<bool> headline_;                // one per case: in_headline
  std::vector<bool> ranking_;                 // one per case: in_ranking
  std::vector<std::size_t> rank_;             // one per case: order_by_need's tie-break
  std::vector<double> seconds_;               // time each case has taken so far
  std::vector<double> ns_per_message_;  // one per case: one pair's in its last timed batch; 0: none
  // One pair's mechanism, pattern, placement and peers, without the size (empty for a topology),
  // and the cases of each.
  std::vector<std::string> sibling_key_;
  std::map<std::string, std::vector<std::size_t>> siblings_;
  run_regimes regimes_;
  std::optional<double> last_line_ns_;                  // the cache-line round trip measured last
  std::chrono::steady_clock::time_point last_line_at_;  // when
  // The last few wake-up round trips measured (latency repetitions), oldest first: their median
  // says which wake-up state the host is in now (regime_now).
  std::vector<double> last_wake_ns_;
  std::optional<double> recent_wake_ns() const;
  // The CPUs this process may run on (a mechanism's own threads are confined to them).
  std::size_t cpus_allowed_ = allowed_cpus().size();
};

}  // namespace ipcbench
