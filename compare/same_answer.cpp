#include "compare/same_answer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <tuple>
#include <utility>

#include "compare/stats.hpp"

namespace ipcbench::compare {
namespace {

constexpr char kLatencyMetric[] = "rtt_p50_ns";
constexpr char kThroughputMetric[] = "bytes_per_second";

// The metric a one-pair benchmark is judged by here, or nullptr for a topology (its `group` runs
// several pairs or processes at once) and for an entry without a pattern (plain Google Benchmark).
const char* main_metric(const benchmark_samples& b) {
  if (b.info.topology) return nullptr;
  if (b.info.pattern == "latency") return kLatencyMetric;
  if (b.info.pattern == "throughput") return kThroughputMetric;
  return nullptr;
}

// The report's value of `metric`: its estimate, or the median over the ok repetitions; nullopt
// where the benchmark is not ok or lacks it.
std::optional<double> value_of(const benchmark_samples& b, const char* metric, bool estimates) {
  if (b.status != run_status::ok) return std::nullopt;
  if (estimates) {
    if (!b.estimate || b.estimate->metric != metric) return std::nullopt;
    return b.estimate->value;
  }
  const auto it = b.metrics.find(metric);
  if (it == b.metrics.end() || it->second.empty()) return std::nullopt;
  return median(it->second);
}

delta_summary summarise_deltas(std::string metric, std::vector<double> deltas) {
  delta_summary s;
  s.metric = std::move(metric);
  s.count = deltas.size();
  if (deltas.empty()) return s;
  std::sort(deltas.begin(), deltas.end());
  s.median_pct = median(deltas);
  // Nearest rank, as the gate's detectable-effect percentile.
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(deltas.size())));
  s.p90_pct = deltas[std::clamp<std::size_t>(rank, 1, deltas.size()) - 1];
  return s;
}

// The benchmarks of one pattern split by whether both reports state an interval (interval_split).
struct interval_tally {
  std::vector<double> with_interval, without, widths;
  std::size_t overlapping = 0, inside = 0;

  void add(const stated_estimate& x, const stated_estimate& y, double delta) {
    if (!x.interval || !y.interval || !x.value || !y.value) {
      without.push_back(delta);
      return;
    }
    with_interval.push_back(delta);
    const interval_value in_x{x.interval->first, x.interval->second};
    const interval_value in_y{y.interval->first, y.interval->second};
    overlapping += overlap(in_x, in_y);
    inside += in_x.lo <= *y.value && *y.value <= in_x.hi;
    inside += in_y.lo <= *x.value && *x.value <= in_y.hi;
    widths.push_back(safe_ratio(in_x.hi - in_x.lo, *x.value) * 100.0);
    widths.push_back(safe_ratio(in_y.hi - in_y.lo, *y.value) * 100.0);
  }

  interval_split split(const char* metric) && {
    return {.with_interval = summarise_deltas(metric, std::move(with_interval)),
            .overlapping = overlapping,
            .inside = inside,
            .median_width_pct = widths.empty() ? std::nullopt : std::optional(median(widths)),
            .without = summarise_deltas(metric, std::move(without))};
  }
};

spread_summary spread_of(const report& r) {
  spread_summary s;
  if (r.origin().estimates) s.explained = s.by_pace = s.by_parts = s.cause_named = s.one_alone = 0;
  for (const benchmark_samples& b : r.benchmarks()) {
    const char* metric = main_metric(b);
    if (!metric || b.status != run_status::ok) continue;
    const auto it = b.metrics.find(metric);
    if (it == b.metrics.end() || it->second.size() < 2) continue;
    const auto [low, high] = std::minmax_element(it->second.begin(), it->second.end());
    ++s.benchmarks;
    if (!(safe_ratio(*high, *low) > kSpreadLimit)) continue;
    ++s.over;
    if (!s.explained || !b.estimate) continue;
    // Regimes, a disturbance of the run, the host's steal time, another task on a peer's CPU or
    // the host moving during a repetition explain the spread only where the repetitions the
    // estimate is judged on (one regime, without those in a disturbance, with steal time,
    // preempted or in no regime) do not spread over the limit themselves (a report too old to
    // state `spread`: as long as they span regimes).
    const bool regimes_explain =
        (b.estimate->regimes > 1 || b.estimate->disturbed > 0 || b.estimate->stolen > 0 ||
         b.estimate->preempted > 0 || b.estimate->moved > 0) &&
        !(b.estimate->spread.value_or(1.0) > kSpreadLimit);
    // The run's pace beside the repetitions it is judged on accounts for their spread.
    const bool pace_explains =
        b.estimate->spread_at_run_pace && !(*b.estimate->spread_at_run_pace > kSpreadLimit);
    if (b.estimate->multimodal || regimes_explain) {
      ++*s.explained;
      if (b.estimate->part_modes) ++*s.by_parts;
    } else if (pace_explains) {
      ++*s.explained;
      ++*s.by_pace;
    } else {
      if (b.estimate->spread_cause) ++*s.cause_named;
      if (b.estimate->spread_outlier) ++*s.one_alone;
    }
  }
  return s;
}

struct ranked {
  std::string id;
  double a = 0.0, b = 0.0;
  interval_value in_a, in_b;  // the estimates' intervals, or the values as points
};

// The interval an estimate states around `value`, or the value as a point.
interval_value interval_of(const benchmark_samples& x, double value, bool estimates) {
  if (estimates && x.estimate && x.estimate->interval)
    return {std::min(x.estimate->interval->first, value),
            std::max(x.estimate->interval->second, value)};
  return {value, value};
}

// The winner of one side: the lowest (or highest) value, ties to the first id by name.
std::string winner(const std::vector<ranked>& items, double ranked::*side, bool lower_is_better) {
  const ranked* best = nullptr;
  for (const ranked& r : items) {
    if (!best) {
      best = &r;
      continue;
    }
    const double v = r.*side;
    const double w = best->*side;
    const bool better = lower_is_better ? v < w : v > w;
    if (better || (v == w && r.id < best->id)) best = &r;
  }
  return best ? best->id : std::string();
}

// The benchmarks of one ranking in both reports (one pair, the pattern at the size, the
// calibration left out), by placement, the default run's (`cross`) first.
using member_pairs = std::vector<std::pair<const benchmark_samples*, const benchmark_samples*>>;
std::vector<std::pair<std::string, member_pairs>> ranking_members(const report& a, const report& b,
                                                                  const char* pattern,
                                                                  std::uint64_t size) {
  std::map<std::string, member_pairs> by_placement;
  for (const benchmark_samples& x : a.benchmarks()) {
    if (x.info.topology || x.info.family == "calibration") continue;
    if (x.info.pattern != pattern || x.info.message_size != size) continue;
    if (const benchmark_samples* y = b.find(x.name))
      by_placement[x.info.placement.value_or("unknown")].emplace_back(&x, y);
  }
  std::vector<std::pair<std::string, member_pairs>> out(by_placement.begin(), by_placement.end());
  std::stable_partition(out.begin(), out.end(), [](const auto& p) { return p.first == "cross"; });
  return out;
}

// The median width of one report's intervals (`in`) in percent of its values (`value`); nullopt
// where it states none (every item a point).
std::optional<double> median_width_pct(const std::vector<ranked>& items, double ranked::*value,
                                       interval_value ranked::*in) {
  std::vector<double> widths;
  for (const ranked& r : items) {
    const interval_value& i = r.*in;
    if (i.hi > i.lo && r.*value > 0.0) widths.push_back(100.0 * (i.hi - i.lo) / (r.*value));
  }
  if (widths.empty()) return std::nullopt;
  return median(widths);
}

// How far two reports' orders of `items` agree; `declared`: with the intervals too.
ranking_agreement agreement_of(const std::vector<ranked>& items, const char* metric,
                               std::uint64_t size, const std::string& placement,
                               bool lower_is_better, bool declared) {
  std::vector<double> xs, ys;
  for (const ranked& r : items) {
    xs.push_back(r.a);
    ys.push_back(r.b);
  }
  ranking_agreement g;
  g.metric = metric;
  g.message_size = size;
  g.placement = placement;
  g.n = items.size();
  g.tau_b = kendall_tau_b(xs, ys);
  g.winner_a = winner(items, &ranked::a, lower_is_better);
  g.winner_b = winner(items, &ranked::b, lower_is_better);
  if (declared) {
    std::vector<interval_value> ia, ib;
    const ranked *wa = nullptr, *wb = nullptr;
    for (const ranked& r : items) {
      ia.push_back(r.in_a);
      ib.push_back(r.in_b);
      if (r.id == g.winner_a) wa = &r;
      if (r.id == g.winner_b) wb = &r;
    }
    g.pairs = count_declared_pairs(ia, ib);
    g.tau_declared = kendall_tau_declared(*g.pairs);
    g.width_a_pct = median_width_pct(items, &ranked::a, &ranked::in_a);
    g.width_b_pct = median_width_pct(items, &ranked::b, &ranked::in_b);
    g.winners_tied =
        wa && wb && wa != wb && overlap(wa->in_a, wb->in_a) && overlap(wa->in_b, wb->in_b);
  }
  return g;
}

void add_rankings(const report& a, const report& b, bool estimates, const char* pattern,
                  const char* metric, std::uint64_t size, bool lower_is_better,
                  std::vector<ranking_agreement>& out) {
  for (const auto& [placement, members] : ranking_members(a, b, pattern, size)) {
    std::vector<ranked> items;
    for (const auto& [x, y] : members) {
      const auto va = value_of(*x, metric, estimates);
      const auto vb = value_of(*y, metric, estimates);
      if (!va || !vb) continue;
      items.push_back({x->info.id.value_or(x->name), *va, *vb, interval_of(*x, *va, estimates),
                       interval_of(*y, *vb, estimates)});
    }
    if (items.empty()) continue;
    out.push_back(agreement_of(items, metric, size, placement, lower_is_better, estimates));
  }
}

// A value in one regime with the interval its report states there, or the value as a point.
interval_value interval_of(const stated_estimate::regime_value& v) {
  if (v.interval)
    return {std::min(v.interval->first, v.value), std::max(v.interval->second, v.value)};
  return {v.value, v.value};
}

const stated_estimate::regime_value* in_regime(const stated_estimate& e, std::size_t regime) {
  for (const auto& v : e.by_regime)
    if (v.regime == regime) return &v;
  return nullptr;
}

// The rankings state by state (same_regime_deltas): for each placement, the matched state in
// which both reports valued the most of the ranking's mechanisms, then the most with an interval
// in both, then the lower cache-line round trip.
void add_state_rankings(const report& a, const report& b, const regime_comparison& mix,
                        const char* pattern, const char* metric, std::uint64_t size,
                        bool lower_is_better, std::vector<state_ranking>& out) {
  for (const auto& [placement, members] : ranking_members(a, b, pattern, size)) {
    member_pairs valued;
    for (const auto& [x, y] : members)
      if (value_of(*x, metric, true) && value_of(*y, metric, true)) valued.emplace_back(x, y);
    std::optional<state_ranking> best;
    std::vector<ranked> best_items;
    for (std::size_t ia = 0; ia < mix.a.regimes.size(); ++ia) {
      const double floor_a = mix.a.regimes[ia].cache_line_ns;
      for (std::size_t ib = 0; ib < mix.b.regimes.size(); ++ib) {
        if (!same_state(mix.a, ia, mix.b, ib)) continue;
        const double floor_b = mix.b.regimes[ib].cache_line_ns;
        std::vector<ranked> items;
        std::size_t with_interval = 0;
        for (const auto& [x, y] : valued) {
          const auto* va = in_regime(*x->estimate, ia);
          const auto* vb = in_regime(*y->estimate, ib);
          if (!va || !vb || va->repetitions < kSameRegimeRepetitions ||
              vb->repetitions < kSameRegimeRepetitions)
            continue;
          with_interval += va->interval && vb->interval;
          items.push_back({x->info.id.value_or(x->name), va->value, vb->value, interval_of(*va),
                           interval_of(*vb)});
        }
        if (best && std::tuple(items.size(), with_interval, -floor_a) <=
                        std::tuple(best->agreement.n, best->with_interval, -best->cache_line_ns_a))
          continue;
        best = state_ranking{.agreement = {},
                             .of = valued.size(),
                             .regime_a = ia,
                             .regime_b = ib,
                             .cache_line_ns_a = floor_a,
                             .cache_line_ns_b = floor_b,
                             .with_interval = with_interval};
        best->agreement.n = items.size();
        best_items = std::move(items);
      }
    }
    if (!best || best_items.size() < 2) continue;
    best->agreement = agreement_of(best_items, metric, size, placement, lower_is_better, true);
    out.push_back(std::move(*best));
  }
}

// |vb / va - 1| in percent in the regime both estimates have kSameRegimeRepetitions or more
// repetitions in (most on the poorer side first, then the lower cache-line round trip); nullopt
// when there is none.
std::optional<double> same_regime_delta(const stated_estimate& x, const regime_mix& mx,
                                        const stated_estimate& y, const regime_mix& my) {
  std::optional<double> delta;
  std::size_t best = 0;
  double best_floor = 0.0;
  for (const auto& rx : x.by_regime) {
    if (rx.repetitions < kSameRegimeRepetitions) continue;
    for (const auto& ry : y.by_regime) {
      if (ry.repetitions < kSameRegimeRepetitions || !same_state(mx, rx.regime, my, ry.regime))
        continue;
      const double floor_x = mx.regimes[rx.regime].cache_line_ns;
      const std::size_t n = std::min(rx.repetitions, ry.repetitions);
      if (delta && (n < best || (n == best && floor_x >= best_floor))) continue;
      delta = std::fabs(safe_ratio(ry.value, rx.value) - 1.0) * 100.0;
      best = n;
      best_floor = floor_x;
    }
  }
  return delta;
}

// Whether each id's receiver spins, as the report's context.ipcbench.mechanisms[].spins says;
// ids it does not say it for (older reports) are absent.
std::map<std::string, bool, std::less<>> spinning_ids(const report& r) {
  std::map<std::string, bool, std::less<>> out;
  const nlohmann::json& context = r.context();
  const nlohmann::json::json_pointer list("/ipcbench/mechanisms");
  if (!context.contains(list) || !context.at(list).is_array()) return out;
  for (const nlohmann::json& m : context.at(list))
    if (m.is_object() && m.contains("id") && m["id"].is_string() && m.contains("spins") &&
        m["spins"].is_boolean())
      out.emplace(m["id"].get<std::string>(), m["spins"].get<bool>());
  return out;
}

// |B / A - 1| in percent of the median multiples of the floor the benchmark's mechanism waits on
// (same_regime_deltas::latency_state_or_floor); nullopt when either report lacks them.
std::optional<double> floor_delta(const benchmark_samples& x, const benchmark_samples& y,
                                  const std::map<std::string, bool, std::less<>>& spins_a,
                                  const std::map<std::string, bool, std::less<>>& spins_b) {
  if (!x.info.id) return std::nullopt;
  const auto sa = spins_a.find(*x.info.id);
  const auto sb = spins_b.find(*x.info.id);
  if (sa == spins_a.end() || sb == spins_b.end() || sa->second != sb->second) return std::nullopt;
  const auto& va = sa->second ? x.p50_per_line : x.p50_per_wake;
  const auto& vb = sa->second ? y.p50_per_line : y.p50_per_wake;
  if (va.empty() || vb.empty()) return std::nullopt;
  return std::fabs(safe_ratio(median(vb), median(va)) - 1.0) * 100.0;
}

same_regime_deltas same_regime_of(const report& a, const report& b, const regime_comparison& mix) {
  same_regime_deltas s;
  const auto spins_a = spinning_ids(a);
  const auto spins_b = spinning_ids(b);
  auto& mixed = s.latency_state_or_floor;
  std::vector<double> latency, throughput, either;
  for (const benchmark_samples& x : a.benchmarks()) {
    const benchmark_samples* y = b.find(x.name);
    const char* metric = main_metric(x);
    if (!y || !metric || !value_of(x, metric, true) || !value_of(*y, metric, true)) continue;
    const bool is_latency = x.info.pattern == "latency";
    if (const auto d = same_regime_delta(*x.estimate, mix.a, *y->estimate, mix.b)) {
      (is_latency ? latency : throughput).push_back(*d);
      if (is_latency) {
        either.push_back(*d);
        ++mixed.by_state;
      }
      continue;
    }
    ++(is_latency ? s.latency_left_out : s.throughput_left_out);
    if (!is_latency) continue;
    if (const auto d = floor_delta(x, *y, spins_a, spins_b)) {
      either.push_back(*d);
      ++mixed.by_floor;
    } else {
      ++mixed.left_out;
    }
  }
  mixed.deltas = summarise_deltas(kLatencyMetric, std::move(either));
  s.latency = summarise_deltas(kLatencyMetric, std::move(latency));
  s.throughput = summarise_deltas(kThroughputMetric, std::move(throughput));
  add_state_rankings(a, b, mix, "latency", kLatencyMetric, kRankingLatencySize, true, s.rankings);
  add_state_rankings(a, b, mix, "throughput", kThroughputMetric, kRankingThroughputSize, false,
                     s.rankings);
  return s;
}

// The run-wide to_ns of each floor a report's estimates were adjusted to (one per floor in a
// report: the run's median of that floor over the repetitions of the fit).
std::map<std::string, double, std::less<>> adjusted_floors(const report& r) {
  std::map<std::string, double, std::less<>> out;
  for (const benchmark_samples& b : r.benchmarks())
    if (b.estimate && b.estimate->adjusted)
      out.emplace(b.estimate->adjusted->floor, b.estimate->adjusted->to_ns);
  return out;
}

std::optional<common_floor_deltas> common_floor_of(const report& a, const report& b) {
  const auto floors_a = adjusted_floors(a);
  const auto floors_b = adjusted_floors(b);
  common_floor_deltas c;
  std::map<std::string, double, std::less<>> common;
  for (const auto& [floor, to_a] : floors_a)
    if (const auto it = floors_b.find(floor); it != floors_b.end()) {
      const double to = std::sqrt(to_a * it->second);
      common.emplace(floor, to);
      c.floors.push_back({floor, to_a, it->second, to});
    }
  if (common.empty()) return std::nullopt;
  std::vector<double> deltas;
  for (const benchmark_samples& x : a.benchmarks()) {
    const benchmark_samples* y = b.find(x.name);
    if (!y || !main_metric(x) || x.info.pattern != "latency") continue;
    auto va = value_of(x, kLatencyMetric, true);
    auto vb = value_of(*y, kLatencyMetric, true);
    if (!va || !vb) continue;
    const auto& ja = x.estimate->adjusted;
    const auto& jb = y->estimate->adjusted;
    const auto to = ja && jb && ja->floor == jb->floor ? common.find(ja->floor) : common.end();
    if (to != common.end()) {
      *va *= std::pow(to->second / ja->to_ns, ja->slope);
      *vb *= std::pow(to->second / jb->to_ns, jb->slope);
      ++c.taken;
    } else {
      ++c.as_stated;
    }
    deltas.push_back(std::fabs(safe_ratio(*vb, *va) - 1.0) * 100.0);
  }
  if (c.taken == 0) return std::nullopt;
  c.latency = summarise_deltas(kLatencyMetric, std::move(deltas));
  return c;
}

// The run's ratio and the |delta| about it (run_ratio), from each benchmark's B / A.
std::optional<run_ratio> run_ratio_of(const char* metric, const std::vector<double>& ratios,
                                      std::vector<double> nulls) {
  if (ratios.empty()) return std::nullopt;
  run_ratio r;
  r.ratio = median(ratios);
  std::vector<double> about;
  for (const double x : ratios) about.push_back(std::fabs(safe_ratio(x, r.ratio) - 1.0) * 100.0);
  r.about = summarise_deltas(metric, std::move(about));
  r.nulls = nulls.size();
  if (!nulls.empty()) r.null_ratio = median(nulls);
  return r;
}

std::vector<claim_agreement> claims_of(const report& a, const report& b,
                                       const std::optional<regime_comparison>& mixes) {
  std::map<std::pair<std::string, std::string>, const claim_row*> in_b;
  for (const claim_row& r : b.claims()) in_b.emplace(std::pair{r.claim, r.where}, &r);
  std::vector<claim_agreement> out;
  std::map<std::string, std::size_t> index;
  for (const claim_row& ra : a.claims()) {
    const auto it = in_b.find({ra.claim, ra.where});
    if (it == in_b.end()) continue;
    const claim_row& rb = *it->second;
    const auto [at, fresh] = index.emplace(ra.claim, out.size());
    if (fresh) out.push_back({.id = ra.claim});
    claim_agreement& c = out[at->second];
    ++c.rows;
    if (ra.verdict == rb.verdict) {
      ++c.same;
      continue;
    }
    const bool opposite = (ra.verdict == "holds" && rb.verdict == "refuted") ||
                          (ra.verdict == "refuted" && rb.verdict == "holds");
    if (!opposite) continue;
    ++c.opposite;
    if (mixes && ra.regime && rb.regime && *ra.regime < mixes->a.regimes.size() &&
        *rb.regime < mixes->b.regimes.size() &&
        !same_state(mixes->a, *ra.regime, mixes->b, *rb.regime))
      ++c.opposite_in_different_states;
  }
  return out;
}

}  // namespace

same_answer_figures same_answer(const report& a, const report& b) {
  same_answer_figures f;
  f.path_a = a.path();
  f.path_b = b.path();
  f.normalised = a.origin().normalised;
  f.without_floor_a = repetitions_without_floor(a);
  f.without_floor_b = repetitions_without_floor(b);
  f.regimes = compare_regimes(a, b, "A", "B");
  f.estimates_a = a.origin().estimates;
  f.estimates_b = b.origin().estimates;
  f.estimates = f.estimates_a && f.estimates_b && f.normalised == normalisation::none;
  std::vector<double> latency, throughput;
  // B / A of each benchmark, and of the null benchmarks apart, per pattern ([0]: latency).
  std::vector<double> ratios[2], null_ratios[2];
  interval_tally latency_intervals, throughput_intervals;
  for (const benchmark_samples& x : a.benchmarks()) {
    const benchmark_samples* y = b.find(x.name);
    if (!y) continue;
    ++f.common;
    const char* metric = main_metric(x);
    if (!metric) continue;
    const auto va = value_of(x, metric, f.estimates);
    const auto vb = value_of(*y, metric, f.estimates);
    if (!va || !vb) continue;
    const double ratio = safe_ratio(*vb, *va);
    const double delta = std::fabs(ratio - 1.0) * 100.0;
    const bool is_latency = x.info.pattern == "latency";
    (is_latency ? latency : throughput).push_back(delta);
    if (std::isfinite(ratio)) {
      ratios[is_latency ? 0 : 1].push_back(ratio);
      if (x.info.family == "calibration") null_ratios[is_latency ? 0 : 1].push_back(ratio);
    }
    if (f.estimates)
      (is_latency ? latency_intervals : throughput_intervals).add(*x.estimate, *y->estimate, delta);
  }
  if (f.common == 0) {
    throw input_error("no common benchmarks between '" + a.path() + "' and '" + b.path() + "'");
  }
  f.latency = summarise_deltas(kLatencyMetric, std::move(latency));
  f.throughput = summarise_deltas(kThroughputMetric, std::move(throughput));
  f.latency_run = run_ratio_of(kLatencyMetric, ratios[0], std::move(null_ratios[0]));
  f.throughput_run = run_ratio_of(kThroughputMetric, ratios[1], std::move(null_ratios[1]));
  if (f.estimates) {
    f.latency_by_interval = std::move(latency_intervals).split(kLatencyMetric);
    f.throughput_by_interval = std::move(throughput_intervals).split(kThroughputMetric);
  }
  if (f.estimates && f.regimes) f.same_regime = same_regime_of(a, b, *f.regimes);
  if (f.estimates) f.common_floor = common_floor_of(a, b);
  add_rankings(a, b, f.estimates, "latency", kLatencyMetric, kRankingLatencySize, true, f.rankings);
  add_rankings(a, b, f.estimates, "throughput", kThroughputMetric, kRankingThroughputSize, false,
               f.rankings);
  f.spread_a = spread_of(a);
  f.spread_b = spread_of(b);
  f.claims = claims_of(a, b, f.regimes);
  return f;
}

}  // namespace ipcbench::compare
