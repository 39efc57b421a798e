#include "compare/gate.hpp"

#include <cmath>
#include <cstdio>
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

// Smallest n for which n vs n repetitions can reach alpha.
std::size_t min_testable_repetitions(double alpha) {
  std::size_t n = 1;
  while (!(mwu_min_p_value(n, n) < alpha)) ++n;
  return n;
}

}  // namespace

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
  }
  return "no change";
}

std::string_view to_string(gate_method method) {
  return method == gate_method::threshold_only ? "threshold only" : "significance+threshold";
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
  judgement j;
  j.baseline_median = median(baseline);
  j.contender_median = median(contender);
  j.ratio = safe_ratio(j.contender_median, j.baseline_median);
  const double effect = better == direction::lower_is_better
                            ? j.ratio
                            : safe_ratio(j.baseline_median, j.contender_median);

  bool significant = true;
  if (too_few_to_test(baseline.size(), contender.size(), options.alpha)) {
    j.method = gate_method::threshold_only;
  } else if (options.test == test_kind::mann_whitney) {
    j.p_value = mann_whitney_u(baseline, contender).p_value;
    significant = *j.p_value < options.alpha;
  } else {
    const bootstrap_result b =
        bootstrap_median_ratio(baseline, contender, options.alpha, options.resamples, options.seed);
    j.p_value = b.p_value;
    significant = b.low > 1.0 || b.high < 1.0;  // the interval excludes "no change"
  }

  if (significant && effect > 1.0 + threshold) {
    j.outcome = verdict::regression;
  } else if (significant && effect < 1.0 / (1.0 + threshold)) {
    j.outcome = verdict::improvement;
  }
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

comparison compare_reports(const report& baseline, const report& contender,
                           const gate_options& options) {
  validate(options);
  comparison out;
  out.baseline_path = baseline.path();
  out.contender_path = contender.path();
  out.test = options.test;
  out.alpha = options.alpha;

  std::size_t common = 0;
  for (const benchmark_samples& b : baseline.benchmarks()) {
    if (contender.find(b.name)) ++common;
  }
  if (common == 0) {
    throw input_error("no common benchmarks between '" + baseline.path() + "' and '" +
                      contender.path() + "'");
  }

  std::map<std::pair<std::size_t, std::size_t>, std::size_t> untestable;  // sizes -> results
  bool any_ok_pair = false;
  for (const benchmark_samples& b : baseline.benchmarks()) {
    const benchmark_samples* c = contender.find(b.name);
    if (!c) {
      out.only_in_baseline.push_back(b.name);
      continue;
    }
    if (b.status != run_status::ok || c->status != run_status::ok) {
      not_comparable_entry entry{
          b.name, b.status == c->status && b.reason == c->reason
                      ? status_phrase(b, "both")
                      : status_phrase(b, "baseline") + ", " + status_phrase(*c, "contender")};
      entry.lost = b.status == run_status::ok;
      if (entry.lost) ++out.summary.missing;
      if (c->status == run_status::ok) ++out.summary.added;
      out.not_comparable.push_back(std::move(entry));
      continue;
    }
    any_ok_pair = true;

    const std::vector<std::string> names = metrics_for(b, *c, options);
    bool compared_any = false;
    bool noted_any = false;
    for (const std::string& name : names) {
      const metric_spec& spec = *find_metric(name);
      const auto bm = b.metrics.find(name);
      const auto cm = c->metrics.find(name);
      const bool in_b = bm != b.metrics.end();
      const bool in_c = cm != c->metrics.end();
      if (!in_b && !in_c) continue;  // e.g. bytes_per_second of a latency benchmark
      if (in_b != in_c) {
        out.not_comparable.push_back(
            {b.name, name + " only in " + (in_b ? "baseline" : "contender"), false});
        noted_any = true;
        continue;
      }
      metric_result r;
      r.name = b.name;
      r.info = b.info;
      r.metric = name;
      r.better = spec.better;
      r.baseline_n = bm->second.size();
      r.contender_n = cm->second.size();
      r.threshold = threshold_for(spec, options);
      r.result = judge(bm->second, cm->second, spec.better, r.threshold, options);
      if (r.result.method == gate_method::threshold_only) {
        ++untestable[{r.baseline_n, r.contender_n}];
      }
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

  out.summary.missing += out.only_in_baseline.size();
  out.summary.added += out.only_in_contender.size();
  out.summary.not_comparable = out.not_comparable.size();

  out.warnings = machine_warnings(baseline, contender);
  for (const auto& [sizes, count] : untestable) {
    out.warnings.push_back(
        std::to_string(sizes.first) + " vs " + std::to_string(sizes.second) +
        " repetitions are too few for a significance test at alpha " + format_p(options.alpha) +
        " (the smallest possible rank-test p-value is " +
        format_p(mwu_min_p_value(sizes.first, sizes.second)) + "): " + std::to_string(count) +
        (count == 1 ? " result" : " results") + " judged on the threshold only; use at least " +
        std::to_string(min_testable_repetitions(options.alpha)) + " repetitions each");
  }
  return out;
}

int exit_code(const comparison& result, const gate_options& options) {
  if (result.summary.regressions > 0) return 1;
  if (options.fail_on_missing && result.summary.missing > 0) return 1;
  return 0;
}

}  // namespace ipcbench::compare
