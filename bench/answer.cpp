#include "answer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "report/schema.hpp"

namespace ipcbench {

using nlohmann::json;

bool run_regimes::in_disturbance(std::uint64_t order) const {
  return std::ranges::any_of(
      disturbed, [&](const disturbance& d) { return d.first <= order && order <= d.last; });
}

std::optional<int> run_regimes::of(std::uint64_t order) const {
  const auto it = std::lower_bound(orders.begin(), orders.end(), order);
  if (it == orders.end() || *it != order) return std::nullopt;
  return found.of[static_cast<std::size_t>(it - orders.begin())];
}

std::optional<double> run_regimes::pace_beside(std::uint64_t order,
                                               const benchmark_history& h) const {
  const auto at =
      std::lower_bound(pace.begin(), pace.end(), order,
                       [](const speed_point& p, std::uint64_t o) { return p.order < o; });
  const bool latency = h.metric == schema::counter::kRttP50Ns;
  std::vector<double> near;
  const auto other = [&](const speed_point& p) {
    return p.latency == latency && p.order != order && names[p.benchmark] != h.name;
  };
  for (auto it = at; it != pace.begin() && near.size() < kPaceNeighbours;)
    if (--it; other(*it)) near.push_back(it->log_speed);
  const std::size_t before = near.size();
  for (auto it = at; it != pace.end() && near.size() < before + kPaceNeighbours; ++it)
    if (other(*it)) near.push_back(it->log_speed);
  if (near.size() < kPaceNeighbours) return std::nullopt;
  return std::exp(estimate::median(near));
}

namespace {

// The run's disturbances (disturbance, above), from the repetitions' speeds (run_regimes::pace).
std::vector<disturbance> find_disturbances(const run_regimes& r) {
  // Per stretch, each pattern's repetitions as log(speed / median speed): [0] throughput,
  // [1] latency.
  std::map<std::uint64_t, std::array<std::vector<double>, 2>> stretches;
  for (const auto& p : r.pace)
    stretches[p.order / kDisturbanceWindow][p.latency].push_back(p.log_speed);
  std::vector<disturbance> out;
  for (const auto& [k, sides] : stretches) {
    // A stretch the run has only begun (its last, say) says too little.
    if (sides[0].size() + sides[1].size() < kDisturbanceWindow / 2) continue;
    disturbance d{.first = k * kDisturbanceWindow,
                  .last = (k + 1) * kDisturbanceWindow - 1,
                  .repetitions = sides[0].size() + sides[1].size(),
                  .latency = std::nullopt,
                  .throughput = std::nullopt};
    bool off = false;
    for (std::size_t latency = 0; latency < 2; ++latency) {
      if (sides[latency].size() < kDisturbanceMinimum) continue;
      const double change = std::exp(estimate::median(sides[latency])) - 1.0;
      (latency ? d.latency : d.throughput) = change;
      off = off || std::abs(change) >= kDisturbanceChange;
    }
    if (off) out.push_back(d);
  }
  return out;
}

}  // namespace

run_regimes find_regimes(const std::vector<benchmark_history>& all, double reference_share) {
  std::vector<const repetition_sample*> series;
  for (const auto& h : all)
    for (const auto& s : h.samples)
      if (s.line_ns) series.push_back(&s);
  std::sort(series.begin(), series.end(), [](auto a, auto b) { return a->order < b->order; });
  run_regimes r;
  r.reference_share = reference_share;
  for (const auto* s : series) {
    r.orders.push_back(s->order);
    r.line_ns.push_back(*s->line_ns);
    r.wake_ns.push_back(s->wake_ns);
  }
  r.found = estimate::detect_regimes(r.line_ns, r.wake_ns, reference_share);
  if (r.found.list.empty()) return r;
  // Every repetition's speed against its benchmark's median in its regime.
  for (std::size_t k = 0; k < all.size(); ++k) {
    const auto& h = all[k];
    const bool latency = h.metric == schema::counter::kRttP50Ns;
    r.names.push_back(h.name);
    std::map<int, std::vector<const repetition_sample*>> by;
    for (const auto& s : h.samples)
      if (s.ok && s.value > 0)
        if (const auto g = r.of(s.order)) by[*g].push_back(&s);
    for (const auto& [g, list] : by) {
      if (list.size() < 3) continue;
      std::vector<double> logs;
      for (const auto* s : list) logs.push_back(std::log(s->value));
      const double m = estimate::median(logs);
      for (const auto* s : list)
        r.pace.push_back({.order = s->order,
                          .benchmark = k,
                          .latency = latency,
                          .log_speed = (latency ? -1.0 : 1.0) * (std::log(s->value) - m)});
    }
  }
  std::sort(r.pace.begin(), r.pace.end(),
            [](const auto& x, const auto& y) { return x.order < y.order; });
  r.disturbed = find_disturbances(r);
  // The floor fits: each latency benchmark's repetitions in the reference regime that have the
  // floor they wait on, in logarithms about the benchmark's own medians, pooled per floor.
  struct sums {
    double xx = 0, xy = 0;
    std::vector<double> floors;
  } by[2];  // [0]: receivers that sleep, [1]: that spin
  for (const auto& h : all) {
    if (h.metric != schema::counter::kRttP50Ns) continue;
    std::vector<double> lv, lf;
    for (const auto& s : h.samples) {
      const std::optional<double> f = h.floor_waited_on(s);
      if (!s.ok || !f || !(*f > 0) || !(s.value > 0) || r.of(s.order) != r.found.reference)
        continue;
      lv.push_back(std::log(s.value));
      lf.push_back(std::log(*f));
      by[h.spins].floors.push_back(*f);
    }
    if (lv.size() < 2) continue;
    const double mv = estimate::median(lv), mf = estimate::median(lf);
    for (std::size_t i = 0; i < lv.size(); ++i) {
      by[h.spins].xx += (lf[i] - mf) * (lf[i] - mf);
      by[h.spins].xy += (lf[i] - mf) * (lv[i] - mv);
    }
  }
  for (int k = 0; k < 2; ++k) {
    floor_fit& fit = k == 0 ? r.sleeps : r.spins;
    fit.repetitions = by[k].floors.size();
    if (by[k].floors.empty()) continue;
    fit.to_ns = estimate::median(by[k].floors);
    fit.fitted = fit.repetitions >= floor_fit::kMinFloorFit && by[k].xx > 0;
    fit.slope = fit.fitted ? std::clamp(by[k].xy / by[k].xx, 0.0, 1.0) : 1.0;
  }
  return r;
}

double typical_wait(const benchmark_history& h) {
  std::vector<double> shares;
  for (const repetition_sample& s : h.samples)
    if (s.ok && s.waited_share) shares.push_back(*s.waited_share);
  return shares.empty() ? 0.0 : estimate::median(shares);
}

bool preempted(const repetition_sample& s, double typical) {
  return s.alone && s.waited_share && *s.waited_share - typical >= kPreemptedShare;
}

basis basis_of(const benchmark_history& h, const run_regimes& r) {
  basis b;
  std::map<int, std::size_t> count;
  std::vector<std::optional<int>> regime(h.samples.size());
  for (std::size_t i = 0; i < h.samples.size(); ++i)
    if (h.samples[i].ok && (regime[i] = r.of(h.samples[i].order))) ++count[*regime[i]];
  if (!count.empty()) {
    int pick = r.found.reference;
    if (!count.contains(pick))
      pick = std::max_element(count.begin(), count.end(), [](auto& x, auto& y) {
               return x.second < y.second;
             })->first;
    b.regime = pick;
  }
  // The repetitions in the run's disturbances, those during whose timed batch the host took
  // the peers' CPUs (steal time), and those during which another task took one (preempted), are
  // left out where the regime keeps others.
  const auto stolen = [&](std::size_t i) {
    return h.samples[i].steal_ns && *h.samples[i].steal_ns > 0;
  };
  const double typical = typical_wait(h);
  const auto in_basis = [&](std::size_t i, bool clean) {
    return h.samples[i].ok && (!b.regime || regime[i] == b.regime) &&
           !(clean && (r.in_disturbance(h.samples[i].order) || stolen(i) ||
                       preempted(h.samples[i], typical)));
  };
  bool clean = false;
  for (std::size_t i = 0; i < h.samples.size() && !clean; ++i) clean = in_basis(i, true);
  for (std::size_t i = 0; i < h.samples.size(); ++i)
    if (in_basis(i, clean)) {
      b.samples.push_back(i);
      b.raw.push_back(h.samples[i].value);
    }
  for (std::size_t i = 0; i < h.samples.size(); ++i)
    if (clean && in_basis(i, false) && !in_basis(i, true))
      ++(r.in_disturbance(h.samples[i].order) ? b.disturbed : stolen(i) ? b.stolen : b.preempted);
  if (b.regime)
    for (const repetition_sample& s : h.samples) b.moved += s.ok && s.moved;
  b.values = b.raw;
  // Throughput taken to the run's pace beside each repetition, every one with a pace.
  if (h.metric == schema::counter::kBytesPerSecond) {
    std::vector<double> paced;
    for (std::size_t k = 0; k < b.samples.size(); ++k) {
      const std::optional<double> pace = r.pace_beside(h.samples[b.samples[k]].order, h);
      if (!pace || !(*pace > 0)) return b;
      paced.push_back(b.raw[k] / *pace);
    }
    b.at_pace = !paced.empty();
    b.values = std::move(paced);
    return b;
  }
  // Taken to the reference regime's median floor: a latency benchmark in a regime, every
  // repetition with its floor (one judged in another regime is taken from its floors there).
  const floor_fit& fit = h.spins ? r.spins : r.sleeps;
  if (h.metric != schema::counter::kRttP50Ns || !b.regime || !(fit.slope > 0) || b.samples.empty())
    return b;
  for (std::size_t k = 0; k < b.samples.size(); ++k) {
    const repetition_sample& s = h.samples[b.samples[k]];
    const std::optional<double> f = h.floor_waited_on(s);
    if (!f || !(*f > 0)) {
      b.values = b.raw;
      return b;
    }
    b.values[k] = b.raw[k] * std::pow(fit.to_ns / *f, fit.slope);
  }
  b.adjusted = &fit;
  return b;
}

std::optional<int> regime_now(const run_regimes& r, std::optional<double> last_line_ns,
                              std::optional<double> last_wake_ns) {
  const auto& list = r.found.list;
  if (list.size() < 2 || !last_line_ns) return std::nullopt;
  const auto apart = [](double x, double y) { return std::abs(std::log(x / y)); };
  // The cache-line state nearest the last cache-line round trip, then its wake-up state nearest
  // the last wake-up round trip; without one, the state's longest held.
  std::size_t nearest = 0;
  for (std::size_t k = 1; k < list.size(); ++k)
    if (apart(*last_line_ns, list[k].median) < apart(*last_line_ns, list[nearest].median))
      nearest = k;
  const int state = list[nearest].line_state;
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (list[k].line_state != state || k == nearest) continue;
    const auto& a = list[k];
    const auto& b = list[nearest];
    const bool closer =
        last_wake_ns && a.wake_median && b.wake_median
            ? apart(*last_wake_ns, *a.wake_median) < apart(*last_wake_ns, *b.wake_median)
            : a.count > b.count;
    if (closer) nearest = k;
  }
  return static_cast<int>(nearest);
}

bool in_reference_regime(const run_regimes& r, std::optional<double> last_line_ns, bool all_started,
                         std::optional<double> last_wake_ns) {
  if (r.found.list.size() < 2) return all_started;
  const auto now = regime_now(r, last_line_ns, last_wake_ns);
  return !now || *now == r.found.reference;
}

estimate::decision judge_stop(const benchmark_history& h, const run_regimes& r,
                              const estimate::stop_rule& rule) {
  const auto ok = static_cast<int>(std::ranges::count_if(h.samples, [](auto& s) { return s.ok; }));
  const basis b = basis_of(h, r);
  if (r.found.list.size() >= 2 && b.regime != r.found.reference)  // none in the reference yet
    return ok >= rule.max_repetitions ? estimate::decision::cap : estimate::decision::go_on;
  return estimate::decide(rule, b.values, ok);
}

bool owes_regime(const benchmark_history& h, const run_regimes& r, int now) {
  if (r.found.list.size() < 2 || now < 0 || now == r.found.reference) return false;
  if (h.stopped != estimate::to_string(estimate::decision::converged) &&
      h.stopped != estimate::to_string(estimate::decision::cap))
    return false;
  return std::ranges::none_of(h.samples,
                              [&](const repetition_sample& s) { return r.of(s.order) == now; });
}

estimate::stop_rule ranking_rule(const estimate::stop_rule& rule) {
  estimate::stop_rule r = rule;
  const int min = std::max(rule.min_repetitions, 0);
  const int most = std::max(kRankingMinimumPerCap * rule.max_repetitions, min);
  r.min_repetitions =
      min > 0 ? std::min(std::max(min, static_cast<int>(kRankingMinimum)), most) : 0;
  r.max_repetitions = r.min_repetitions + rule.max_repetitions;
  return r;
}

std::size_t ranking_quota(double elapsed_s, double budget_s, std::size_t minimum) {
  if (minimum == 0) return 0;
  if (!(budget_s > 0)) return minimum;
  const double share = std::clamp(elapsed_s / (kRankingSpread * budget_s), 0.0, 1.0);
  const auto owed = static_cast<std::size_t>(std::ceil(share * static_cast<double>(minimum)));
  return std::clamp<std::size_t>(owed, 1, minimum);
}

std::vector<std::size_t> order_by_need(std::vector<benchmark_need> needs, bool in_reference,
                                       int min_repetitions) {
  const auto min = static_cast<std::size_t>(std::max(min_repetitions, 0));
  const auto key = [&](const benchmark_need& n) {
    // A ranking's benchmark in the reference regime: owed a repetition there now, or waiting.
    const bool paced = in_reference && n.ranking && n.quota > 0;
    const bool first = in_reference && n.headline && n.here < (paced ? n.quota : min);
    const bool waits = paced && !first;
    // Among started benchmarks with as many repetitions here, the headline's first: outside the
    // reference, the answer's own benchmarks then sample the regime before the rest of the sweep.
    const bool headline_here = n.started && n.headline;
    return std::tuple(waits, !(first || n.alone), n.started, n.here, !headline_here, -n.width,
                      n.rank, n.index);
  };
  std::sort(needs.begin(), needs.end(),
            [&](const benchmark_need& a, const benchmark_need& b) { return key(a) < key(b); });
  std::vector<std::size_t> order;
  order.reserve(needs.size());
  for (const auto& n : needs) order.push_back(n.index);
  return order;
}

double owed_to_first_repetitions(const std::vector<benchmark_history>& all,
                                 const std::vector<double>& seconds) {
  std::size_t unstarted = 0, done = 0;
  double spent = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    spent += seconds[i];
    done += all[i].samples.size();
    if (all[i].stopped.empty() && all[i].samples.empty()) ++unstarted;
  }
  return done == 0 ? 0 : static_cast<double>(unstarted) * spent / static_cast<double>(done);
}

namespace {

json spread_json(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  return {{"median", estimate::median(v)}, {"min", v.front()}, {"max", v.back()}};
}

json series_json(std::vector<double> v) {
  if (v.empty()) return nullptr;
  json j = spread_json(v);
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) {
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
  };
  j["p10"] = at(0.1);
  j["p90"] = at(0.9);
  j["samples"] = v.size();
  return j;
}

// Why the modes differ, where the repetitions show it: the CPU both peers spent per message,
// the wake-up floor beside them, or one peer's own CPU per message.
json mode_cause(const benchmark_history& h, const basis& b,
                const std::vector<estimate::mode>& modes) {
  auto median_of = [&](const estimate::mode& m, auto field) {
    std::vector<double> v;
    for (std::size_t k : m.members)
      if (const auto x = h.samples[b.samples[k]].*field) v.push_back(*x);
    return estimate::median(v);
  };
  const auto& slow = h.metric == "bytes_per_second" ? modes.front() : modes.back();
  const auto& fast = h.metric == "bytes_per_second" ? modes.back() : modes.front();
  char text[200];
  const double cpu = median_of(slow, &repetition_sample::cpu_ns_per_message) /
                     median_of(fast, &repetition_sample::cpu_ns_per_message);
  if (cpu >= 1.5) {
    std::snprintf(text, sizeof text,
                  "CPU per message %.1fx higher in the slow mode (a peer spins or retries)", cpu);
    return text;
  }
  const double wake =
      median_of(slow, &repetition_sample::wake_ns) / median_of(fast, &repetition_sample::wake_ns);
  if (wake >= 1.3) {
    std::snprintf(text, sizeof text,
                  "the wake-up floor beside the slow mode is %.1fx the fast mode's", wake);
    return text;
  }
  // One peer working harder per message where both together moved less than 1.5x: named when
  // its own rises 1.5x and by a fifth or more of what both spent in the fast mode (so that a
  // peer that barely runs is not named for a few microseconds).
  const double fast_cpu = median_of(fast, &repetition_sample::cpu_ns_per_message);
  const auto peer = [&](auto field) {
    const double f = median_of(fast, field), s = median_of(slow, field);
    return s - f >= 0.2 * fast_cpu ? s / f : std::numeric_limits<double>::quiet_NaN();
  };
  const double producer = peer(&repetition_sample::producer_cpu_ns_per_message);
  const double consumer = peer(&repetition_sample::consumer_cpu_ns_per_message);
  const bool by_producer = std::isnan(consumer) || producer >= consumer;
  if (const double rise = by_producer ? producer : consumer; rise >= 1.5) {
    std::snprintf(text, sizeof text,
                  "the %s's own CPU per message is %.1fx higher in the slow mode (both peers' "
                  "%.1fx)",
                  by_producer ? "producer" : "consumer", rise, cpu);
    return text;
  }
  return nullptr;
}

// The spread of a benchmark's repetitions in its basis taken to the run's pace beside each
// (run_regimes::pace_beside): each one's time per message (the round trip, or the inverse of the
// rate) times that pace, the largest over the smallest. Only where they spread over
// schema::kSpreadLimit, every one has a pace, and the pace beside the fastest is kPaceChange or
// more above the pace beside the slowest: the run itself was slower beside the slowest.
struct paced_spread {
  double spread = 0;
  double slowest_pace = 0, fastest_pace = 0;  // beside the slowest and the fastest repetition
  double raw = 0;                             // the spread without the pace
};
std::optional<paced_spread> spread_at_run_pace(const benchmark_history& h, const basis& b,
                                               const run_regimes& r) {
  if (b.samples.size() < 2) return std::nullopt;
  const bool throughput = h.metric == schema::counter::kBytesPerSecond;
  std::vector<double> times, paced;
  std::size_t slow = 0, fast = 0;
  for (std::size_t k = 0; k < b.samples.size(); ++k) {
    const repetition_sample& s = h.samples[b.samples[k]];
    const auto pace = r.pace_beside(s.order, h);
    if (!(s.value > 0) || !pace) return std::nullopt;
    times.push_back(throughput ? 1 / s.value : s.value);
    paced.push_back(times.back() * *pace);
    if (times[k] > times[slow]) slow = k;
    if (times[k] < times[fast]) fast = k;
  }
  const auto pace_at = [&](std::size_t k) { return paced[k] / times[k]; };
  paced_spread out{.spread = *std::ranges::max_element(paced) / *std::ranges::min_element(paced),
                   .slowest_pace = pace_at(slow),
                   .fastest_pace = pace_at(fast),
                   .raw = times[slow] / times[fast]};
  if (!(out.raw > schema::kSpreadLimit) || out.fastest_pace < out.slowest_pace * (1 + kPaceChange))
    return std::nullopt;
  return out;
}

// One repetition that makes a spread alone: the basis repetitions spread over
// schema::kSpreadLimit, and without the one furthest from the others' median (on a log scale),
// kOutlierRest or more others lie within the limit. Not a mode (estimate::detect_modes wants two
// members a side) and not explained: the median stands, the report says which repetition it left
// standing apart. On the Intel VM of 2026-11-28, 385 of one run's 573 spreads over 1.5x were one
// repetition's alone.
constexpr std::size_t kOutlierRest = 3;
struct lone_outlier {
  std::size_t k = 0;       // its place in the basis
  double ratio = 0;        // its value over the others' median
  double rest_spread = 0;  // the others' max / min
};
std::optional<lone_outlier> outlier_alone(const std::vector<double>& raw) {
  if (raw.size() < kOutlierRest + 1) return std::nullopt;
  const auto [low, high] = std::ranges::minmax_element(raw);
  if (!(*low > 0) || !(*high / *low > schema::kSpreadLimit)) return std::nullopt;
  std::optional<lone_outlier> best;
  double furthest = 0;
  for (const auto candidate : {low, high}) {
    std::vector<double> rest;
    for (auto it = raw.begin(); it != raw.end(); ++it)
      if (it != candidate) rest.push_back(*it);
    const auto [rest_low, rest_high] = std::ranges::minmax_element(rest);
    const double rest_spread = *rest_high / *rest_low;
    if (rest_spread > schema::kSpreadLimit) continue;
    const double ratio = *candidate / estimate::median(rest);
    if (std::abs(std::log(ratio)) <= furthest) continue;
    furthest = std::abs(std::log(ratio));
    best = lone_outlier{.k = static_cast<std::size_t>(candidate - raw.begin()),
                        .ratio = ratio,
                        .rest_spread = rest_spread};
  }
  return best;
}

// Why one benchmark's repetitions in its basis spread more than schema::kSpreadLimit with no modes
// (an outlier or a scatter, not two levels), where the slowest and the fastest of them show it:
// how busy the peers kept the CPUs (CPU time per unit of wall time, so that a peer that spins
// for the whole of a slower repetition is not taken for a cause), then the wake-up and
// cache-line floors beside them, then for throughput the copy floor beside them (the copy of a
// message of that size from one CPU to the other, which a host that is slower for a while
// lowers as it lowers the channel's rate). nullptr when none differs enough to name.
json spread_cause(const benchmark_history& h, const basis& b,
                  const std::optional<paced_spread>& at_pace) {
  if (b.samples.size() < 2) return nullptr;
  char text[240];
  // The run's pace beside them first: a measured account of the whole spread.
  if (at_pace && !(at_pace->spread > schema::kSpreadLimit)) {
    std::snprintf(text, sizeof text,
                  "the run beside the slowest repetition (%.1fx the fastest) ran at %.0f %% of its "
                  "usual pace, beside the fastest at %.0f %% (the other benchmarks' repetitions "
                  "next to them); at the run's pace they spread %.2fx",
                  at_pace->raw, 100 * at_pace->slowest_pace, 100 * at_pace->fastest_pace,
                  at_pace->spread);
    return text;
  }
  const bool throughput = h.metric == "bytes_per_second";
  // Wall time per message, up to a constant factor: the round trip, or the inverse of the rate.
  const auto time_of = [&](const repetition_sample& s) {
    return throughput ? 1 / s.value : s.value;
  };
  const repetition_sample* slow = nullptr;
  const repetition_sample* fast = nullptr;
  for (std::size_t i : b.samples) {
    const repetition_sample& s = h.samples[i];
    if (!(s.value > 0)) return nullptr;
    if (!slow || time_of(s) > time_of(*slow)) slow = &s;
    if (!fast || time_of(s) < time_of(*fast)) fast = &s;
  }
  const double slower = time_of(*slow) / time_of(*fast);
  if (!(slower > schema::kSpreadLimit)) return nullptr;
  // A peer of the slowest that waited for its CPU, runnable, while another thread ran there. Where
  // the peers had CPUs of their own, a wait 5 % of the batch beyond their benchmark's usual has
  // left the repetition out of the basis already (preempted); what is named here is a mechanism
  // with threads or a helper of its own beside the peers, or a wait the benchmark has as a rule.
  if (slow->waited_share && fast->waited_share &&
      *slow->waited_share - *fast->waited_share >= kPreemptedShare) {
    std::snprintf(text, sizeof text,
                  "a peer of the slowest repetition (%.1fx the fastest) waited for its CPU, "
                  "runnable, %.0f %% of its timed batch, another thread running there (the "
                  "fastest's %.0f %%)",
                  slower, 100 * *slow->waited_share, 100 * *fast->waited_share);
    return text;
  }
  if (slow->cpu_ns_per_message && fast->cpu_ns_per_message && *fast->cpu_ns_per_message > 0) {
    const double busy = *slow->cpu_ns_per_message / *fast->cpu_ns_per_message / slower;
    if (busy >= 1.3) {
      std::snprintf(text, sizeof text,
                    "the slowest repetition (%.1fx the fastest) kept its peers %.1fx as busy on "
                    "the CPUs: a peer spun or retried",
                    slower, busy);
      return text;
    }
    if (busy <= 1 / 1.3) {
      std::snprintf(text, sizeof text,
                    "the slowest repetition (%.1fx the fastest) kept its peers on the CPUs %.0f %% "
                    "as much of the time: they waited (for a wake-up, or for the host)",
                    slower, 100 * busy);
      return text;
    }
  }
  // Then the floors beside the two, in the order they bound a repetition.
  const std::pair<const char*, std::optional<double> repetition_sample::*> floors[] = {
      {"wake-up", &repetition_sample::wake_ns}, {"cache-line", &repetition_sample::line_ns}};
  for (const auto& [name, floor] : floors) {
    const std::optional<double> at_slow = slow->*floor, at_fast = fast->*floor;
    if (!at_slow || !at_fast || !(*at_fast > 0) || *at_slow / *at_fast < 1.3) continue;
    std::snprintf(text, sizeof text,
                  "the %s floor beside the slowest repetition (%.1fx the fastest) is %.1fx the "
                  "fastest's",
                  name, slower, *at_slow / *at_fast);
    return text;
  }
  if (throughput && slow->copy_bps && fast->copy_bps && *slow->copy_bps > 0 &&
      *fast->copy_bps / *slow->copy_bps >= 1.3) {
    std::snprintf(text, sizeof text,
                  "the copy floor beside the slowest repetition (%.1fx the fastest) is %.1fx "
                  "lower than the fastest's",
                  slower, *fast->copy_bps / *slow->copy_bps);
    return text;
  }
  // Where the library's threads ran, where that was measured beside both and differs.
  if (slow->library_placement && fast->library_placement &&
      *slow->library_placement != *fast->library_placement) {
    std::snprintf(text, sizeof text,
                  "the slowest repetition (%.1fx the fastest) had the library's threads at %s "
                  "(the producer's/consumer's: own CPU, other, mixed or idle), the fastest at %s",
                  slower, slow->library_placement->c_str(), fast->library_placement->c_str());
    return text;
  }
  // Nothing measured shows it; a mechanism whose own threads share the peers' CPUs says so (its
  // threads' time is not in the peers' CPU time, and, with --library-threads free, where the
  // scheduler runs them changes from one repetition to the next).
  if (h.shared_cpus > 0) {
    std::snprintf(text, sizeof text,
                  "the slowest repetition is %.1fx the fastest, and nothing measured beside them "
                  "shows why; the mechanism runs threads of its own beside the peers "
                  "(library_threads), on the same %zu CPUs",
                  slower, h.shared_cpus);
    return text;
  }
  return nullptr;
}

// Modes by where the library's threads ran (repetition_sample::library_placement): where one
// benchmark's repetitions in its basis spread over schema::kSpreadLimit, each has a placement,
// and grouped by it (placements whose medians lie within kPlacementGap of each other taken as
// one) every group holds kPlacementMembers repetitions at least and spreads within the limit,
// the groups are its modes, lowest value first, with their placements. Empty where the
// placements do not account for the spread. Three at least, as for modes of the values
// (estimate::detect_modes): two peers' threads fall in up to sixteen placements, and among
// them one slow repetition alone, or two, would nearly always find a placement of its own.
struct placement_mode {
  estimate::mode mode;
  std::string placement;  // "own/other", or several joined by ", "
};
// Whether two repetitions or more spread over schema::kSpreadLimit (max / min, all above 0): the
// only case in which their modes by placement or of their batches' parts are looked for.
bool spreads_over_limit(const std::vector<double>& raw) {
  if (raw.size() < 2) return false;
  const auto [low, high] = std::minmax_element(raw.begin(), raw.end());
  return *low > 0 && *high / *low > schema::kSpreadLimit;
}

constexpr double kPlacementGap = 1.2;
constexpr std::size_t kPlacementMembers = 3;
std::vector<placement_mode> placement_modes(const benchmark_history& h, const basis& b) {
  if (!spreads_over_limit(b.raw)) return {};
  std::map<std::string, std::vector<std::size_t>> by;
  for (std::size_t k = 0; k < b.samples.size(); ++k) {
    const auto& where = h.samples[b.samples[k]].library_placement;
    if (!where) return {};
    by[*where].push_back(k);
  }
  if (by.size() < 2) return {};
  const auto median_of = [&](const std::vector<std::size_t>& members) {
    std::vector<double> v;
    for (std::size_t k : members) v.push_back(b.raw[k]);
    return estimate::median(v);
  };
  std::vector<placement_mode> out;
  for (auto& [where, members] : by) out.push_back({{median_of(members), members}, where});
  std::sort(out.begin(), out.end(),
            [](const auto& x, const auto& y) { return x.mode.value < y.mode.value; });
  // Placements that make no difference are one mode.
  std::vector<placement_mode> merged;
  for (auto& g : out) {
    if (!merged.empty() && g.mode.value <= merged.back().mode.value * kPlacementGap) {
      auto& m = merged.back();
      m.mode.members.insert(m.mode.members.end(), g.mode.members.begin(), g.mode.members.end());
      std::sort(m.mode.members.begin(), m.mode.members.end());
      m.mode.value = median_of(m.mode.members);
      m.placement += ", " + g.placement;
    } else {
      merged.push_back(std::move(g));
    }
  }
  if (merged.size() < 2) return {};
  for (const auto& g : merged) {
    if (g.mode.members.size() < kPlacementMembers) return {};
    double lo = INFINITY, hi = 0;
    for (std::size_t k : g.mode.members) {
      lo = std::min(lo, b.raw[k]);
      hi = std::max(hi, b.raw[k]);
    }
    if (hi / lo > schema::kSpreadLimit) return {};
  }
  return merged;
}

json placement_cause(const benchmark_history& h, const std::vector<placement_mode>& modes) {
  const bool throughput = h.metric == "bytes_per_second";
  std::string text =
      "where the scheduler put the library's threads (on the producer's/consumer's own CPU, "
      "another, or mixed): ";
  for (std::size_t k = 0; k < modes.size(); ++k) {
    // Slowest first: the highest round trip, the lowest rate.
    const auto& m = modes[throughput ? k : modes.size() - 1 - k];
    if (k != 0) text += "; ";
    text += m.placement + " in " + std::to_string(m.mode.members.size());
  }
  char tail[120];
  std::snprintf(tail, sizeof tail, " repetitions, the slowest mode %.1fx the fastest",
                modes.back().mode.value / modes.front().mode.value);
  return text + tail;
}

// Modes of the parts of the basis repetitions' timed batches (estimate::detect_part_modes):
// only where the repetitions spread over schema::kSpreadLimit and every one of them was split.
std::vector<estimate::part_mode> part_modes(const benchmark_history& h, const basis& b) {
  if (!spreads_over_limit(b.raw)) return {};
  std::vector<std::vector<double>> parts;
  for (const std::size_t i : b.samples) {
    if (h.samples[i].sub_values.empty()) return {};
    parts.push_back(h.samples[i].sub_values);
  }
  return estimate::detect_part_modes(parts, schema::kSpreadLimit);
}

json part_cause(const benchmark_history& h, const basis& b,
                const std::vector<estimate::part_mode>& modes) {
  std::map<std::size_t, std::size_t> held;  // repetition -> modes it has parts in
  for (const auto& m : modes)
    for (const std::size_t r : m.repetitions) ++held[r];
  const auto both = static_cast<std::size_t>(
      std::ranges::count_if(held, [](const auto& e) { return e.second > 1; }));
  const std::size_t per = h.samples[b.samples.front()].sub_values.size();
  const bool throughput = h.metric == schema::counter::kBytesPerSecond;
  char head[160], tail[160];
  std::snprintf(head, sizeof head,
                "the parts of the timed batches (%zu per repetition) stand in %zu modes, the %s "
                "%.1fx the %s; ",
                per, modes.size(), throughput ? "fastest" : "slowest",
                modes.back().value / modes.front().value, throughput ? "slowest" : "fastest");
  if (both > 0)
    std::snprintf(tail, sizeof tail,
                  "%zu of %zu repetitions have parts in more than one: the host's speed changed "
                  "within a repetition",
                  both, b.samples.size());
  else
    std::snprintf(tail, sizeof tail,
                  "each of the %zu repetitions keeps to one: the speed changed between "
                  "repetitions and held through each",
                  b.samples.size());
  return std::string(head) + tail;
}

json floor_fit_json(const floor_fit& f) {
  return {{"floor", f.floor},
          {"slope", f.slope},
          {"to_ns", f.slope > 0 ? json(f.to_ns) : json(nullptr)},
          {"repetitions", f.repetitions},
          {"fitted", f.fitted}};
}

json disturbed_json(const run_regimes& r) {
  json list = json::array();
  for (const disturbance& d : r.disturbed)
    list.push_back({{"first_order", d.first},
                    {"last_order", d.last},
                    {"repetitions", d.repetitions},
                    {"latency_change", d.latency ? json(*d.latency) : json(nullptr)},
                    {"throughput_change", d.throughput ? json(*d.throughput) : json(nullptr)}});
  char method[640];
  std::snprintf(method, sizeof method,
                "the run's repetitions in stretches of %llu by their order; in each, every "
                "benchmark's latency and throughput repetitions as speed over the benchmark's "
                "median in the same regime (3 repetitions there or more), and their median per "
                "pattern over %zu or more (%llu or more over both): a stretch whose median is "
                "%.0f %% off either way is a disturbance, and the estimates leave its "
                "repetitions out where their regime has others",
                static_cast<unsigned long long>(kDisturbanceWindow), kDisturbanceMinimum,
                static_cast<unsigned long long>(kDisturbanceWindow / 2), 100 * kDisturbanceChange);
  return {{"method", method}, {"stretches", std::move(list)}};
}

}  // namespace

json regimes_json(const run_regimes& r) {
  const std::size_t n = r.found.of.size();
  if (n == 0) return nullptr;
  json list = json::array();
  std::vector<double> all_wake;
  for (std::size_t k = 0; k < r.found.list.size(); ++k) {
    const auto& g = r.found.list[k];
    std::vector<double> wake;
    for (std::size_t i = 0; i < n; ++i) {
      if (r.found.of[i] != static_cast<int>(k)) continue;
      if (r.wake_ns[i]) wake.push_back(*r.wake_ns[i]);
    }
    all_wake.insert(all_wake.end(), wake.begin(), wake.end());
    list.push_back(
        {{"index", k},
         {"share", static_cast<double>(g.count) / static_cast<double>(n)},
         {"cache_line_state", g.line_state},
         {"repetitions", g.count},
         {"cache_line_rtt_p50_ns", {{"median", g.median}, {"min", g.min}, {"max", g.max}}},
         {"wakeup_rtt_p50_ns", spread_json(wake)}});
  }
  return {{"floor", "cache_line_rtt_p50_ns"},
          {"method",
           "the cache-line round trip measured beside every repetition, grouped where its values "
           "stand 1.5x apart (groups of at least 1 % of the run): the cache-line states; within "
           "each, the wake-up round trip measured beside its latency repetitions (each the median "
           "of it and two measured neighbours either side), grouped the same way, a repetition "
           "without one taking the state of the nearest that has one: the wake-up states; a "
           "regime is one wake-up state of one cache-line state; the reference regime is in the "
           "slowest cache-line state that holds " +
               std::string(r.reference_share == estimate::kReferenceShare
                               ? "a quarter of the run"
                               : std::to_string(std::lround(r.reference_share * 100)) + " %" +
                                     " of the run (a quick run: each benchmark runs once, so "
                                     "the share only has to make two runs choose the same "
                                     "state)") +
               " (without one, the one that holds most), its fastest wake-up state that holds a "
               "quarter of that state (without one, the one that holds most)"},
          {"repetitions", n},
          {"reference", r.found.reference},
          {"regimes", std::move(list)},
          {"floors",
           {{"cache_line_rtt_p50_ns", series_json(r.line_ns)},
            {"wakeup_rtt_p50_ns", series_json(all_wake)}}},
          {"disturbed", disturbed_json(r)},
          {"latency_to_floor",
           {{"method",
             "latency values taken to the reference regime's median floor the receiver waits on "
             "(from whichever regime they were measured in): value x (to_ns / floor beside the "
             "repetition)^slope, the slope fitted over the run's latency repetitions in the "
             "reference regime (log round trip on log floor, each benchmark about its own medians, "
             "held to [0, 1]; fitted: true), or 1 where the run cannot fit it (under 100 "
             "repetitions, or no benchmark repeated beside a floor that moved: fitted: false), the "
             "values then compared in multiples of their floors"},
            {"sleeps", floor_fit_json(r.sleeps)},
            {"spins", floor_fit_json(r.spins)}}}};
}

json estimate_json(const benchmark_history& h, const run_regimes& r,
                   const estimate::stop_rule& rule) {
  const basis b = basis_of(h, r);
  std::size_t ok = 0;
  for (const auto& s : h.samples) ok += s.ok;
  json j = {{"metric", h.metric},
            {"value", nullptr},
            {"interval", nullptr},
            {"confidence", nullptr},
            {"relative_width", nullptr},
            {"basis", r.found.of.empty() ? "all" : "regime"},
            {"regime", b.regime ? json(*b.regime) : json(nullptr)},
            {"repetitions", ok},
            {"used", b.values.size()},
            {"disturbed", b.disturbed},
            {"stolen", b.stolen},
            {"preempted", b.preempted},
            {"moved", b.moved},
            {"stopped", h.stopped},
            {"modes", nullptr},
            {"mode_cause", nullptr},
            {"spread", nullptr},
            {"spread_cause", nullptr},
            {"spread_at_run_pace", nullptr},
            {"spread_outlier", nullptr},
            {"adjusted", nullptr},
            {"at_run_pace", nullptr}};
  if (!b.regime) j["basis"] = "all";
  // The median per regime over all ok repetitions.
  std::map<int, std::vector<double>> by;
  for (const auto& s : h.samples)
    if (s.ok)
      if (const auto g = r.of(s.order)) by[*g].push_back(s.value);
  json by_regime = json::array();
  for (const auto& [g, v] : by) {
    json e = {{"regime", g},
              {"value", estimate::median(v)},
              {"repetitions", v.size()},
              {"interval", nullptr},
              {"confidence", nullptr}};
    if (const auto ci = estimate::median_interval(v, rule.confidence)) {
      e["interval"] = {ci->lo, ci->hi};
      e["confidence"] = ci->confidence;
    }
    by_regime.push_back(std::move(e));
  }
  j["by_regime"] = std::move(by_regime);
  if (b.values.empty()) return j;
  const double value = estimate::median(b.values);
  j["value"] = value;
  if (const auto ci = estimate::median_interval(b.values, rule.confidence)) {
    j["interval"] = {ci->lo, ci->hi};
    j["confidence"] = ci->confidence;
    if (value != 0) j["relative_width"] = (ci->hi - ci->lo) / std::abs(value);
  }
  if (b.adjusted)
    j["adjusted"] = {{"floor", b.adjusted->floor},
                     {"slope", b.adjusted->slope},
                     {"to_ns", b.adjusted->to_ns},
                     {"fitted", b.adjusted->fitted},
                     {"raw_value", estimate::median(b.raw)}};
  if (b.at_pace) j["at_run_pace"] = {{"raw_value", estimate::median(b.raw)}};
  // The spread and the modes are the repetitions' own.
  const auto [low, high] = std::minmax_element(b.raw.begin(), b.raw.end());
  if (*low > 0) j["spread"] = *high / *low;
  const auto at_pace = spread_at_run_pace(h, b, r);
  if (at_pace) j["spread_at_run_pace"] = at_pace->spread;
  if (const auto lone = outlier_alone(b.raw))
    j["spread_outlier"] = {{"order", h.samples[b.samples[lone->k]].order},
                           {"value", b.raw[lone->k]},
                           {"ratio", lone->ratio},
                           {"rest", b.raw.size() - 1},
                           {"rest_spread", lone->rest_spread}};
  const auto modes = estimate::detect_modes(b.raw);
  if (modes.size() <= 1) {
    if (const auto placed = placement_modes(h, b); !placed.empty()) {
      json m = json::array();
      for (const auto& p : placed)
        m.push_back({{"value", p.mode.value},
                     {"share", static_cast<double>(p.mode.members.size()) /
                                   static_cast<double>(b.values.size())},
                     {"repetitions", p.mode.members.size()},
                     {"library_placement", p.placement}});
      j["modes"] = std::move(m);
      j["mode_cause"] = placement_cause(h, placed);
      return j;
    }
    if (const auto parted = part_modes(h, b); !parted.empty()) {
      std::size_t parts = 0;
      for (const auto& m : parted) parts += m.parts;
      json m = json::array();
      for (const auto& p : parted)
        m.push_back({{"value", p.value},
                     {"share", static_cast<double>(p.parts) / static_cast<double>(parts)},
                     {"repetitions", p.repetitions.size()},
                     {"sub_batches", p.parts}});
      j["modes"] = std::move(m);
      j["mode_cause"] = part_cause(h, b, parted);
      return j;
    }
    j["spread_cause"] = spread_cause(h, b, at_pace);
  }
  if (modes.size() > 1) {
    json m = json::array();
    for (const auto& mode : modes)
      m.push_back({{"value", mode.value},
                   {"share", static_cast<double>(mode.members.size()) /
                                 static_cast<double>(b.values.size())},
                   {"repetitions", mode.members.size()}});
    j["modes"] = std::move(m);
    j["mode_cause"] = mode_cause(h, b, modes);
  }
  return j;
}

namespace {

// The ok values of a history by regime (-1: the run has no regimes); `cpu`: its CPU time per
// message instead of its value.
std::map<int, std::vector<double>> values_by_regime(const benchmark_history& h,
                                                    const run_regimes& r, bool cpu) {
  std::map<int, std::vector<double>> v;
  for (const auto& s : h.samples) {
    if (!s.ok) continue;
    const std::optional<double> x = cpu ? s.cpu_ns_per_message : std::optional<double>(s.value);
    if (!x) continue;
    if (r.found.of.empty())
      v[-1].push_back(*x);
    else if (const auto g = r.of(s.order))
      v[*g].push_back(*x);
  }
  return v;
}

}  // namespace

std::vector<estimate::rank_stratum> regime_strata(const benchmark_history& a,
                                                  const benchmark_history& b, const run_regimes& r,
                                                  bool cpu) {
  const auto va = values_by_regime(a, r, cpu), vb = values_by_regime(b, r, cpu);
  std::vector<estimate::rank_stratum> out;
  for (const auto& [g, xs] : va)
    if (const auto it = vb.find(g); it != vb.end()) out.push_back({xs, it->second, g});
  return out;
}

paired_values in_common_regime(const benchmark_history& a, const benchmark_history& b,
                               const run_regimes& r, bool cpu, std::size_t enough) {
  paired_values out;
  std::size_t common = 0;
  std::vector<estimate::rank_stratum> strata = regime_strata(a, b, r, cpu);
  for (auto& s : strata)
    if (enough > 0 && s.label >= 0 && s.label == r.found.reference &&
        std::min(s.a.size(), s.b.size()) >= enough)
      return {.found = true, .regime = s.label, .a = std::move(s.a), .b = std::move(s.b)};
  for (auto& s : strata)
    if (std::min(s.a.size(), s.b.size()) > common) {
      common = std::min(s.a.size(), s.b.size());
      out.found = true;
      out.regime = s.label >= 0 ? std::optional<int>(s.label) : std::nullopt;
      out.a = std::move(s.a);
      out.b = std::move(s.b);
    }
  return out;
}

namespace {

// What a tax row calls its two sides and its verdicts: `subject` is the form whose cost is asked
// (process peers, the veth between namespaces), `base` the one it is measured against.
struct tax_sides {
  const char* subject;  // "processes"
  const char* base;     // "threads"
  const char* slower;   // "processes slower"
  const char* faster;   // "processes faster"
};

bool ran_ok(const benchmark_history& h) {
  return std::any_of(h.samples.begin(), h.samples.end(), [](const auto& s) { return s.ok; });
}

// One row of a tax: `subject` against `base` (one benchmark's two forms) in one regime
// (in_common_regime: the reference where both have `needed` there); how many times worse `subject`
// is, its interval and verdict (see process_tax_json).
json tax_row(const benchmark_history& subject, const benchmark_history& base,
             const schema::benchmark_name& parsed, const run_regimes& r, double confidence,
             std::size_t needed, const tax_sides& sides) {
  const paired_values pair = in_common_regime(subject, base, r, false, needed);
  const bool latency = parsed.pattern == "latency";
  json row = {{"id", parsed.id},
              {"pattern", parsed.pattern},
              {"message_size", parsed.message_size},
              {"placement", parsed.placement},
              {"regime", pair.regime ? json(*pair.regime) : json(nullptr)},
              {sides.subject, nullptr},
              {sides.base, nullptr},
              {"repetitions", {{sides.subject, 0}, {sides.base, 0}}},
              {"ratio", nullptr},
              {"interval", nullptr},
              {"verdict", "untested"}};
  if (!pair.found) {
    row["why"] = "untested: no regime of the host in which both forms ran";
    return row;
  }
  const std::vector<double>& sv = pair.a;
  const std::vector<double>& bv = pair.b;
  const double sm = estimate::median(sv), bm = estimate::median(bv);
  row[sides.subject] = sm;
  row[sides.base] = bm;
  row["repetitions"] = {{sides.subject, sv.size()}, {sides.base, bv.size()}};
  // Worse for the subject: a longer round trip, a lower throughput.
  const double num = latency ? sm : bm, den = latency ? bm : sm;
  if (num > 0 && den > 0) row["ratio"] = num / den;
  const auto si = estimate::median_interval(sv, confidence);
  const auto bi = estimate::median_interval(bv, confidence);
  if (si && bi && num > 0 && den > 0) {
    const estimate::interval& ni = latency ? *si : *bi;
    const estimate::interval& di = latency ? *bi : *si;
    const double lo = ni.lo / di.hi;
    const double hi = di.lo > 0 ? ni.hi / di.lo : std::numeric_limits<double>::infinity();
    row["interval"] = {lo, std::isfinite(hi) ? json(hi) : json(nullptr)};
    row["verdict"] = lo > 1 ? sides.slower : hi < 1 ? sides.faster : "tie";
  } else {
    row["why"] = "untested: the medians' intervals need " + std::to_string(needed) +
                 " repetitions of each form in one regime; the regime both met most had " +
                 std::to_string(sv.size()) + " of " + sides.subject + " and " +
                 std::to_string(bv.size()) + " of " + sides.base;
  }
  return row;
}

// A tax's rows in the order a reader scans them: by id, pattern, message size (as a number: 64
// before 4096 before 1048576), then placement.
void sort_tax_rows(json& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    const auto key = [](const json& r) {
      return std::make_tuple(r.value("id", std::string{}), r.value("pattern", std::string{}),
                             r.value("message_size", std::uint64_t{0}),
                             r.value("placement", std::string{}));
    };
    return key(a) < key(b);
  });
}

}  // namespace

json process_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                      double confidence) {
  constexpr std::string_view kThreads = ".threads";
  const std::size_t needed = estimate::repetitions_for_interval(confidence);
  std::map<std::string, const benchmark_history*> by_name;
  for (const auto& h : all) by_name[h.name] = &h;
  json rows = json::array();
  for (const auto& [name, threads_h] : by_name) {
    if (!name.ends_with(kThreads)) continue;
    const std::string base = name.substr(0, name.size() - kThreads.size());
    const auto it = by_name.find(base);
    const auto parsed = schema::parse_name(base);
    if (it == by_name.end() || !parsed) continue;
    // A form that never ran (skipped: signals have no thread peers) or always failed: no row.
    if (!ran_ok(*it->second) || !ran_ok(*threads_h)) continue;
    rows.push_back(tax_row(*it->second, *threads_h, *parsed, r, confidence, needed,
                           {"processes", "threads", "processes slower", "processes faster"}));
  }
  sort_tax_rows(rows);
  return rows;
}

namespace {

// Rows of tax_row for every one-pair benchmark of `subject_id` (process peers) beside its twin of
// `base_id` with the same pattern, size and placement; each row's id is `row_id`, or the
// subject's when empty.
json twin_tax_rows(const std::vector<benchmark_history>& all, const run_regimes& r,
                   double confidence, const std::string& subject_id, const std::string& base_id,
                   const std::string& row_id, const tax_sides& sides) {
  const std::size_t needed = estimate::repetitions_for_interval(confidence);
  std::map<std::string, const benchmark_history*> by_name;
  for (const auto& h : all) by_name[h.name] = &h;
  const std::string prefix = subject_id + "/";
  json rows = json::array();
  for (const auto& [name, subject_h] : by_name) {
    if (!name.starts_with(prefix)) continue;
    const auto parsed = schema::parse_name(name);
    if (!parsed || parsed->id != subject_id || !parsed->topology.empty() || parsed->threads ||
        parsed->spawned)
      continue;
    const auto it = by_name.find(base_id + "/" + name.substr(prefix.size()));
    if (it == by_name.end() || !ran_ok(*it->second) || !ran_ok(*subject_h)) continue;
    json row = tax_row(*subject_h, *it->second, *parsed, r, confidence, needed, sides);
    if (!row_id.empty()) row["id"] = row_id;
    rows.push_back(std::move(row));
  }
  sort_tax_rows(rows);
  return rows;
}

}  // namespace

json namespace_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                        double confidence) {
  return twin_tax_rows(all, r, confidence, "tcp.netns", "tcp", "tcp",
                       {"netns", "loopback", "namespaces slower", "namespaces faster"});
}

json relay_tax_json(const std::vector<benchmark_history>& all, const run_regimes& r,
                    double confidence) {
  json rows = json::array();
  for (const char* id : {"pipe.relay", "pipe.relay.splice"})
    for (auto& row : twin_tax_rows(all, r, confidence, id, "pipe", "",
                                   {"relayed", "direct", "relay slower", "relay faster"}))
      rows.push_back(std::move(row));
  return rows;
}

json apply_run_copy_floors(json& benchmarks, const json& copy_by_size) {
  std::map<std::uint64_t, std::vector<double>> measured;
  if (copy_by_size.is_object())
    for (const auto& [size, v] : copy_by_size.items())
      if (v.is_number() && v.get<double>() > 0)
        measured[std::stoull(size)].push_back(v.get<double>());
  for (const auto& e : benchmarks) {
    const auto f = e.find("floors");
    if (f == e.end() || !f->is_object()) continue;
    const auto c = f->find("copy_floor_bytes_per_second");
    if (c != f->end() && c->is_number() && c->get<double>() > 0)
      measured[e.value("message_size", std::uint64_t{0})].push_back(c->get<double>());
  }
  // Summarised as the regimes' floors are (series_json); the bound is the series' max.
  json out = json::object();
  for (const auto& [size, v] : measured) out[std::to_string(size)] = series_json(v);
  for (auto& e : benchmarks) {
    const auto r = e.find("bytes_per_second_per_copy_floor");
    const auto bps = e.find("bytes_per_second");
    if (r == e.end() || !r->is_number() || bps == e.end() || !bps->is_number()) continue;
    const auto s = out.find(std::to_string(e.value("message_size", std::uint64_t{0})));
    if (s != out.end()) *r = bps->get<double>() / s->at("max").get<double>();
  }
  return out;
}

json floor_check_json(const json& benchmarks, const json& mechanisms) {
  // Mechanisms that copy the message fewer than twice: read in place, or one copy.
  std::set<std::string> fewer_copies;
  for (const auto& m : mechanisms)
    if (m.value("verification", "") == "in place" || m.value("verification", "") == "header only" ||
        m.value("single_copy", false))
      fewer_copies.insert(m.value("id", ""));
  std::size_t checked = 0, beat_beside = 0;
  json beaten = json::array();
  for (const auto& e : benchmarks) {
    // The calibration copies within one process: no cross-CPU floor bounds it.
    if (e.value("run_type", "") != "iteration" || e.value("family", "") == "calibration" ||
        fewer_copies.contains(e.value("id", "")))
      continue;
    const auto it = e.find("bytes_per_second_per_copy_floor");
    if (it == e.end() || !it->is_number()) continue;
    ++checked;
    if (it->get<double>() > 1)
      beaten.push_back({{"name", e.value("run_name", "")},
                        {"repetition_index", e.value("repetition_index", 0)},
                        {"ratio", *it}});
    const json beside =
        e.value("floors", json::object()).value("copy_floor_bytes_per_second", json());
    if (beside.is_number() && e.value("bytes_per_second", 0.0) > beside.get<double>())
      ++beat_beside;
  }
  // Every cross-CPU round trip moves at least one line each way: none comes in under the
  // cache-line floor measured on both sides of it (the lower of the two, so that the host moving
  // between them beats nothing). The calibration's null channel crosses no CPU.
  std::size_t round_trips = 0;
  json line_beaten = json::array();
  for (const auto& e : benchmarks) {
    if (e.value("run_type", "") != "iteration" || e.value("family", "") == "calibration" ||
        e.value("status", "ok") != "ok" || e.value("pattern", "") != "latency")
      continue;
    const json floors = e.value("floors", json::object());
    double floor = 0;
    for (const char* k : {"cache_line_rtt_p50_ns", "cache_line_rtt_p50_ns_after"})
      if (const auto f = floors.find(k); f != floors.end() && f->is_number() && *f > 0)
        floor = floor > 0 ? std::min(floor, f->get<double>()) : f->get<double>();
    const auto rtt = e.find("rtt_p50_ns");
    if (floor <= 0 || rtt == e.end() || !rtt->is_number() || rtt->get<double>() <= 0) continue;
    ++round_trips;
    if (rtt->get<double>() < floor)
      line_beaten.push_back({{"name", e.value("run_name", "")},
                             {"repetition_index", e.value("repetition_index", 0)},
                             {"ratio", rtt->get<double>() / floor}});
  }
  return {{"repetitions_checked", checked},
          {"copy_floor_beaten", std::move(beaten)},
          {"beat_the_floor_beside", beat_beside},
          {"round_trips_checked", round_trips},
          {"line_floor_beaten", std::move(line_beaten)}};
}

std::string tax_line(const json& row) {
  const auto number = [](const json& v, const char* format) {
    if (!v.is_number()) return std::string(v.is_null() ? "-" : "?");
    char out[32];
    std::snprintf(out, sizeof out, format, v.get<double>());
    return std::string(out);
  };
  const json& iv = row.value("interval", json(nullptr));
  // An interval's open upper end (a zero lower end of the denominator's) is null in the report.
  // Appended piece by piece: GCC 12 takes "[" + std::string&& here for an overlapping copy
  // (-Werror=restrict, a false positive).
  std::string interval = "-";
  if (iv.is_array() && iv.size() == 2) {
    interval = "[";
    interval += number(iv[0], "%.2f");
    interval += ", ";
    interval += iv[1].is_null() ? std::string("inf") : number(iv[1], "%.2f");
    interval += "]";
  }
  // `why` (an untested row's) starts with the verdict and says what was missing.
  const std::string verdict =
      row.contains("why") ? row["why"].get<std::string>() : row.value("verdict", std::string{});
  char line[160];
  std::snprintf(
      line, sizeof line, "%-22s %-10s %8llu B  %7s  %-14s  ",
      row.value("id", std::string{}).c_str(), row.value("pattern", std::string{}).c_str(),
      static_cast<unsigned long long>(row.value("message_size", std::uint64_t{0})),
      (row["ratio"].is_number() ? number(row["ratio"], "%.2f") + "x" : std::string("-")).c_str(),
      interval.c_str());
  return line + verdict;
}

}  // namespace ipcbench
