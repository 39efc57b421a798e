#include "compare/gate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>

namespace ipcbench::compare {
namespace {

using nlohmann::json;

void validate(const gate_options& options) {
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) {
    throw std::invalid_argument("alpha must be between 0 and 1");
  }
  auto valid_threshold = [](double t) { return std::isfinite(t) && t >= 0.0; };
  if (options.threshold_all && !valid_threshold(*options.threshold_all)) {
    throw std::invalid_argument("threshold must be a non-negative number");
  }
  for (const auto& [name, t] : options.thresholds) {
    if (!find_metric(name)) throw std::invalid_argument("unknown metric '" + name + "'");
    if (!valid_threshold(t)) throw std::invalid_argument("threshold must be a non-negative number");
  }
  for (const auto& name : options.metrics) {
    if (!find_metric(name)) throw std::invalid_argument("unknown metric '" + name + "'");
  }
  if (options.resamples == 0) throw std::invalid_argument("resamples must be positive");
}

// context[section][key], or context[key] without a section; nullptr when absent or null.
const json* context_field(const report& r, const char* section, const char* key) {
  const json* node = &r.context();
  if (section) {
    const auto it = node->find(section);
    if (it == node->end() || !it->is_object()) return nullptr;
    node = &*it;
  }
  const auto it = node->find(key);
  return it == node->end() || it->is_null() ? nullptr : &*it;
}

std::string show(const json& value) {
  if (!value.is_string()) return value.dump();
  std::string text = "'";
  text += value.get<std::string>();
  text += '\'';
  return text;
}

std::string format_p(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", p);
  return buf;
}

// Which metrics to compare for one benchmark present in both reports.
std::vector<std::string> metrics_for(const benchmark_samples& b, const benchmark_samples& c,
                                     const gate_options& options) {
  if (!options.metrics.empty()) return options.metrics;
  std::vector<std::string> names;
  if (b.ipcbench_fields || c.ipcbench_fields) {
    for (auto m : kDefaultMetrics) names.emplace_back(m);
  } else {
    for (auto m : kPlainDefaultMetrics) names.emplace_back(m);
  }
  return names;
}

std::string status_phrase(const benchmark_samples& s, const char* side) {
  std::string text = std::string(to_string(s.status)) + " in " + side;
  if (s.status != run_status::ok && !s.reason.empty()) text += " (" + s.reason + ")";
  return text;
}

// `unit`: what a side's samples are, "repetitions" or "runs" (each run's median).
std::string untested_because(std::size_t n1, std::size_t n2, double level, std::size_t family,
                             const char* unit = "repetitions") {
  std::string why = std::to_string(n1) + " vs " + std::to_string(n2) + " " + unit +
                    " cannot reach " + format_p(level);
  if (family > 1) why += " (alpha over a family of " + std::to_string(family) + ")";
  why += ": the smallest possible p is " + format_p(mwu_min_p_value(n1, n2)) + "; needs " +
         std::to_string(repetitions_needed(level)) + " per side";
  return why;
}

// Median, ratio and effect of one metric; p-value when the samples can be tested at all.
judgement describe(std::span<const double> baseline, std::span<const double> contender,
                   const gate_options& options) {
  judgement j;
  j.baseline_median = median(baseline);
  j.contender_median = median(contender);
  j.ratio = safe_ratio(j.contender_median, j.baseline_median);
  if (too_few_to_test(baseline.size(), contender.size(), options.alpha)) return j;
  j.test = std::string(to_string(options.test));
  if (options.test == test_kind::mann_whitney) {
    j.p_value = mann_whitney_u(baseline, contender).p_value;
  } else {
    j.p_value =
        bootstrap_median_ratio(baseline, contender, options.alpha, options.resamples, options.seed)
            .p_value;
  }
  return j;
}

// Per-round log ratios, contender over baseline, of the rounds both sides have (positive) values
// for; empty when the sides are not paired or the metric has no per-run values.
std::vector<double> round_log_ratios(const benchmark_samples& b, const benchmark_samples& c,
                                     const std::string& metric) {
  std::vector<double> d;
  const auto bi = b.by_run.find(metric);
  const auto ci = c.by_run.find(metric);
  if (bi == b.by_run.end() || ci == c.by_run.end()) return d;
  const std::size_t n = std::min(bi->second.size(), ci->second.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double x = bi->second[i], y = ci->second[i];
    if (std::isfinite(x) && std::isfinite(y) && x > 0 && y > 0) d.push_back(std::log(y / x));
  }
  return d;
}

// The smallest worsening the test would call significant at `level`, given the spread the
// samples show: the contender's values (or the per-round log ratios) moved onto the baseline's
// median, then worsened by e until the test's p is below the level; nullopt when even 100x is
// not enough or the medians are zero.
std::optional<double> worsening_found_at(std::span<const double> baseline,
                                         std::span<const double> contender,
                                         std::span<const double> log_ratios, direction better,
                                         double level) {
  const double sign = better == direction::lower_is_better ? 1.0 : -1.0;
  std::vector<double> moved;
  std::function<bool(double)> significant;
  if (!log_ratios.empty()) {
    const double centre = median(log_ratios);
    for (double d : log_ratios) moved.push_back(d - centre);
    significant = [&](double e) {
      std::vector<double> w(moved);
      for (double& v : w) v += sign * std::log(e);
      return wilcoxon_signed_rank(w).p_value < level;
    };
  } else {
    const double mb = median(baseline), mc = median(contender);
    if (!(mb > 0) || !(mc > 0)) return std::nullopt;
    for (double v : contender) moved.push_back(v * mb / mc);
    significant = [&](double e) {
      std::vector<double> w(moved);
      const double f = sign > 0 ? e : 1.0 / e;
      for (double& v : w) v *= f;
      return mann_whitney_u(baseline, w).p_value < level;
    };
  }
  double lo = 1.0, hi = 100.0;
  if (!significant(hi)) return std::nullopt;
  for (int i = 0; i < 40 && hi / lo > 1.0005; ++i) {
    const double mid = std::sqrt(lo * hi);
    (significant(mid) ? hi : lo) = mid;
  }
  return hi - 1.0;
}

// The verdict of a tested metric, given whether its difference is significant.
void decide(judgement& j, direction better, double threshold, bool significant) {
  j.method = gate_method::significance_threshold;
  const double effect = better == direction::lower_is_better
                            ? j.ratio
                            : safe_ratio(j.baseline_median, j.contender_median);
  j.outcome = verdict::no_change;
  if (significant && effect > 1.0 + threshold) {
    j.outcome = verdict::regression;
  } else if (significant && effect < 1.0 / (1.0 + threshold)) {
    j.outcome = verdict::improvement;
  }
}

std::string runs_or_repetitions(const benchmark_samples& s) {
  return s.by_run.empty() && s.attempts == s.repetitions ? "repetitions" : "runs";
}

// "failed in 2 of 10 runs (data check: ...)" for a side with failures.
std::string failure_phrase(const benchmark_samples& s, const char* side) {
  std::string text = std::string(to_string(s.status)) + " in " + side;
  if (s.failures < s.attempts)
    text += " in " + std::to_string(s.failures) + " of " + std::to_string(s.attempts) + " " +
            runs_or_repetitions(s);
  if (!s.reason.empty()) text += " (" + s.reason + ")";
  return text;
}

// "2 baseline repetitions without floors.wakeup_rtt_p50_ns" when a normalisation left some of
// this metric out, else "".
std::string without_floor_phrase(const benchmark_samples& s, const std::string& metric,
                                 const char* side, normalisation n) {
  const auto it = s.without_floor.find(metric);
  if (it == s.without_floor.end() || it->second == 0) return {};
  return std::to_string(it->second) + " " + side +
         (it->second == 1 ? " repetition" : " repetitions") + " without floors." +
         std::string(floor_key(n));
}

void mark_untested(judgement& j, std::string reason) {
  j.method = gate_method::untested;
  j.outcome = verdict::untested;
  j.untested_reason = std::move(reason);
}

}  // namespace

std::size_t repetitions_needed(double level) {
  std::size_t n = 1;
  while (!(mwu_min_p_value(n, n) < level) && n < 1000) ++n;
  return n;
}

std::vector<bool> holm_reject(std::span<const double> p_values, double alpha) {
  const std::size_t m = p_values.size();
  std::vector<std::size_t> order(m);
  for (std::size_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return p_values[a] < p_values[b]; });
  std::vector<bool> reject(m, false);
  for (std::size_t k = 0; k < m; ++k) {
    // The k-th smallest (from 0) is held to alpha / (m - k); the first that fails stops it.
    if (!(p_values[order[k]] <= alpha / static_cast<double>(m - k))) break;
    reject[order[k]] = true;
  }
  return reject;
}

std::string_view to_string(test_kind test) {
  return test == test_kind::bootstrap ? "bootstrap" : "mann-whitney";
}

std::string_view to_string(verdict outcome) {
  switch (outcome) {
    case verdict::regression:
      return "regression";
    case verdict::improvement:
      return "improvement";
    case verdict::no_change:
      return "no change";
    case verdict::untested:
      return "untested";
    case verdict::not_gated:
      return "not gated";
  }
  return "no change";
}

std::string_view to_string(gate_method method) {
  return method == gate_method::untested ? "untested" : "significance+threshold";
}

std::string_view to_string(correction c) {
  return c == correction::holm ? "holm" : "none";
}

double threshold_for(const metric_spec& metric, const gate_options& options) {
  if (const auto it = options.thresholds.find(metric.name); it != options.thresholds.end()) {
    return it->second;
  }
  return options.threshold_all.value_or(metric.default_threshold);
}

bool too_few_to_test(std::size_t n_baseline, std::size_t n_contender, double alpha) {
  // The exact rank test's floor also guards the bootstrap: on a handful of values its percentile
  // interval is far too narrow (1 vs 1 would always look "significant").
  return !(mwu_min_p_value(n_baseline, n_contender) < alpha);
}

judgement judge(std::span<const double> baseline, std::span<const double> contender,
                direction better, double threshold, const gate_options& options) {
  judgement j = describe(baseline, contender, options);
  if (!j.p_value) {
    mark_untested(j, untested_because(baseline.size(), contender.size(), options.alpha, 1));
    return j;
  }
  decide(j, better, threshold, *j.p_value < options.alpha);
  return j;
}

std::vector<std::string> machine_warnings(const report& baseline, const report& contender) {
  struct field {
    const char* section;  // nullptr: top level of the context
    const char* key;
  };
  constexpr field kFields[] = {
      {nullptr, "host_name"},
      {"ipcbench", "cpu_model"},
      {"ipcbench", "kernel"},
      {nullptr, "num_cpus"},
  };
  std::vector<std::string> warnings;
  for (const field& f : kFields) {
    const json* b = context_field(baseline, f.section, f.key);
    const json* c = context_field(contender, f.section, f.key);
    if (b && c && *b != *c) {
      warnings.push_back("reports come from different machines or kernels: " + std::string(f.key) +
                         " " + show(*b) + " (baseline) vs " + show(*c) +
                         " (contender); differences may not be caused by the code");
    }
  }
  return warnings;
}

std::optional<regime_mix> regimes_of(const report& r) {
  const json& context = r.context();
  const json::json_pointer list("/ipcbench/regimes/regimes"), ref("/ipcbench/regimes/reference");
  const json::json_pointer median("/cache_line_rtt_p50_ns/median"), share("/share");
  const json::json_pointer wake("/wakeup_rtt_p50_ns/median"), state("/cache_line_state");
  if (!context.contains(list) || !context.at(list).is_array() || context.at(list).empty())
    return std::nullopt;
  regime_mix mix;
  for (const json& g : context.at(list)) {
    if (!g.contains(median) || !g.at(median).is_number() || !g.contains(share) ||
        !g.at(share).is_number())
      return std::nullopt;
    regime_mix::regime e{g.at(median).get<double>(), g.at(share).get<double>(), {}, {}};
    if (g.contains(state) && g.at(state).is_number_integer()) e.line_state = g.at(state).get<int>();
    if (g.contains(wake) && g.at(wake).is_number()) e.wake_ns = g.at(wake).get<double>();
    mix.regimes.push_back(e);
  }
  if (context.contains(ref) && context.at(ref).is_number_unsigned() &&
      context.at(ref).get<std::size_t>() < mix.regimes.size())
    mix.reference = context.at(ref).get<std::size_t>();
  return mix;
}

bool regime_mix::split_by_wake(std::size_t i) const {
  if (i >= regimes.size() || !regimes[i].line_state) return false;
  for (std::size_t k = 0; k < regimes.size(); ++k)
    if (k != i && regimes[k].line_state == regimes[i].line_state) return true;
  return false;
}

bool regime_mix::split_by_wake() const {
  for (std::size_t i = 0; i < regimes.size(); ++i)
    if (split_by_wake(i)) return true;
  return false;
}

bool same_state(const regime_mix& ma, std::size_t ia, const regime_mix& mb, std::size_t ib) {
  if (ia >= ma.regimes.size() || ib >= mb.regimes.size()) return false;
  const auto& a = ma.regimes[ia];
  const auto& b = mb.regimes[ib];
  if (std::fabs(b.cache_line_ns - a.cache_line_ns) > kRegimeFloorTolerance * a.cache_line_ns)
    return false;
  if (!(ma.split_by_wake(ia) || mb.split_by_wake(ib)) || !a.wake_ns || !b.wake_ns) return true;
  return !(std::fabs(*b.wake_ns - *a.wake_ns) > kRegimeFloorTolerance * *a.wake_ns);
}

namespace {

// Why two mixes differ, or "" when they agree.
std::string mix_difference(const regime_mix& a, const regime_mix& b) {
  if (a.regimes.size() != b.regimes.size()) return "different numbers of regimes";
  if (!same_state(a, a.reference, b, b.reference))
    return "reference regimes more than " + format_p(100 * kRegimeFloorTolerance) + " % apart";
  for (std::size_t i = 0; i < a.regimes.size(); ++i)
    if (std::fabs(a.regimes[i].share - b.regimes[i].share) > kRegimeShareTolerance)
      return "shares more than " + format_p(kRegimeShareTolerance) + " apart";
  return {};
}

// "baseline (first of 6 runs): 125 ns 47 %, 545 ns 53 %"
std::string mix_text(const char* name, const report& r, const regime_mix& mix) {
  std::string text = name;
  if (r.origin().runs > 1) text += " (first of " + std::to_string(r.origin().runs) + " runs)";
  text += ":";
  for (std::size_t i = 0; i < mix.regimes.size(); ++i) {
    char buf[96];
    const auto& g = mix.regimes[i];
    if (mix.split_by_wake(i) && g.wake_ns)  // "488 ns (wake-up 8.7 us) 33 %"
      std::snprintf(buf, sizeof buf, "%s %.0f ns (wake-up %.1f us) %.0f %%", i == 0 ? "" : ",",
                    g.cache_line_ns, *g.wake_ns / 1000, 100 * g.share);
    else
      std::snprintf(buf, sizeof buf, "%s %.0f ns %.0f %%", i == 0 ? "" : ",", g.cache_line_ns,
                    100 * g.share);
    text += buf;
  }
  return text;
}

}  // namespace

std::optional<regime_comparison> compare_regimes(const report& a, const report& b,
                                                 const char* name_a, const char* name_b) {
  auto mix_a = regimes_of(a), mix_b = regimes_of(b);
  if (!mix_a || !mix_b) return std::nullopt;
  regime_comparison out{std::move(*mix_a), std::move(*mix_b), {}};
  const std::string why = mix_difference(out.a, out.b);
  if (why.empty()) return out;
  const normalisation n = a.origin().normalised;
  out.warning = "the runs met the host's regimes in different mixes (" + why +
                "): " + mix_text(name_a, a, out.a) + "; " + mix_text(name_b, b, out.b);
  out.warning += out.a.split_by_wake() || out.b.split_by_wake()
                     ? " (each regime's cache-line round trip, the wake-up round trip where a "
                       "cache-line state holds several, and share of the repetitions); "
                     : " (each regime's cache-line round trip and share of the repetitions); ";
  out.warning +=
      n == normalisation::none
          ? "raw latencies are not comparable across them: --normalise wake or line "
            "compares multiples of the floors measured beside each repetition"
          : "the latencies here are normalised (--normalise " + std::string(to_string(n)) + ")";
  return out;
}

namespace {

// The conditions of a run that compare checks (context.ipcbench), in one table: those that move
// every number are refused; those that move a few mechanisms' only are warned. A report from
// before a condition was recorded may have run under a known one (`unrecorded_as`, and why).
struct condition_field {
  const char* label;
  const char* pointer;  // JSON pointer into the context
  bool refused;
  const char* unrecorded_as = nullptr;
  const char* unrecorded_why = nullptr;
  const char* consequence = "their numbers are not comparable";
};
constexpr condition_field kConditions[] = {
    {"idle-state mode", "/ipcbench/idle_states/in_force", true},
    {"idle states held by", "/ipcbench/idle_states/held_by", true, "pm_qos",
     "from before the idle pollers (2026-11-29), when held meant the PM QoS request alone"},
    {"placement", "/ipcbench/placement", true},
    {"process model", "/ipcbench/process_model", true},
    {"target time", "/ipcbench/target_time_s", true},
    {"sweep", "/ipcbench/sweep", true},
    {"cpuidle driver", "/ipcbench/cpuidle/driver", true},
    {"library threads", "/ipcbench/library_threads", false, "free", "from before --library-threads",
     "ZeroMQ's, nng's and gRPC's numbers moved with it, the other mechanisms' did not"},
};

// One line per condition of the table (refused or warned ones) in which the runs differ.
std::vector<std::string> condition_differences(const report& baseline, const report& contender,
                                               bool refused) {
  std::vector<std::string> out;
  for (const condition_field& f : kConditions) {
    if (f.refused != refused) continue;
    const json::json_pointer ptr(f.pointer);
    // The value as recorded, else as run where that is known, else null; and how to show it.
    auto read = [&](const report& r, const char* side) -> std::pair<json, std::string> {
      const json& ctx = r.context();
      if (ctx.contains(ptr) && !ctx.at(ptr).is_null())
        return {ctx.at(ptr), show(ctx.at(ptr)) + " (" + side + ")"};
      if (f.unrecorded_as != nullptr)
        return {json(f.unrecorded_as), show(json(f.unrecorded_as)) + " (" + side +
                                           ", unrecorded: " + f.unrecorded_why + ")"};
      return {json(), std::string("unrecorded (") + side + ")"};
    };
    const auto [b, b_text] = read(baseline, "baseline");
    const auto [c, c_text] = read(contender, "contender");
    if (b == c) continue;
    out.push_back("the runs differ in " + std::string(f.label) + ": " + b_text + " vs " + c_text +
                  "; " + f.consequence);
  }
  return out;
}

// The host's steal time over each run (run_conditions.steal_fraction: the share of the CPUs' time
// the hypervisor ran something else on them), where one is kStealNoteShare or more and at least
// twice the other: on 2026-11-28 one VM's host stole 0.6 % of a pair's time and 5.0 % and 1.2 %
// of the next pair's, whose latency |delta| went from 4.1 to 7.7 % at the median.
constexpr double kStealNoteShare = 0.01;
std::optional<std::string> steal_difference(const report& baseline, const report& contender) {
  static const json::json_pointer ptr("/ipcbench/run_conditions/steal_fraction");
  const auto read = [](const report& r) -> std::optional<double> {
    const json& ctx = r.context();
    if (!ctx.contains(ptr) || !ctx.at(ptr).is_number()) return std::nullopt;
    return ctx.at(ptr).get<double>();
  };
  const auto b = read(baseline), c = read(contender);
  if (!b || !c || std::max(*b, *c) < kStealNoteShare || std::max(*b, *c) < 2 * std::min(*b, *c))
    return std::nullopt;
  char text[320];
  std::snprintf(text, sizeof text,
                "the host stole %.1f %% of the CPUs' time during the baseline and %.1f %% during "
                "the contender (run_conditions.steal_fraction): the estimates leave out the "
                "repetitions it stole from, but a busier host moves the others too",
                100 * *b, 100 * *c);
  return text;
}

}  // namespace

std::vector<std::string> condition_warnings(const report& baseline, const report& contender) {
  return condition_differences(baseline, contender, true);
}

std::vector<std::string> condition_notes(const report& baseline, const report& contender) {
  std::vector<std::string> out = condition_differences(baseline, contender, false);
  if (auto steal = steal_difference(baseline, contender)) out.push_back(std::move(*steal));
  return out;
}

bool in_default_family(const benchmark_info& info, std::optional<std::size_t> cpus) {
  if (!info.message_size) return true;  // a plain Google Benchmark entry
  if (std::find(std::begin(kDefaultFamilySizes), std::end(kDefaultFamilySizes),
                *info.message_size) == std::end(kDefaultFamilySizes))
    return false;
  if (!cpus) return true;
  std::size_t processes = 2;
  if (info.topology && info.fan) {
    processes = *info.topology == "pairs" ? 2 * *info.fan : *info.fan + 1;
  }
  return processes <= *cpus;
}

std::size_t repetitions_for_family(std::size_t family, const gate_options& options) {
  const double m = options.family == correction::holm
                       ? static_cast<double>(std::max<std::size_t>(family, 1))
                       : 1.0;
  return repetitions_needed(options.alpha / m);
}

std::string undecided_message(const comparison& result, bool runs) {
  const auto& u = result.undecided;
  if (u.count == 0) return {};
  const char* unit = runs ? "runs" : "repetitions";
  std::string text = "cannot decide: " + std::to_string(u.count) + " gated " +
                     (u.count == 1 ? "metric has" : "metrics have") + " as few as " +
                     std::to_string(u.baseline_n) + " vs " + std::to_string(u.contender_n) + " " +
                     unit + ", whose smallest possible p (" +
                     format_p(mwu_min_p_value(u.baseline_n, u.contender_n)) +
                     ") cannot reach the " + format_p(u.level) + " that ";
  text += result.family == correction::holm
              ? "Holm needs over a family of " + std::to_string(result.family_size + u.count) +
                    " metrics"
              : std::string("alpha needs");
  text += "; each side needs " + std::to_string(u.needed) + " " + unit +
          " (--allow-untested shows the ratios anyway)";
  return text;
}

comparison compare_reports(const report& baseline, const report& contender,
                           const gate_options& options) {
  validate(options);
  comparison out;
  out.baseline_path = baseline.path();
  out.contender_path = contender.path();
  out.test = options.test;
  out.alpha = options.alpha;
  out.paired = options.paired;
  out.family_rule = options.gate_all ? "all" : "default";
  out.baseline_runs = baseline.origin().runs;
  out.contender_runs = contender.origin().runs;
  out.normalised = baseline.origin().normalised;
  out.baseline_without_floor = repetitions_without_floor(baseline);
  out.contender_without_floor = repetitions_without_floor(contender);

  std::size_t common = 0;
  for (const benchmark_samples& b : baseline.benchmarks()) {
    if (contender.find(b.name)) ++common;
  }
  if (common == 0) {
    throw input_error("no common benchmarks between '" + baseline.path() + "' and '" +
                      contender.path() + "'");
  }
  std::optional<std::size_t> cpus;
  if (const json* n = context_field(contender, nullptr, "num_cpus"); n && n->is_number_unsigned())
    cpus = n->get<std::size_t>();

  // Per result: the per-round log ratios where the sides are paired.
  std::vector<std::vector<double>> log_ratios;
  bool any_ok_pair = false;
  for (const benchmark_samples& b : baseline.benchmarks()) {
    const benchmark_samples* c = contender.find(b.name);
    if (!c) {
      out.only_in_baseline.push_back(b.name);
      continue;
    }
    const bool b_values = b.failures < b.attempts || !b.metrics.empty();
    const bool c_values = c->failures < c->attempts || !c->metrics.empty();
    if (b.failures > 0 || c->failures > 0) {
      // Every failure is news: a run that failed is never silently dropped from judgement.
      not_comparable_entry entry{b.name, {}};
      if (b.failures == 0) {
        entry.lost = true;
        entry.broken = c->status == run_status::failed;
        entry.reason = "ok in baseline, " + failure_phrase(*c, "contender");
        ++out.summary.missing;
        if (entry.broken) ++out.summary.broken;
      } else if (c->failures == 0) {
        entry.reason = failure_phrase(b, "baseline") + ", ok in contender";
        ++out.summary.added;
      } else {
        entry.reason = b.status == c->status && b.reason == c->reason && b.failures == b.attempts &&
                               c->failures == c->attempts
                           ? status_phrase(b, "both")
                           : failure_phrase(b, "baseline") + ", " + failure_phrase(*c, "contender");
      }
      out.not_comparable.push_back(std::move(entry));
    }
    if (!b_values || !c_values) continue;
    any_ok_pair = true;

    const bool gated = options.gate_all || in_default_family(b.info, cpus);
    const std::vector<std::string> names = metrics_for(b, *c, options);
    bool compared_any = false;
    bool noted_any = false;
    for (const std::string& name : names) {
      const metric_spec& spec = *find_metric(name);
      const auto bm = b.metrics.find(name);
      const auto cm = c->metrics.find(name);
      const bool in_b = bm != b.metrics.end() && !bm->second.empty();
      const bool in_c = cm != c->metrics.end() && !cm->second.empty();
      const auto bu = b.unsupported.find(name);
      const auto cu = c->unsupported.find(name);
      metric_result r;
      r.name = b.name;
      r.info = b.info;
      r.metric = name;
      r.better = spec.better;
      r.baseline_n = in_b ? bm->second.size() : 0;
      r.contender_n = in_c ? cm->second.size() : 0;
      r.threshold = threshold_for(spec, options);
      r.gated = gated;
      r.normalised = out.normalised != normalisation::none && latency_metric(name);
      const std::string b_without = without_floor_phrase(b, name, "baseline", out.normalised);
      const std::string c_without = without_floor_phrase(*c, name, "contender", out.normalised);
      r.without_floor = b_without.empty() || c_without.empty() ? b_without + c_without
                                                               : b_without + " and " + c_without;
      // Why the metric cannot be judged at all: a tail percentile without enough round trips
      // behind it, or a side whose every repetition lacked the floor to normalise by.
      std::string unusable;
      if (bu != b.unsupported.end()) {
        unusable = bu->second + " (baseline)";
      } else if (cu != c->unsupported.end()) {
        unusable = cu->second + " (contender)";
      } else if ((!in_b && !b_without.empty()) || (!in_c && !c_without.empty())) {
        unusable = r.without_floor + ": nothing to normalise by";
      }
      if (!unusable.empty()) {
        // Shown, never judged.
        if (in_b && in_c) {
          r.result = describe(bm->second, cm->second, options);
        } else {  // nothing to show on one side: no median, no ratio
          r.result.baseline_median = r.result.contender_median = r.result.ratio =
              std::numeric_limits<double>::quiet_NaN();
        }
        r.result.p_value.reset();
        mark_untested(r.result, std::move(unusable));
        out.results.push_back(std::move(r));
        log_ratios.emplace_back();
        compared_any = true;
        continue;
      }
      if (!in_b && !in_c) continue;  // e.g. bytes_per_second of a latency benchmark
      if (in_b != in_c) {
        out.not_comparable.push_back(
            {b.name, name + " only in " + (in_b ? "baseline" : "contender"), false});
        noted_any = true;
        continue;
      }
      r.result = describe(bm->second, cm->second, options);
      r.result.method = gate_method::significance_threshold;
      if (options.paired) {
        log_ratios.push_back(round_log_ratios(b, *c, name));
        r.pairs = log_ratios.back().size();
      } else {
        log_ratios.emplace_back();
      }
      out.results.push_back(std::move(r));
      compared_any = true;
    }
    if (!compared_any && !noted_any && options.metrics.empty()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      out.not_comparable.push_back({b.name, "none of the metrics " + list + " in either report"});
    }
  }
  for (const benchmark_samples& c : contender.benchmarks()) {
    if (!baseline.find(c.name)) out.only_in_contender.push_back(c.name);
  }
  if (!options.metrics.empty() && any_ok_pair && out.results.empty()) {
    std::string list;
    for (const auto& n : options.metrics) list += (list.empty() ? "" : ",") + n;
    throw input_error("none of the selected metrics (" + list + ") is in both reports");
  }
  // A default family that selects nothing (a run of other sizes only) gates everything instead.
  if (!options.gate_all &&
      std::none_of(out.results.begin(), out.results.end(), [](const auto& r) { return r.gated; })) {
    for (auto& r : out.results) r.gated = true;
    if (!out.results.empty()) {
      out.family_rule = "all";
      out.warnings.push_back(
          "no benchmark is in the default gate family (64 B, 64 KiB, 1 MiB, not "
          "oversubscribed); every benchmark compared is gated");
    }
  }

  out.summary.missing += out.only_in_baseline.size();
  out.summary.added += out.only_in_contender.size();
  out.summary.not_comparable = out.not_comparable.size();

  // Outside the family: ratio and raw p-value shown, never a verdict.
  for (auto& r : out.results) {
    if (r.gated || r.result.method == gate_method::untested) continue;
    r.result.outcome = verdict::not_gated;
    r.result.untested_reason = "outside the gate family (--gate-all gates it)";
  }

  // The family: every gated metric that has a p-value. Its full size fixes the level Holm's
  // first step asks for, alpha / m, and so the test each metric can use: the paired signed-rank
  // test where its pairs can reach that level (it removes the drift between rounds), the rank
  // test over both sides' samples otherwise. The choice depends on the sample sizes only.
  std::vector<std::size_t> family;
  for (std::size_t i = 0; i < out.results.size(); ++i) {
    const auto& r = out.results[i];
    if (r.gated && r.result.method != gate_method::untested && r.result.p_value)
      family.push_back(i);
  }
  const auto level = [&](std::size_t m) {
    return options.family == correction::holm && m > 0 ? options.alpha / static_cast<double>(m)
                                                       : options.alpha;
  };
  std::size_t full_family = family.size();
  for (std::size_t i = 0; i < out.results.size(); ++i) {
    const auto& r = out.results[i];
    if (r.gated && r.result.method != gate_method::untested && !r.result.p_value) ++full_family;
  }
  const double first_level = level(full_family);
  std::vector<double> min_p(out.results.size(), 1.0);
  for (std::size_t i = 0; i < out.results.size(); ++i) {
    auto& r = out.results[i];
    min_p[i] = mwu_min_p_value(r.baseline_n, r.contender_n);
    if (r.result.p_value && r.pairs > 0 && signed_rank_min_p_value(r.pairs) < first_level) {
      r.result.p_value = wilcoxon_signed_rank(log_ratios[i]).p_value;
      r.result.test = "signed-rank";
      min_p[i] = signed_rank_min_p_value(r.pairs);
    }
  }

  // A metric whose sample sizes cannot get below its level can never be significant: it is
  // untested, and leaves the family, which makes the level of the others less strict; repeat
  // until nothing changes.
  struct untestable_group {
    std::size_t count = 0;
    double level = 0;
    std::size_t family = 0;
  };
  std::map<std::pair<std::size_t, std::size_t>, untestable_group> untestable;
  const char* unit =
      baseline.origin().run_medians || contender.origin().run_medians ? "runs" : "repetitions";
  const auto set_aside = [&](metric_result& r, double l, std::size_t m) {
    r.result.p_value.reset();
    std::string why = untested_because(r.baseline_n, r.contender_n, l, m, unit);
    if (!r.without_floor.empty()) why += "; " + r.without_floor + " left out";
    mark_untested(r.result, std::move(why));
    auto& g = untestable[{r.baseline_n, r.contender_n}];
    if (g.count++ == 0) g = {1, l, m};
  };
  for (auto& r : out.results)
    if (r.gated && r.result.method != gate_method::untested && !r.result.p_value)
      set_aside(r, options.alpha, 1);  // cannot reach alpha even alone
  for (bool changed = true; changed;) {
    changed = false;
    const std::size_t m = family.size();
    const double l = level(m);
    std::vector<std::size_t> kept;
    for (std::size_t i : family) {
      if (!(min_p[i] < l)) {
        changed = true;
        set_aside(out.results[i], l, m);
      } else {
        kept.push_back(i);
      }
    }
    family = std::move(kept);
  }
  std::vector<double> p_values;
  for (std::size_t i : family) p_values.push_back(*out.results[i].result.p_value);
  std::vector<bool> significant(family.size(), false);
  if (options.family == correction::holm) {
    significant = holm_reject(p_values, options.alpha);
  } else {
    for (std::size_t i = 0; i < family.size(); ++i) significant[i] = p_values[i] < options.alpha;
  }
  for (std::size_t k = 0; k < family.size(); ++k) {
    metric_result& r = out.results[family[k]];
    decide(r.result, r.better, r.threshold, significant[k]);
  }
  out.family = options.family;
  out.family_size = family.size();

  // What the family could have detected: one worsening in an otherwise unchanged family faces
  // Holm's first level.
  {
    const double l = level(family.size());
    std::vector<std::pair<double, std::size_t>> effects;
    for (std::size_t i : family) {
      metric_result& r = out.results[i];
      const auto found = worsening_found_at(
          baseline.find(r.name)->metrics.at(r.metric), contender.find(r.name)->metrics.at(r.metric),
          r.result.test == "signed-rank" ? std::span<const double>(log_ratios[i])
                                         : std::span<const double>(),
          r.better, l);
      if (!found) continue;
      r.result.detectable = std::max(*found, r.threshold);
      effects.emplace_back(*r.result.detectable, i);
    }
    if (!effects.empty()) {
      std::sort(effects.begin(), effects.end());
      auto& d = out.detectable;
      d.metrics = effects.size();
      d.level = l;
      std::vector<double> values;
      for (const auto& e : effects) values.push_back(e.first);
      d.median = median(values);
      d.p90 = values[std::min(
          values.size() - 1,
          static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(values.size()))) - 1)];
      d.largest = values.back();
      d.largest_at =
          out.results[effects.back().second].name + " " + out.results[effects.back().second].metric;
    }
  }

  for (const auto& r : out.results) {
    switch (r.result.outcome) {
      case verdict::regression:
        ++out.summary.regressions;
        break;
      case verdict::improvement:
        ++out.summary.improvements;
        break;
      case verdict::no_change:
        ++out.summary.unchanged;
        break;
      case verdict::untested:
        ++out.summary.untested;
        break;
      case verdict::not_gated:
        ++out.summary.not_gated;
        break;
    }
  }

  // Gated metrics left untested for want of repetitions: the comparison cannot decide.
  for (const auto& [sizes, g] : untestable) {
    auto& u = out.undecided;
    if (u.count == 0 || sizes.first + sizes.second < u.baseline_n + u.contender_n) {
      u.baseline_n = sizes.first;
      u.contender_n = sizes.second;
    }
    u.count += g.count;
    u.level = first_level;
  }
  if (out.undecided.count > 0) out.undecided.needed = repetitions_for_family(full_family, options);

  auto warnings = machine_warnings(baseline, contender);
  for (auto& w : condition_warnings(baseline, contender)) warnings.push_back(std::move(w));
  for (auto& w : condition_notes(baseline, contender)) warnings.push_back(std::move(w));
  out.regimes = compare_regimes(baseline, contender, "baseline", "contender");
  if (out.regimes && !out.regimes->warning.empty()) warnings.push_back(out.regimes->warning);
  for (auto& w : out.warnings) warnings.push_back(std::move(w));
  out.warnings = std::move(warnings);
  for (const auto& [sizes, g] : untestable) {
    out.warnings.push_back(
        std::to_string(g.count) + (g.count == 1 ? " result" : " results") + " with " +
        std::to_string(sizes.first) + " vs " + std::to_string(sizes.second) + " " + unit +
        " untested: the smallest possible rank-test p-value is " +
        format_p(mwu_min_p_value(sizes.first, sizes.second)) + ", above the " + format_p(g.level) +
        (g.family > 1 ? " that a family of " + std::to_string(g.family) + " needs at its first step"
                      : std::string(" of alpha")) +
        "; use at least " + std::to_string(repetitions_needed(g.level)) + " " + unit + " a side");
  }
  return out;
}

int exit_code(const comparison& result, const gate_options& options) {
  if (result.summary.regressions > 0) return 1;
  if (result.summary.broken > 0) return 1;
  if (!options.allow_missing && result.summary.missing > 0) return 1;
  return 0;
}

}  // namespace ipcbench::compare
