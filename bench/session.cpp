#include "session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <utility>

#include "harness/coordinator.hpp"

namespace ipcbench {

namespace {
// The largest message whose copy floor the station's region holds (8 MiB of ring for 4 MiB).
constexpr std::size_t kStationLargest = std::size_t{4} << 20;
}  // namespace

void bench_session::add(const bench_case& c) {
  const char* process = in_process(c.traits) ? "none"
                        : c.req.thread_peers ? "threads"
                                             : to_string(c.req.process);
  extras_.set_static(c.name, {.mechanism = c.traits.mechanism,
                              .variant = c.traits.variant,
                              .id = c.traits.id,
                              .family = c.traits.family,
                              .pattern = to_string(c.req.pat),
                              .message_size = c.req.message_size,
                              .placement = to_string(c.req.place),
                              .process = process,
                              .topology = c.topo ? to_string(*c.topo) : "",
                              .fan = c.fan});
  cases_.push_back(c);
  histories_.push_back({.name = c.name,
                        .metric = c.req.pat == pattern::latency ? schema::counter::kRttP50Ns
                                                                : schema::counter::kBytesPerSecond,
                        .samples = {},
                        .stopped = {}});
  if (c.traits.library_threads && cpus_allowed_ <= 2) histories_.back().shared_cpus = cpus_allowed_;
  histories_.back().spins = c.traits.spins;
  seconds_.push_back(0);
  ns_per_message_.push_back(0);
  if (!c.topo) {
    const std::string key = c.traits.id + "/" + to_string(c.req.pat) + "/" +
                            to_string(c.req.place) + (c.req.thread_peers ? ".threads" : "") +
                            (c.req.process == process_model::spawn ? ".spawn" : "");
    siblings_[key].push_back(cases_.size() - 1);
    sibling_key_.push_back(key);
  } else {
    sibling_key_.emplace_back();
  }
  headline_.push_back(in_headline(c));
  ranking_.push_back(in_ranking(c));
}

void bench_session::calibrate(cpu_choice cpus, const std::vector<std::size_t>& sizes) {
  cpus_ = std::move(cpus);
  adjacent_floors_ = two_cpus(cpus_);
  floors_ = measure_calibration(cpus_, sizes);
  if (adjacent_floors_) {
    // Its region holds the copy floor of the largest size up to 4 MiB; a larger one forks.
    std::size_t largest = 1;
    for (std::size_t size : sizes) largest = std::max(largest, std::min(size, kStationLargest));
    try {
      station_ = std::make_unique<floor_station>(cpus_.producer, cpus_.consumer,
                                                 copy_floor_bytes(largest));
    } catch (const std::exception&) {
      station_.reset();
    }
  }
}

adjacent_floors bench_session::measure_adjacent(const bench_case& c) const {
  if (!adjacent_floors_) return {};
  // The cache-line round trip beside every repetition tells the host's regime; the other
  // floors bound a pair: not the in-process calibration, nor the aggregate of N producers or N
  // consumers sharing a channel.
  const bool bounds = c.traits.kind != channel_kind::calibration && floors_apply(c);
  std::optional<double> just_measured;
  if (last_line_ns_ && std::chrono::steady_clock::now() - last_line_at_ < kLineReuse)
    just_measured = last_line_ns_;
  return measure_adjacent_floors(cpus_, c.req.pat, c.req.message_size, bounds, just_measured,
                                 station_.get());
}

void bench_session::run(benchmark::BenchmarkReporter& reporter, const repetition_plan& plan,
                        bool progress) {
  plan_ = plan;
  // The rankings' pace needs a budget to spread over; without one (whole rounds, or a fixed
  // count) every benchmark has the same rule.
  ranking_rule_ = plan.budget_s > 0 ? ranking_rule(plan.rule) : plan.rule;
  std::mt19937_64 rng(plan.seed);
  // Ties in order_by_need go to a random rank, so no mechanism always runs before another.
  rank_.resize(cases_.size());
  for (std::size_t i = 0; i < rank_.size(); ++i) rank_[i] = i;
  std::shuffle(rank_.begin(), rank_.end(), rng);
  const auto t0 = std::chrono::steady_clock::now();
  if (progress) progress_.start(plan.budget_s > 0 ? cases_.size() : 0, plan.budget_s);
  for (;;) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::size_t> chosen = plan_round(elapsed);
    if (chosen.empty()) break;
    std::shuffle(chosen.begin(), chosen.end(), rng);
    benchmark::ClearRegisteredBenchmarks();
    for (std::size_t i : chosen)
      benchmark::RegisterBenchmark(cases_[i].name.c_str(),
                                   [this, i](benchmark::State& state) { run_repetition(state, i); })
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    progress_.extend(chosen.size());
    benchmark::RunSpecifiedBenchmarks(&reporter, ".");
    regimes_ = find_regimes(histories_, plan.reference_share);
    // The stop rule, on the regimes as they stand now: for what ran in this batch and is still
    // going, and for what had converged, since the reference can change under it (judge_stop).
    std::vector<bool> ran(histories_.size(), false);
    for (std::size_t i : chosen) ran[i] = true;
    const char* converged = estimate::to_string(estimate::decision::converged);
    for (std::size_t i = 0; i < histories_.size(); ++i) {
      benchmark_history& h = histories_[i];
      if (!(ran[i] && h.stopped.empty()) && h.stopped != converged) continue;  // failed, skipped
      const auto d = judge_stop(h, regimes_, ranking_[i] ? ranking_rule_ : plan_.rule);
      h.stopped = d == estimate::decision::go_on ? "" : estimate::to_string(d);
    }
  }
  for (auto& h : histories_)
    if (h.stopped.empty()) h.stopped = "budget";
  benchmark::ClearRegisteredBenchmarks();
  progress_.finish();
}

bool bench_session::all_started() const {
  return std::ranges::none_of(histories_,
                              [](auto& h) { return h.stopped.empty() && h.samples.empty(); });
}

bool bench_session::host_in_reference() const {
  return in_reference_regime(regimes_, last_line_ns_, all_started(), recent_wake_ns());
}

std::optional<double> bench_session::recent_wake_ns() const {
  if (last_wake_ns_.empty()) return std::nullopt;
  return estimate::median(last_wake_ns_);
}

std::vector<std::size_t> bench_session::plan_round(double elapsed_s) {
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < histories_.size(); ++i)
    if (histories_[i].stopped.empty()) active.push_back(i);
  // A fixed count runs in whole rounds.
  if (plan_.budget_s <= 0) return active;
  // Otherwise batches of a few seconds, furthest from an answer first (order_by_need): while the
  // host is in the reference regime, the headline's benchmarks short of the minimum there, then
  // the fewest repetitions there; in another regime, the fewest repetitions in that one. So the
  // first repetitions of the rest of the sweep take the time the host spends outside the
  // reference, not the headline's time in it (a first round of every benchmark at once gave them
  // 60 % of it), and every benchmark samples each regime the host shows: two runs that met the
  // regimes in different mixes can still be compared in one they share. Every benchmark still
  // runs once at least, whatever the budget.
  const bool in_reference = host_in_reference();
  // Without regimes (no floors: placement none) every repetition counts as the reference's.
  // -1: not known (count every repetition).
  const int now = regimes_.found.list.empty() ? -1
                  : in_reference
                      ? regimes_.found.reference
                      : regime_now(regimes_, last_line_ns_, recent_wake_ns()).value_or(-1);
  // Outside the reference, what stopped there runs once in the regime the host is in (owes_regime).
  for (std::size_t i = 0; i < histories_.size(); ++i)
    if (owes_regime(histories_[i], regimes_, now)) active.push_back(i);
  if (active.empty()) return active;
  // What a ranking's benchmark is owed in the reference regime by now (order_by_need).
  const std::size_t quota = ranking_quota(elapsed_s, plan_.budget_s,
                                          static_cast<std::size_t>(ranking_rule_.min_repetitions));
  const bool everyone_ran = all_started();
  std::vector<benchmark_need> needs;
  needs.reserve(active.size());
  for (std::size_t i : active) {
    const benchmark_history& h = histories_[i];
    const basis b = basis_of(h, regimes_);
    const auto ci = estimate::median_interval(b.values, plan_.rule.confidence);
    const double mid = estimate::median(b.values);
    const auto here = now < 0
                          ? h.samples.size()
                          : static_cast<std::size_t>(std::ranges::count_if(h.samples, [&](auto& x) {
                              return regimes_.of(x.order).value_or(-1) == now;
                            }));
    needs.push_back({.index = i,
                     .headline = headline_[i],
                     .ranking = ranking_[i],
                     .started = !h.samples.empty(),
                     .here = here,
                     .width = ci && mid != 0 ? (ci->hi - ci->lo) / std::abs(mid) : HUGE_VAL,
                     .rank = rank_[i],
                     .quota = ranking_[i] ? quota : 0,
                     .alone = everyone_ran && h.samples.size() == 1});
  }
  active = order_by_need(std::move(needs), in_reference, plan_.rule.min_repetitions);
  constexpr std::size_t kBatch = 32;
  std::vector<std::size_t> chosen;
  // The first repetitions still to run are owed whatever the budget: their time is set aside, at
  // the mean cost of a repetition so far, and the others fill what is left. A budget shorter than
  // one repetition of each (quick) then ends with the last first repetition instead of running
  // the headline's further ones before them and the first ones past it.
  const double owed = owed_to_first_repetitions(histories_, seconds_);
  double left = plan_.budget_s - elapsed_s - owed;
  for (std::size_t i : active) {
    if (chosen.size() == kBatch) break;
    if (histories_[i].samples.empty()) {  // its first repetition: runs whatever the budget
      chosen.push_back(i);
      continue;
    }
    const double cost = seconds_[i] / static_cast<double>(histories_[i].samples.size());
    if (cost > left) continue;
    chosen.push_back(i);
    left -= cost;
  }
  return chosen;
}

double hint_from_smaller(const std::vector<std::pair<std::size_t, double>>& sizes,
                         std::size_t size) {
  double hint = 0;
  std::size_t best = 0;
  for (const auto& [s, ns] : sizes)
    if (s < size && s >= best && ns > 0) {
      best = s;
      hint = ns;
    }
  return hint;
}

double sizing_basis(double hint, pattern p, std::optional<double> wake_rtt_ns) {
  if (hint > 0) return hint;
  if (p == pattern::latency && wake_rtt_ns && *wake_rtt_ns > 0) return *wake_rtt_ns;
  return 0;
}

double bench_session::sizing_hint(std::size_t index) const {
  if (ns_per_message_[index] > 0) return ns_per_message_[index];
  const auto it = siblings_.find(sibling_key_[index]);
  if (it == siblings_.end()) return 0;
  std::vector<std::pair<std::size_t, double>> sizes;
  for (std::size_t k : it->second)
    sizes.emplace_back(cases_[k].req.message_size, ns_per_message_[k]);
  return hint_from_smaller(sizes, cases_[index].req.message_size);
}

void bench_session::run_repetition(benchmark::State& state, std::size_t index) {
  const bench_case& c = cases_[index];
  const auto t0 = std::chrono::steady_clock::now();
  progress_.step(c.name);
  const auto started = std::chrono::system_clock::now().time_since_epoch();
  const std::uint64_t order = next_order_++;
  adjacent_floors adjacent = measure_adjacent(c);
  run_request req = c.req;
  req.timer_ns = floors_.timer_ns;
  req.tsc_ns_per_tick = floors_.tsc_ns_per_tick();
  // One pair, or pairs/N, that has run before, or a round trip with the wake-up floor just
  // measured, sizes its batches with a shorter sizing run (sizing_basis; a fan's sizing run fills
  // its shared ring, and a paced or lossy stream's trials size their own).
  const bool hinted = (!c.topo || *c.topo == topology::pairs) && !c.traits.lossy &&
                      !c.traits.paced && !in_process(c.traits);
  if (const double hint =
          hinted ? sizing_basis(sizing_hint(index), c.req.pat, adjacent.wake_rtt_p50_ns) : 0;
      hint > 0)
    req.warmup_messages = hinted_sizing_count(req, hint);
  const run_result r = c.run(req);
  std::optional<double> achieved;  // what the repetition moved: the copy floor's second look
  if (r.status == run_status::ok && r.messages > 0 && r.elapsed_ns > 0) {
    // One pair's time per message: pairs/N count every pair's messages over their common window.
    const double pairs =
        c.topo == topology::pairs ? static_cast<double>(std::max<std::size_t>(c.fan, 1)) : 1.0;
    ns_per_message_[index] =
        pairs * static_cast<double>(r.elapsed_ns) / static_cast<double>(r.messages);
    achieved = r.bytes_per_second(c.req.message_size);
  }
  measure_floors_after(adjacent, cpus_, c.req.pat, c.req.message_size, station_.get(), achieved);
  const auto after_at = std::chrono::steady_clock::now();
  repetition_report rep = assemble_repetition(c, r, floors_, adjacent);
  rep.fields.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started).count();
  rep.fields.order = order;
  record(c, rep);

  benchmark_history& h = histories_[index];
  repetition_sample sample;
  sample.order = order;
  sample.ok = r.status == run_status::ok;
  // A repetition during which the host moved belongs to no regime.
  sample.moved = adjacent.moved();
  if (!sample.moved) sample.line_ns = adjacent.line_rtt_p50_ns;
  if (adjacent.line_after_rtt_p50_ns) {
    last_line_ns_ = adjacent.line_after_rtt_p50_ns;
    last_line_at_ = after_at;
  }
  sample.wake_ns = adjacent.wake_rtt_p50_ns;
  if (sample.wake_ns) {
    // As many as the regimes' wake-up states take each floor's median over (detect_regimes).
    constexpr std::size_t kRecentWake = 5;
    if (last_wake_ns_.size() == kRecentWake) last_wake_ns_.erase(last_wake_ns_.begin());
    last_wake_ns_.push_back(*sample.wake_ns);
  }
  sample.copy_bps = adjacent.copy_bytes_per_second;
  if (const auto v = rep.counters.find(h.metric); v != rep.counters.end()) sample.value = v->second;
  if (const auto v = rep.counters.find(schema::counter::kCpuNsPerMessage); v != rep.counters.end())
    sample.cpu_ns_per_message = v->second;
  if (sample.ok && r.messages > 0) {
    const auto per_message = [&](std::int64_t ns) {
      return static_cast<double>(ns) / static_cast<double>(r.messages);
    };
    sample.producer_cpu_ns_per_message = per_message(r.producer_cpu.total_ns);
    sample.consumer_cpu_ns_per_message = per_message(r.consumer_cpu.total_ns);
  }
  sample.library_placement = library_placement(r);
  if (sample.ok) sample.sub_values = r.sub_values;
  if (r.cpu_states) {
    std::int64_t steal = 0;
    for (const auto& [cpu, t] : r.cpu_states->cpus) steal += t.steal_ns;
    sample.steal_ns = steal;
  }
  if (r.producer_waited_ns && r.consumer_waited_ns && r.elapsed_ns > 0)
    sample.waited_share =
        static_cast<double>(std::max(*r.producer_waited_ns, *r.consumer_waited_ns)) /
        static_cast<double>(r.elapsed_ns);
  sample.alone = c.req.place == placement::cross && !c.traits.library_threads &&
                 !c.traits.kernel_threads && !r.helpers;
  sample.ok = sample.ok && std::isfinite(sample.value);
  h.samples.push_back(sample);
  if (r.status != run_status::ok)
    h.stopped = r.status == run_status::skipped ? "skipped" : "failed";
  seconds_[index] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (r.status != run_status::ok) {
    // A lossy mechanism that lost round trips did what it is: the latency run is reported failed
    // with the counts, but it does not set the exit code. (A lossy stream that lost datagrams is
    // ok, with its goodput and loss rate.)
    if (r.status == run_status::failed) {
      if (only_loss(c, r))
        extras_.count_loss();
      else
        extras_.count_failure();
    }
    extras_.add_repetition(c.name, std::move(rep.fields));
    skip_run(state, schema::error_message(report_status(r.status), r.reason));
    return;
  }
  for (auto _ : state) state.SetIterationTime(rep.seconds_per_iteration);
  for (const auto& [name, value] : rep.counters) state.counters[name] = value;
  extras_.add_repetition(c.name, std::move(rep.fields));
}

std::vector<probes::run_record> bench_session::records() const {
  std::vector<probes::run_record> out = records_;
  for (auto& r : out) r.regime = regimes_.of(r.order);
  return out;
}

void bench_session::record(const bench_case& c, const repetition_report& rep) {
  // As the report has it: a counter that is not a finite number is null there.
  const auto bps = rep.counters.find(schema::counter::kBytesPerSecond);
  const bool has_bps = bps != rep.counters.end() && std::isfinite(bps->second);
  records_.push_back({.id = c.traits.id,
                      .pattern = to_string(c.req.pat),
                      .message_size = c.req.message_size,
                      .placement = to_string(c.req.place),
                      .topology = c.topo ? to_string(*c.topo) : "",
                      .ok = rep.fields.state == schema::status::ok,
                      .bytes_per_second = has_bps ? std::optional(bps->second) : std::nullopt,
                      .order = rep.fields.order.value_or(0),
                      .regime = std::nullopt});
}

nlohmann::json bench_session::stop_rule_json() const {
  const auto& r = plan_.rule;
  const bool paced = plan_.budget_s > 0;
  static constexpr const char* kPacedRule =
      "the headline's benchmarks at their ranking's size (latency at latency_size, throughput at "
      "throughput_size) are paced over the run: while the host is in the reference regime, each "
      "runs first while it has fewer repetitions there than min_repetitions times the share of "
      "spread x budget_s elapsed, and waits behind the others once it has them; it converges no "
      "sooner than min_repetitions there, and stops at max_repetitions, so that every mechanism "
      "of a ranking samples the host over the whole run";
  return {{"confidence", r.confidence},
          {"relative_width", r.relative_width},
          {"min_repetitions", r.min_repetitions},
          {"max_repetitions", r.max_repetitions},
          {"budget_s", plan_.budget_s},
          {"basis", "reference regime"},
          {"headline_first",
           {{"sizes", kHeadlineSizes},
            {"rule",
             "while the host is in the reference regime, a mechanism's one-pair benchmarks with "
             "process peers at these sizes run first until each has min_repetitions there"}}},
          {"ranking_pace",
           {{"latency_size", schema::kRankingLatencySize},
            {"throughput_size", schema::kRankingThroughputSize},
            {"min_repetitions", ranking_rule_.min_repetitions},
            {"max_repetitions", ranking_rule_.max_repetitions},
            {"spread", paced ? nlohmann::json(kRankingSpread) : nlohmann::json(nullptr)},
            {"rule", paced ? kPacedRule
                           : "no budget to pace over: the same rule as every other benchmark"}}},
          {"seed", plan_.seed},
          {"metrics",
           {{"latency", schema::counter::kRttP50Ns},
            {"throughput", schema::counter::kBytesPerSecond}}}};
}

nlohmann::json bench_session::estimates_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& h : histories_) j[h.name] = estimate_json(h, regimes_, plan_.rule);
  return j;
}

}  // namespace ipcbench
