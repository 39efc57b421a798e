// The run's answer from its repetitions (DESIGN.md rules 13-16): which host regime each
// repetition ran in, what each benchmark is judged on (its repetitions in the reference regime),
// its estimate with the interval and modes, and the report's `regimes` and `estimates` JSON
// (results/README.md). Plain values in, JSON out; coordinator side.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/estimate.hpp"

namespace ipcbench {

// What one repetition leaves for the stop rule and the estimates.
struct repetition_sample {
  std::uint64_t order = 0;  // its place in the run
  bool ok = false;
  double value = std::numeric_limits<double>::quiet_NaN();  // the benchmark's metric
  std::optional<double> line_ns, wake_ns;                   // floors measured beside it
  // The cache-line floors right before and right after it differ (adjacent_floors::moved): the
  // host moved during it, so it has no line_ns and belongs to no regime.
  bool moved = false;
  std::optional<double> copy_bps;  // the copy floor beside it, bytes/s (throughput repetitions)
  std::optional<double> cpu_ns_per_message;
  // Each peer's own share of it: its process's CPU time over the timed batch, per message.
  std::optional<double> producer_cpu_ns_per_message, consumer_cpu_ns_per_message;
  // The steal time of the peers' CPUs over the timed batch (/proc/stat, in its 10 ms ticks): the
  // host ran something else on them. nullopt where not read.
  std::optional<std::int64_t> steal_ns;
  // The longer of the two peers' waits for their CPUs over the timed batch (runnable, another
  // task running there: run_result::producer_waited_ns, consumer_waited_ns), as a share of the
  // batch's wall time; nullopt where not read (the coordinator reads them for one producer and
  // one consumer only: a pair, or pairs/1, fan_in/1, fan_out/1).
  std::optional<double> waited_share;
  // Each peer had a CPU to itself, with `waited_share` read: placement cross, and no helper
  // process, no library threads and no kernel threads (traits.kernel_threads) of the mechanism
  // beside the peers. Only then is a wait for the CPU the doing of a task that is not part of what
  // is measured.
  bool alone = false;
  // Where the library's threads ran (library_placement in bench/report.hpp), where measured.
  std::optional<std::string> library_placement;
  // Its timed batch's parts in order (run_result::sub_values): each part's value of the metric.
  // Empty where the batch was not split.
  std::vector<double> sub_values;
};

// One benchmark's repetitions so far.
struct benchmark_history {
  std::string name;
  std::string metric;  // schema::counter::kRttP50Ns or kBytesPerSecond
  std::vector<repetition_sample> samples;
  std::string stopped;  // converged, cap, budget, failed, skipped; empty while it goes on
  // A mechanism that runs threads of its own beside the peers (traits.library_threads) on no
  // more CPUs than the peers take: how many CPUs they share; 0 otherwise.
  std::size_t shared_cpus = 0;
  // The receiver waits by polling memory (traits.spins): a latency repetition is then bound by
  // the cache-line round trip beside it, else by the wake-up round trip.
  bool spins = false;
  // The floor a latency repetition of this benchmark waits on (as `spins` says).
  std::optional<double> floor_waited_on(const repetition_sample& s) const {
    return spins ? s.line_ns : s.wake_ns;
  }
};

// How the latency repetitions of the reference regime move with the floor they wait on (the
// wake-up round trip for a receiver that sleeps, the cache-line round trip for one that spins),
// fitted over the run: the slope of log(round trip) on log(floor), each benchmark's repetitions
// about their own medians, pooled, held to [0, 1]. A slope of 1 would be a round trip in
// proportion to the floor; measurement noise in the floor pulls the fit towards 0, so a floor
// that only scatters takes little out. A run with fewer than kMinFloorFit such repetitions, or
// none that repeats a benchmark beside a floor that moved (a --quick run: one repetition each),
// cannot fit it: its slope is then 1, assumed (`fitted` false), so that values measured beside
// different floors (the host's regimes among them) are compared in multiples of those floors.
// Across the regimes of the 2-vCPU development VM, the default runs of 2026-11-29 fitted 0.74-1.12
// for receivers that sleep (by size, 1 B to 4 MiB) and 0.83-1.01 for those that spin.
struct floor_fit {
  const char* floor = "";  // the floor's name in the report
  double slope = 0;
  double to_ns = 0;  // the floor's median over those repetitions: every value is taken to it
  std::size_t repetitions = 0;
  bool fitted = false;  // the slope was fitted; false: assumed 1, or no floor at all (slope 0)
  static constexpr std::size_t kMinFloorFit = 100;
};

// A stretch of the run in which the repetitions of every benchmark, taken together, ran well off
// their own medians: the host disturbed the run there beyond what its regimes tell apart
// (find_regimes). On the 2-vCPU development VM one stretch of 256 repetitions ran 46 % slower in
// throughput and 25 % in latency, every benchmark at once. The cache-line round trips beside it
// stayed in their states; the wake-up round trips rose 2.5-2.9x, but over too few repetitions
// (under 1 % of the run in each cache-line state) to make a wake-up state of their own.
struct disturbance {
  std::uint64_t first = 0, last = 0;  // its repetitions' orders, inclusive
  std::size_t repetitions = 0;        // the ok repetitions measured against their medians
  // The common change of latency and throughput repetitions there, as a fraction of their
  // medians' speed (-0.25: 25 % slower); nullopt with too few of them.
  std::optional<double> latency, throughput;
};
// Repetitions in a stretch of kDisturbanceWindow orders, each as its benchmark's speed over its
// median in the same regime (benchmarks with 3 or more repetitions there), give a common change
// per pattern: the median of those ratios, over kDisturbanceMinimum or more of them (and half a
// stretch or more over both patterns, which leaves out one the run has only begun). A stretch
// where either pattern's common change reaches kDisturbanceChange either way is a disturbance.
// One benchmark cannot move it (its repetitions are a few of the stretch's hundreds), and a
// benchmark that repeats near its median adds a ratio of 1, which pulls the common change toward
// none: a stretch is marked only where most benchmarks moved together.
inline constexpr std::uint64_t kDisturbanceWindow = 256;
inline constexpr std::size_t kDisturbanceMinimum = 20;
inline constexpr double kDisturbanceChange = 0.10;  // the stop rule's interval width (--ci-width)

// The run's pace beside one repetition: how fast the repetitions of the other benchmarks of its
// pattern (latency, or throughput) just before and after it ran against their own medians in the
// same regime (benchmarks with 3 or more repetitions there), the median of their speed ratios
// over the kPaceNeighbours nearest either side (1: as usual; 0.85: 15 % slower). A repetition ran
// some tens of milliseconds; one that ran while the host was slower for a second or a minute
// shares that with its neighbours, which a disturbance (a stretch of kDisturbanceWindow, 20 s or
// so, moved by 10 % at the median) does not mark when the spell is shorter or smaller. On the
// 2-vCPU VM one run's throughput ran 5-25 % slower for two minutes at the median, in spells:
// three quarters of the repetitions 1.4x or more off their own medians had neighbours 5 % slower
// or more, against a fifth of all repetitions. A throughput estimate is taken at the run's pace
// (basis_of); a spread the pace accounts for is said so (estimate_json's spread_at_run_pace).
inline constexpr std::size_t kPaceNeighbours = 8;
// A spread is put down to the pace only where the pace beside the fastest repetition is this
// much above the pace beside the slowest: a median of 16 neighbours' ratios moves by a per cent
// or two by chance.
inline constexpr double kPaceChange = 0.05;

// The host's regimes over every repetition that had a cache-line floor, in the order they ran.
struct run_regimes {
  estimate::regimes found;
  double reference_share = estimate::kReferenceShare;  // what the reference's state must hold
  std::vector<std::uint64_t> orders;                   // the repetition of each floor in `found.of`
  std::vector<double> line_ns;                         // the floors
  std::vector<std::optional<double>> wake_ns;
  // Latency repetitions in the reference regime, per floor they wait on (find_regimes).
  floor_fit sleeps{.floor = "wakeup_rtt_p50_ns"}, spins{.floor = "cache_line_rtt_p50_ns"};
  // The run's disturbances, in order. A benchmark's estimate leaves their repetitions out
  // (basis_of); they keep their regime, and are marked `disturbed` in the report.
  std::vector<disturbance> disturbed;
  // Every ok repetition of a benchmark with 3 or more in its regime, in the order they ran: the
  // logarithm of its speed over its benchmark's median there, and its benchmark (in `names`).
  struct speed_point {
    std::uint64_t order = 0;
    std::size_t benchmark = 0;
    bool latency = false;  // a round trip (else a rate)
    double log_speed = 0;
  };
  std::vector<speed_point> pace;
  std::vector<std::string> names;
  // The regime of the repetition at `order`; nullopt without a floor.
  std::optional<int> of(std::uint64_t order) const;
  bool in_disturbance(std::uint64_t order) const;
  // The run's pace beside the repetition at `order` of `h` (kPaceNeighbours), from the other
  // benchmarks of its pattern only; nullopt with fewer than kPaceNeighbours of them.
  std::optional<double> pace_beside(std::uint64_t order, const benchmark_history& h) const;
};
// `reference_share`: estimate::reference_regime's (a quick run's is smaller).
run_regimes find_regimes(const std::vector<benchmark_history>& all,
                         double reference_share = estimate::kReferenceShare);

// What a benchmark is judged on: its ok repetitions in the reference regime when it has any,
// otherwise in the regime it met most (said so in its estimate), and all of them when the run has
// no regimes; never a mix of regimes. Without its repetitions in the run's disturbances, or
// during whose timed batch the host took the peers' CPUs (steal time), where that regime has
// others. A latency benchmark whose repetitions all have the floor they wait on is judged on
// values taken to the reference regime's median floor (r.sleeps or r.spins, where its slope is
// above 0), whichever regime they were measured in: value x (to_ns / floor)^slope. A
// throughput benchmark whose repetitions all have the run's pace beside them (pace_beside) is
// judged on rates taken to it: value / pace. `raw` keeps the repetitions' own values, for their
// spread and modes.
struct basis {
  std::vector<std::size_t> samples;  // indices into the history's samples
  std::vector<double> values;
  std::vector<double> raw;
  std::optional<int> regime;
  const floor_fit* adjusted = nullptr;  // the fit the values were taken to the floor by
  bool at_pace = false;                 // the values were taken to the run's pace
  // Repetitions of the regime left out for lying in a disturbance of the run (run_regimes);
  // none where they were all it had there.
  std::size_t disturbed = 0;
  // Repetitions of the regime, in no disturbance, left out for the steal time the host took of
  // the peers' CPUs during their timed batch (repetition_sample::steal_ns); the same.
  std::size_t stolen = 0;
  // Repetitions of the regime, in no disturbance and without steal time, left out because
  // another task took a peer's CPU for kPreemptedShare or more of their timed batch (preempted);
  // the same.
  std::size_t preempted = 0;
  // Ok repetitions left out for belonging to no regime: the host moved during them (the
  // cache-line floors right before and right after them differ). 0 where the run has no regimes.
  std::size_t moved = 0;
};
basis basis_of(const benchmark_history& h, const run_regimes& r);

// A repetition whose peers each had a CPU of their own (repetition_sample::alone) and one of
// which waited runnable for it this share of the timed batch or more beyond what its benchmark's
// repetitions wait as a rule (`typical`: the median of their waited_share) was preempted: another
// task (of the guest: the host's own takes show as steal time instead) ran on that CPU, and the
// repetition measured that task as well as the mechanism. On the 2-vCPU development VM the
// peers of a pipe ping-pong waited 0-100 us of a 15 ms batch (under 1 %), and 1-6 ms (7-40 %)
// in the batches during which a kernel thread ran beside them: kdamond, the kernel's memory
// access monitor, which takes about 2 ms of one CPU every second there. A mechanism that makes
// the kernel work beside the peers in every batch (memfd.per_message waited 2-7 % of each in one
// quick run) waits that much as a rule, and only a wait beyond it is another task's.
inline constexpr double kPreemptedShare = 0.05;
// The median waited_share of a benchmark's ok repetitions that have one; 0 with none.
double typical_wait(const benchmark_history& h);
bool preempted(const repetition_sample& s, double typical);

// Whether the host is in the reference regime now (bench_session's batches): regime_now is the
// reference. With one regime so far, it is the reference once every benchmark has run once
// (`all_started`: a stationary host); before that not, so a run spends the host's first state on
// first repetitions, not on the headline.
bool in_reference_regime(const run_regimes& r, std::optional<double> last_line_ns, bool all_started,
                         std::optional<double> last_wake_ns = std::nullopt);

// The regime the host is in now: the cache-line state nearest `last_line_ns` (on a log scale),
// and within it the wake-up state nearest `last_wake_ns` (the recent wake-up round trips' median),
// or without one the state's longest held; nullopt with fewer than two regimes so far or no floor
// measured yet.
std::optional<int> regime_now(const run_regimes& r, std::optional<double> last_line_ns,
                              std::optional<double> last_wake_ns = std::nullopt);

// The stop rule (estimate::decide) for one benchmark on the run's regimes as they stand, judged
// after every batch, also for a benchmark that converged before, since the reference can change
// under it: with two regimes or more, a benchmark with no repetition in the reference goes on
// (`go_on`, or `cap` once it has run `max_repetitions`), whatever its other regimes show. A
// benchmark that converged in the fast state and then ran once in the slow one stayed stopped
// when the slow one became the reference, its estimate resting on that one repetition (26
// benchmarks of a 10-minute run, 4 of them in the 1 MiB ranking).
estimate::decision judge_stop(const benchmark_history& h, const run_regimes& r,
                              const estimate::stop_rule& rule);

// Whether a benchmark that has stopped (converged or at its cap) is to run once more because the
// host is in a regime (`now`) other than the reference with two regimes or more, and it has no
// repetition there yet. Its estimate stays on the reference; the repetition gives its value in
// the regime the host is in (the estimate's `by_regime`), so that two runs whose mixes differ
// can still compare it in a regime both met. A run that met the fast state for 85 % of its time
// stopped its headline benchmarks there, and not one of the 1 MiB throughput benchmarks ran in
// the slow state that held the other 15 %.
bool owes_regime(const benchmark_history& h, const run_regimes& r, int now);

// The order in which the benchmarks still going run next, furthest from an answer first
// (bench_session's batches). While the host is in the reference regime: the headline's benchmarks
// (`headline`: those the answer's rankings and claims rest on) that have fewer than
// `min_repetitions` there; then, in any regime, those that have not run yet (every benchmark runs
// once, whatever the budget: its first repetition goes before anyone's second), then every
// benchmark by its repetitions in the regime the host is in now, so each one samples every regime
// the host shows and two runs with different mixes still share a regime to compare it in (by its
// repetitions overall while the regime is not known). A ranking's benchmark (`ranking`:
// in_ranking) is paced over the whole run instead (`quota`, from ranking_quota): in the reference
// regime it goes first while it has fewer repetitions there than it is owed by now, and once it
// has them it waits behind every other benchmark. Elsewhere a repetition is a repetition. Once
// every benchmark has run, one that has run once only (`alone`) goes with the headline's short of
// their minimum, before anyone else's further repetitions: a run whose host held three regimes
// (2026-11-29) gave the headline's benchmarks their minimum in the reference regime, and their
// samples of the other two, at the price of 347 others left with a single repetition each, no
// spread and no interval. Ties go to the headline's benchmarks that have started, then to the
// widest interval (relative, infinite without one), then to the lower rank, then to the earlier
// index.
//
// Why the pace. The rankings' mechanisms lie close together (at 1 MiB, 18-21 of 37 within
// 1.9-2.5 GB/s on the 2-vCPU VM), so their order rests on differences of a few per cent, and the
// host moves a repetition's level by that much over tens of seconds within one regime. When the
// rankings' benchmarks ran first (until 8 each in the reference regime) and then stopped on the
// stop rule, their repetitions all fell in the first three minutes of a ten-minute run, and the
// mean of the 1 MiB repetitions about their own medians moved by 5-9 % from one 20 s window to
// another (three runs): each mechanism's estimate carried the host of its own minutes, which the
// other run did not share, and the two runs tied and ordered the same pairs by turns. Paced,
// every benchmark of a ranking samples the host over the whole run, at about the same times as
// the others of its ranking.
inline constexpr std::size_t kRankingMinimum = 16;
// A ranking's minimum is at most this many times the others' cap (quick's 5: 10).
inline constexpr int kRankingMinimumPerCap = 2;
// The share of the budget a ranking's repetitions are spread over: the last is owed a quarter of
// the budget before its end, so that a host outside the reference regime at the end does not cut
// it off. Spread over nine tenths, one run whose host left the slow state for its last two minutes
// ended every 1 MiB throughput benchmark at 15 repetitions there, where a median's 90 % interval
// is [4th, 12th] of them, against [5th, 12th] at 16, and its intervals were a median of 9.0 %
// wide against 5.6 % in the other run: the two runs tied and ordered 96 pairs by turns.
inline constexpr double kRankingSpread = 0.75;
// The stop rule of a ranking's benchmark: the repetitions it is owed in the reference regime
// (kRankingMinimum, or the others' minimum if more, at most kRankingMinimumPerCap times the
// others' cap; 0, no pace, where the others' minimum is 0) before it may converge there, and a
// cap of that minimum plus the others' cap, so that the
// repetitions it runs outside the reference regime, or in a regime that was the reference before
// another took its place, do not end it short of its minimum there (a cap of twice the others',
// 24, ended every 1 MiB benchmark of one run with 13-16 in the reference regime, where the fast
// state was the reference for the run's first minutes).
estimate::stop_rule ranking_rule(const estimate::stop_rule& rule);
// How many repetitions in the reference regime a ranking's benchmark is owed `elapsed_s` into a
// run of `budget_s`: `minimum` spread evenly over kRankingSpread of the budget, at least one;
// `minimum` itself without a budget. 0 where `minimum` is 0.
std::size_t ranking_quota(double elapsed_s, double budget_s, std::size_t minimum);
struct benchmark_need {
  std::size_t index = 0;
  bool headline = false;
  bool ranking = false;  // a headline ranking rests on it (in_ranking); implies headline
  bool started = false;  // it has run at least once
  std::size_t here = 0;  // repetitions (ok or not) in the regime the host is in now, or overall
  double width = 0;
  std::size_t rank = 0;  // the last tie-break (bench_session: a random permutation)
  // A ranking's benchmark: the repetitions it is owed in the reference regime by now
  // (ranking_quota); 0: not paced.
  std::size_t quota = 0;
  bool alone = false;  // every benchmark has run, and this one once only
};
std::vector<std::size_t> order_by_need(std::vector<benchmark_need> needs, bool in_reference,
                                       int min_repetitions);

// The seconds a budget sets aside for the first repetitions still owed (benchmarks that go on and
// have not run), at the mean cost of a repetition so far (`seconds`: each benchmark's time); 0
// before any has run. The budget's other repetitions fill only what is left after them.
double owed_to_first_repetitions(const std::vector<benchmark_history>& all,
                                 const std::vector<double>& seconds);

// The report's context.ipcbench.regimes (null without a floor) and one benchmark's entry of the
// top-level `estimates`.
nlohmann::json regimes_json(const run_regimes& r);
nlohmann::json estimate_json(const benchmark_history& h, const run_regimes& r,
                             const estimate::stop_rule& rule);

// The run's copy floor at each message size: the best of every copy floor measured at that size
// in the run (beside any repetition, in any regime, and the start's calibration `copy_by_size`,
// {"<size>": bytes/s or null}). On the 2-vCPU EPYC VM the host's copy rate between the two
// vCPUs flips between about 10 and 20-33 GB/s every 20 ms to 1 s, whatever the cache-line
// state, so a floor measured 10 ms before or after a 15 ms batch does not bound it; the best the
// run saw does. Rewrites each benchmark entry's numeric bytes_per_second_per_copy_floor to its
// ratio to that floor (null ones stay null: fan-in and fan-out, or no floor) and returns
// context.ipcbench.copy_floors: {"<size>": {median, min, max, p10, p90, samples}}, as the
// regimes' floors are summarised, the bound being `max`.
nlohmann::json apply_run_copy_floors(nlohmann::json& benchmarks,
                                     const nlohmann::json& copy_by_size);

// context.ipcbench.floor_check: the repetitions of mechanisms that copy the message out of the
// channel that carry a ratio to the run's copy floor at their size (apply_run_copy_floors), and
// those that beat it (a ratio above 1: the floor is wrong, not the mechanism fast), from the
// report's benchmark entries and its `mechanisms` (those whose receiver reads the message in
// place, copying nothing out, and those that declare `single_copy` are not bounded by a floor of
// two copies); and how many of those checked moved more than the floor measured beside them
// (`beat_the_floor_beside`), which the host's copy rate moving between the two does not make a bug.
// Likewise the latency repetitions with a cache-line floor beside them (`round_trips_checked`),
// and those whose p50 round trip came in under the lower of the floors before and after them
// (`line_floor_beaten`, the ratio below 1): the floor overstates what a line's trip costs there.
nlohmann::json floor_check_json(const nlohmann::json& benchmarks, const nlohmann::json& mechanisms);

// Two benchmarks' ok repetitions in one regime of the host, so that they are compared under the
// same host: the reference regime, where the estimates are taken (reference_regime), when both
// have `enough` repetitions there (at least 1); otherwise the regime both met most (the smaller
// count highest; the lower regime on a tie). Every ok repetition of each when the run has no
// regimes (regime nullopt, found true). With `cpu`, their CPU time per message instead of their
// metric. found false when no regime has repetitions of both. The reference first keeps a
// comparison in the state two runs both report their estimates from: a run that met the host's
// fast state most had compared spinning shared memory with a pipe there (faster at 16 KiB to
// 4 MiB), the next run, which met only the slow state, there (slower).
struct paired_values {
  bool found = false;
  std::optional<int> regime;
  std::vector<double> a, b;
};
paired_values in_common_regime(const benchmark_history& a, const benchmark_history& b,
                               const run_regimes& r, bool cpu = false, std::size_t enough = 0);
// Both histories' ok values (their CPU time per message with `cpu`) in every regime both ran
// in, one stratum per regime (its label: the regime; -1 in a run without regimes), for
// estimate::stratified_rank_test.
std::vector<estimate::rank_stratum> regime_strata(const benchmark_history& a,
                                                  const benchmark_history& b, const run_regimes& r,
                                                  bool cpu = false);

// The report's `process_tax` (--peers processes,threads): for every benchmark run with both
// process and thread peers, what process isolation costs on that channel. The two forms are
// compared in one regime of the host: the one both met most. The ratio is "how many times worse
// with processes": the process round trip over the thread round trip for latency, the thread
// throughput over the process throughput for throughput, of their medians in that regime. Its
// interval is the widest the two medians' `confidence` intervals allow (each end taken at the
// other's opposite end); the verdict says "processes slower" or "processes faster" only when
// that interval excludes 1, "tie" when it holds 1, and "untested" without both intervals (then
// `why` says how many repetitions each form had there and how many an interval needs). A form
// that was skipped or failed every time has no row; empty array when nothing ran both ways.
nlohmann::json process_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                                double confidence);

// The report's `namespace_tax`: what two network namespaces joined by a veth pair (two
// containers on one host) cost a TCP connection, against loopback in one namespace: for every
// tcp.netns benchmark with its tcp twin (same pattern, size and placement, process peers), the
// same comparison as process_tax with "netns" as the subject and "loopback" as the base; the
// verdicts are "namespaces slower", "namespaces faster", "tie" and "untested". Empty array when
// the run had no such pair.
nlohmann::json namespace_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                                  double confidence);

// The report's `relay_tax`: what one extra hop costs, a relay process between the peers
// (pipe.relay: read and write; pipe.relay.splice: splice), against the direct pipe: the same
// comparison, "relayed" against "direct", verdicts "relay slower", "relay faster", "tie" and
// "untested"; each row's id is the relay's. Empty array when the run had no such pair.
nlohmann::json relay_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                              double confidence);

// One tax row (process_tax_json and its twins) as the line the run prints: id, pattern, size,
// the ratio and its interval ("-" for what the row lacks, "inf" for an open upper end), then the
// verdict, or `why` when the row says why it is untested. The rows come sorted by id, pattern,
// message size (as a number) and placement.
std::string tax_line(const nlohmann::json& row);

}  // namespace ipcbench
