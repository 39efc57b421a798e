#include "compare/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace ipcbench::compare {
namespace {

using nlohmann::ordered_json;

ordered_json number_or_null(double v) {
  return std::isfinite(v) ? ordered_json(v) : nullptr;
}

template <typename T>
ordered_json optional_json(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

std::string printf_string(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Three significant digits with a scaled unit: 812 ns, 12.3 us, 1.50 GiB/s.
std::string scaled(double value, const char* const* units, double step, std::size_t count) {
  if (!std::isfinite(value)) return value > 0 ? "inf" : "-";
  std::size_t i = 0;
  double v = value;
  while (i + 1 < count && std::fabs(v) >= step) {
    v /= step;
    ++i;
  }
  const char* format = std::fabs(v) >= 1000  ? "%.3g"
                       : std::fabs(v) >= 100 ? "%.0f"
                       : std::fabs(v) >= 10  ? "%.1f"
                                             : "%.2f";
  return printf_string(format, v) + " " + units[i];
}

std::string format_value(double value, std::string_view unit) {
  static const char* const kTime[] = {"ns", "us", "ms", "s"};
  static const char* const kBytes[] = {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"};
  static const char* const kRate[] = {"/s", "k/s", "M/s", "G/s"};
  static const char* const kMultiple[] = {"x"};  // a normalised latency: multiples of its floor
  if (unit == "ns") return scaled(value, kTime, 1000.0, 4);
  if (unit == "x") return scaled(value, kMultiple, 1000.0, 1);
  if (unit == "B/s") return scaled(value, kBytes, 1024.0, 5);
  return scaled(value, kRate, 1000.0, 4);
}

std::string format_size(const std::optional<std::uint64_t>& size) {
  if (!size) return "-";
  const std::uint64_t s = *size;
  if (s >= (1u << 20) && s % (1u << 20) == 0) return std::to_string(s >> 20) + " MiB";
  if (s >= (1u << 10) && s % (1u << 10) == 0) return std::to_string(s >> 10) + " KiB";
  return std::to_string(s) + " B";
}

std::string format_ratio(double ratio) {
  if (std::isnan(ratio)) return "-";
  if (!std::isfinite(ratio)) return "inf";
  return printf_string("%.3f", ratio);
}

std::string format_p(const std::optional<double>& p) {
  if (!p) return "-";
  return printf_string(*p < 0.001 ? "%.1e" : "%.3g", *p);
}

std::string verdict_text(const metric_result& r) {
  std::string text(to_string(r.result.outcome));
  if (r.result.outcome == verdict::untested) text += " (" + r.result.untested_reason + ")";
  if (r.result.test == "signed-rank") text += " (paired)";
  return text;
}

std::vector<std::string> row_cells(const metric_result& r) {
  const metric_spec* spec = find_metric(r.metric);
  const std::string_view unit = r.normalised ? "x" : spec ? spec->unit : "ns";
  const bool parsed = r.info.id && r.info.pattern;
  return {parsed ? *r.info.id : r.name,
          r.info.pattern.value_or("-"),
          format_size(r.info.message_size),
          r.info.placement.value_or("-"),
          r.metric,
          format_value(r.result.baseline_median, unit),
          format_value(r.result.contender_median, unit),
          format_ratio(r.result.ratio),
          format_p(r.result.p_value),
          verdict_text(r)};
}

const std::vector<std::string> kHeader = {"mechanism", "pattern",  "size",      "placement",
                                          "metric",    "baseline", "contender", "ratio",
                                          "p-value",   "verdict"};

// Columns that hold numbers are right-aligned.
bool right_aligned(std::size_t column) {
  return column == 2 || (column >= 5 && column <= 8);
}

std::string pad(const std::string& text, std::size_t width, bool right) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

std::string escape_markdown(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '`' || c == '*' || c == '_') out += '\\';
    out += c;
  }
  return out;
}

std::string code_span(const std::string& text) {
  std::string span = "`";
  span += text;
  std::replace(span.begin() + 1, span.end(), '`', '\'');
  span += '`';
  return span;
}

void append_item(std::string& out, const not_comparable_entry& n) {
  out += "- ";
  out += code_span(n.name);
  out += ": ";
  out += escape_markdown(n.reason);
  out += '\n';
}

// What a normalisation did, in one sentence for people; "" without one. `side_a` and `side_b`
// name the two sides ("baseline", "A").
std::string normalisation_note(normalisation n, std::size_t without_a, std::size_t without_b,
                               const char* side_a, const char* side_b) {
  if (n == normalisation::none) return {};
  const char* floor = n == normalisation::wake ? "wake-up" : "cache-line";
  return "latency normalised (--normalise " + std::string(to_string(n)) +
         "): each repetition's rtt_* and one_way_* metrics divided by the " + floor +
         " round trip measured beside it (floors." + std::string(floor_key(n)) +
         "), so shown as multiples of it; throughput and CPU metrics are not normalised; left "
         "out for want of that floor: " +
         std::to_string(without_a) + " " + side_a + " and " + std::to_string(without_b) + " " +
         side_b + (without_b == 1 ? " repetition" : " repetitions");
}

// The note of a comparison's normalisation; "" without one.
std::string normalisation_note(const comparison& r) {
  return normalisation_note(r.normalised, r.baseline_without_floor, r.contender_without_floor,
                            "baseline", "contender");
}

// The same for machines.
ordered_json normalisation_json(normalisation n, std::size_t without_a, std::size_t without_b,
                                const char* side_a, const char* side_b) {
  ordered_json metrics = ordered_json::array();
  for (const metric_spec& m : known_metrics())
    if (latency_metric(m.name)) metrics.push_back(m.name);
  return {{"by", std::string(to_string(n))},
          {"floor", std::string(floor_key(n))},
          {"metrics", std::move(metrics)},
          {"without_floor", {{side_a, without_a}, {side_b, without_b}}}};
}

// Both sides' regime mixes for machines, the sides named `side_a` and `side_b`.
ordered_json regimes_json(const regime_comparison& c, const char* side_a, const char* side_b) {
  const auto mix = [](const regime_mix& m) {
    ordered_json regimes = ordered_json::array();
    for (std::size_t i = 0; i < m.regimes.size(); ++i) {
      const auto& g = m.regimes[i];
      ordered_json e = {{"cache_line_rtt_p50_ns", g.cache_line_ns}, {"share", g.share}};
      // Where the run told wake-up states apart in this cache-line state.
      if (m.split_by_wake(i) && g.wake_ns) e["wakeup_rtt_p50_ns"] = *g.wake_ns;
      regimes.push_back(std::move(e));
    }
    return ordered_json{{"reference", m.reference}, {"regimes", std::move(regimes)}};
  };
  return {{side_a, mix(c.a)},
          {side_b, mix(c.b)},
          {"differ", !c.warning.empty()},
          {"warning", c.warning.empty() ? ordered_json(nullptr) : ordered_json(c.warning)}};
}

void markdown_table(std::string& out, const std::vector<const metric_result*>& rows) {
  out += "|";
  for (const auto& h : kHeader) out += " " + h + " |";
  out += "\n|";
  for (std::size_t i = 0; i < kHeader.size(); ++i) out += right_aligned(i) ? "---:|" : "---|";
  out += "\n";
  for (const metric_result* r : rows) {
    std::vector<std::string> cells = row_cells(*r);
    if (r->result.outcome == verdict::regression || r->result.outcome == verdict::improvement)
      cells.back() = "**" + cells.back() + "**";
    out += "|";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += ' ';
      out += i == cells.size() - 1 ? cells[i] : escape_markdown(cells[i]);
      out += " |";
    }
    out += "\n";
  }
}

}  // namespace

std::string summary_line(const comparison& result) {
  const summary_counts& s = result.summary;
  std::string line = std::to_string(s.regressions) + " regressions, " +
                     std::to_string(s.improvements) + " improvements, " +
                     std::to_string(s.unchanged) + " unchanged, " + std::to_string(s.untested) +
                     " untested, " + std::to_string(s.missing) + " missing";
  if (s.broken > 0) line += " (" + std::to_string(s.broken) + " failed)";
  line += ", " + std::to_string(s.added) + " new";
  if (s.not_comparable > 0) line += ", " + std::to_string(s.not_comparable) + " not comparable";
  if (s.not_gated > 0) line += ", " + std::to_string(s.not_gated) + " not gated";
  return line;
}

std::string family_line(const comparison& result) {
  std::string line = "Gate family (" + result.family_rule +
                     "): " + std::to_string(result.family_size) + " tested metrics";
  const auto& d = result.detectable;
  if (d.metrics > 0) {
    line += "; smallest worsening it would detect (one regression, at Holm's first level " +
            format_p(d.level) + "): median " + printf_string("%.1f", 100 * d.median) +
            " %, 90th percentile " + printf_string("%.1f", 100 * d.p90) + " %, largest " +
            printf_string("%.1f", 100 * d.largest) + " % (" + d.largest_at + ")";
  }
  return line;
}

ordered_json to_json(const comparison& result) {
  ordered_json doc;
  doc["baseline"] = result.baseline_path;
  doc["contender"] = result.contender_path;
  doc["test"] = std::string(to_string(result.test));
  doc["alpha"] = result.alpha;
  doc["correction"] = std::string(to_string(result.family));
  doc["family_size"] = result.family_size;
  doc["runs"] = {{"baseline", result.baseline_runs}, {"contender", result.contender_runs}};
  if (result.normalised != normalisation::none)
    doc["normalisation"] =
        normalisation_json(result.normalised, result.baseline_without_floor,
                           result.contender_without_floor, "baseline", "contender");
  if (result.regimes) doc["regimes"] = regimes_json(*result.regimes, "baseline", "contender");
  doc["paired"] = result.paired;
  doc["family"] = {{"rule", result.family_rule}, {"size", result.family_size}};
  {
    const auto& d = result.detectable;
    doc["detectable_effect"] =
        d.metrics == 0 ? ordered_json(nullptr)
                       : ordered_json{{"metrics", d.metrics}, {"level", d.level},
                                      {"median", d.median},   {"p90", d.p90},
                                      {"largest", d.largest}, {"largest_at", d.largest_at}};
    const auto& u = result.undecided;
    doc["undecided"] = u.count == 0 ? ordered_json(nullptr)
                                    : ordered_json{{"metrics", u.count},
                                                   {"baseline_n", u.baseline_n},
                                                   {"contender_n", u.contender_n},
                                                   {"level", u.level},
                                                   {"needed", u.needed}};
  }
  doc["warnings"] = result.warnings;
  ordered_json results = ordered_json::array();
  for (const metric_result& r : result.results) {
    ordered_json item;
    item["name"] = r.name;
    item["id"] = optional_json(r.info.id);
    item["mechanism"] = optional_json(r.info.mechanism);
    item["variant"] = optional_json(r.info.variant);
    item["pattern"] = optional_json(r.info.pattern);
    item["message_size"] = optional_json(r.info.message_size);
    item["placement"] = optional_json(r.info.placement);
    item["metric"] = r.metric;
    item["direction"] = std::string(to_string(r.better));
    item["baseline"] = {{"median", number_or_null(r.result.baseline_median)}, {"n", r.baseline_n}};
    item["contender"] = {{"median", number_or_null(r.result.contender_median)},
                         {"n", r.contender_n}};
    item["ratio"] = number_or_null(r.result.ratio);
    item["p_value"] = r.result.p_value ? number_or_null(*r.result.p_value) : nullptr;
    item["threshold"] = r.threshold;
    item["method"] = std::string(to_string(r.result.method));
    item["verdict"] = std::string(to_string(r.result.outcome));
    item["test"] = r.result.test.empty() ? ordered_json(nullptr) : ordered_json(r.result.test);
    item["detectable"] = r.result.detectable ? ordered_json(*r.result.detectable) : nullptr;
    if (r.pairs > 0) item["pairs"] = r.pairs;
    if (r.result.outcome == verdict::untested) item["untested_reason"] = r.result.untested_reason;
    results.push_back(std::move(item));
  }
  doc["results"] = std::move(results);
  doc["only_in_baseline"] = result.only_in_baseline;
  doc["only_in_contender"] = result.only_in_contender;
  ordered_json not_comparable = ordered_json::array();
  for (const auto& n : result.not_comparable) {
    not_comparable.push_back(
        {{"name", n.name}, {"reason", n.reason}, {"lost", n.lost}, {"failed", n.broken}});
  }
  doc["not_comparable"] = std::move(not_comparable);
  doc["summary"] = {
      {"regressions", result.summary.regressions}, {"improvements", result.summary.improvements},
      {"unchanged", result.summary.unchanged},     {"untested", result.summary.untested},
      {"missing", result.summary.missing},         {"new", result.summary.added},
      {"failed", result.summary.broken},           {"not_gated", result.summary.not_gated}};
  return doc;
}

std::string render_table(const comparison& result, bool colour) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(kHeader);
  for (const metric_result& r : result.results) rows.push_back(row_cells(r));
  std::vector<std::size_t> widths(kHeader.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }

  std::string out;
  if (const std::string note = normalisation_note(result); !note.empty())
    out += "Note: " + note + "\n\n";
  if (result.regimes && !result.regimes->warning.empty())
    out += "Note: " + result.regimes->warning + "\n\n";
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& row = rows[k];
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      std::string cell = last ? row[i] : pad(row[i], widths[i], right_aligned(i) && k > 0);
      if (last && colour && k > 0) {
        const verdict v = result.results[k - 1].result.outcome;
        if (v == verdict::regression) cell = "\033[1;31m" + cell + "\033[0m";
        if (v == verdict::improvement) cell = "\033[32m" + cell + "\033[0m";
      }
      line += cell;
      if (!last) line += "  ";
    }
    out += line + "\n";
  }

  std::vector<const not_comparable_entry*> lost;
  std::vector<const not_comparable_entry*> other;
  for (const auto& n : result.not_comparable) (n.lost ? lost : other).push_back(&n);
  if (!lost.empty()) {
    out += "\nOk in baseline, not (in every run) in contender:\n";
    for (const auto* n : lost)
      out += std::string(n->broken ? "  FAILED " : "  LOST ") + n->name + ": " + n->reason + "\n";
  }
  if (!result.only_in_baseline.empty()) {
    out += "\nOnly in baseline (missing):\n";
    for (const auto& name : result.only_in_baseline) out += "  " + name + "\n";
  }
  if (!result.only_in_contender.empty()) {
    out += "\nOnly in contender (new):\n";
    for (const auto& name : result.only_in_contender) out += "  " + name + "\n";
  }
  if (!other.empty()) {
    out += "\nNot compared:\n";
    for (const auto* n : other) out += "  " + n->name + ": " + n->reason + "\n";
  }
  out += '\n';
  out += family_line(result);
  out += '\n';
  out += summary_line(result);
  out += '\n';
  return out;
}

std::string render_markdown(const comparison& result) {
  std::string out = "## ipcbench-compare\n\n";
  out += "Baseline " + code_span(result.baseline_path) + ", contender " +
         code_span(result.contender_path) + "; " + std::to_string(result.baseline_runs) + " vs " +
         std::to_string(result.contender_runs) + (result.contender_runs == 1 ? " run" : " runs") +
         "; test: " + std::string(to_string(result.test)) + ", alpha " +
         printf_string("%g", result.alpha) + " family-wise (" +
         std::string(to_string(result.family)) + " over " + std::to_string(result.family_size) +
         " tested metrics).\n\n";
  for (const auto& w : result.warnings) out += "> **Warning:** " + escape_markdown(w) + "\n\n";
  if (const std::string note = normalisation_note(result); !note.empty())
    out += "> **Note:** " + escape_markdown(note) + "\n\n";

  std::vector<const metric_result*> regressions;
  std::vector<const metric_result*> improvements;
  std::vector<const metric_result*> unchanged;
  std::vector<const metric_result*> untested;
  std::vector<const metric_result*> not_gated;
  for (const auto& r : result.results) {
    switch (r.result.outcome) {
      case verdict::regression:
        regressions.push_back(&r);
        break;
      case verdict::improvement:
        improvements.push_back(&r);
        break;
      case verdict::no_change:
        unchanged.push_back(&r);
        break;
      case verdict::untested:
        untested.push_back(&r);
        break;
      case verdict::not_gated:
        not_gated.push_back(&r);
        break;
    }
  }
  if (!regressions.empty()) {
    out += "### Regressions (" + std::to_string(regressions.size()) + ")\n\n";
    markdown_table(out, regressions);
    out += "\n";
  }
  if (!improvements.empty()) {
    out += "### Improvements (" + std::to_string(improvements.size()) + ")\n\n";
    markdown_table(out, improvements);
    out += "\n";
  }
  if (!unchanged.empty()) {
    out += "<details><summary>Unchanged (" + std::to_string(unchanged.size()) + ")</summary>\n\n";
    markdown_table(out, unchanged);
    out += "\n</details>\n\n";
  }
  if (!untested.empty()) {
    out += "<details><summary>Untested (" + std::to_string(untested.size()) + ")</summary>\n\n";
    markdown_table(out, untested);
    out += "\n</details>\n\n";
  }
  if (!not_gated.empty()) {
    out += "<details><summary>Not gated (" + std::to_string(not_gated.size()) + ")</summary>\n\n";
    markdown_table(out, not_gated);
    out += "\n</details>\n\n";
  }

  const bool any_lost = std::any_of(result.not_comparable.begin(), result.not_comparable.end(),
                                    [](const auto& n) { return n.lost; });
  if (any_lost) {
    out += "### Ok in baseline, not in contender\n\n";
    for (const auto& n : result.not_comparable) {
      if (n.lost) append_item(out, n);
    }
    out += "\n";
  }
  if (!result.only_in_baseline.empty()) {
    out += "**Only in baseline (missing):**";
    for (const auto& name : result.only_in_baseline) {
      out += ' ';
      out += code_span(name);
    }
    out += "\n\n";
  }
  if (!result.only_in_contender.empty()) {
    out += "**Only in contender (new):**";
    for (const auto& name : result.only_in_contender) {
      out += ' ';
      out += code_span(name);
    }
    out += "\n\n";
  }
  std::string items;
  for (const auto& n : result.not_comparable) {
    if (!n.lost) append_item(items, n);
  }
  if (!items.empty()) {
    out += "<details><summary>Not compared</summary>\n\n" + items + "\n</details>\n\n";
  }
  out += escape_markdown(family_line(result)) + "\n\n";
  out += "**" + summary_line(result) + "**\n";
  return out;
}

namespace {

std::string percent_text(const std::optional<double>& pct) {
  return pct ? printf_string("%.2f", *pct) + " %" : std::string("-");
}

// "<head>: N benchmarks, median M %, 90th percentile P %" (no figures for none).
std::string counted_deltas(std::string head, const delta_summary& d) {
  head += ": " + std::to_string(d.count) + (d.count == 1 ? " benchmark" : " benchmarks");
  if (d.count > 0)
    head +=
        ", median " + percent_text(d.median_pct) + ", 90th percentile " + percent_text(d.p90_pct);
  return head;
}

std::string delta_line(const char* label, const delta_summary& d) {
  return counted_deltas(std::string(label) + " |delta| between A and B", d) +
         (d.count == 0 ? " ok in both\n" : "\n");
}

// The same deltas within one regime (same_regime_deltas), and how many benchmarks had none.
std::string same_regime_line(const char* label, const delta_summary& d, std::size_t left_out) {
  return counted_deltas(std::string(label) +
                            " |delta| state by state (each benchmark in one host state both runs "
                            "measured it in, the one with most repetitions first)",
                        d) +
         "; " + std::to_string(left_out) + " without such a state\n";
}

// Every latency benchmark, state by state where it can be, else in multiples of its floor
// (same_regime_deltas::latency_state_or_floor).
std::string state_or_floor_line(const same_regime_deltas::state_or_floor& m) {
  return counted_deltas(
             "latency p50 |delta| state by state, else in multiples of the floor the mechanism "
             "waits on (the cache-line round trip for a receiver that spins, the wake-up round "
             "trip for one that sleeps; each measured beside its repetition)",
             m.deltas) +
         " (" + std::to_string(m.by_state) + " in one state, " + std::to_string(m.by_floor) +
         " by the floors); " + std::to_string(m.left_out) + " without either\n";
}

// The runs as a whole (run_ratio): B / A over all, the null benchmarks', and the rest about it.
std::string run_ratio_line(const char* label, const run_ratio& r) {
  std::string nulls = "no null benchmark in both";
  if (r.null_ratio)
    nulls =
        "the null benchmarks, the harness with no IPC: " + printf_string("%.3f", *r.null_ratio) +
        " over " + std::to_string(r.nulls);
  return std::string(label) + " of the runs as a whole: B / A a median " +
         printf_string("%.3f", r.ratio) + " (" + nulls + "); " +
         counted_deltas("|delta| about that ratio", r.about) +
         " (a shift of every benchmark alike moves no ranking)\n";
}

// Latency with each run's drift of its floors taken out (common_floor_deltas).
std::string common_floor_line(const common_floor_deltas& c) {
  std::string floors;
  for (const auto& f : c.floors) {
    if (!floors.empty()) floors += "; ";
    floors += (f.floor == floor_key(normalisation::line) ? "cache line A " : "wake-up A ") +
              printf_string("%.0f", f.to_ns_a) + " ns, B " + printf_string("%.0f", f.to_ns_b) +
              " ns, common " + printf_string("%.0f", f.common_ns) + " ns";
  }
  return counted_deltas(
             "latency p50 |delta| at a common floor (each run's adjusted estimates taken "
             "from its own median floor to the two runs' geometric mean, with its own "
             "fitted slope)",
             c.latency) +
         " (" + std::to_string(c.taken) + " taken to it, " + std::to_string(c.as_stated) +
         " as stated; " + floors + ")\n";
}

std::string ranking_label(const std::string& metric) {
  return metric == "rtt_p50_ns" ? "latency p50" : "throughput";
}

// "latency p50 ranking at 64 B (cross)", or without the placement when there is none.
std::string ranking_head(const std::string& metric, std::uint64_t size, const char* what,
                         const std::string& placement) {
  std::string head = ranking_label(metric) + " " + what + " at " + format_size(size);
  if (!placement.empty()) head += " (" + placement + ")";
  return head;
}

// "Kendall tau-b 0.987 over 47 mechanisms; 0.978 as the reports declare them ...; of 1081
// pairs, ..." (no newline); `of`: the mechanisms of the whole ranking, where only some are in it.
std::string tau_text(const ranking_agreement& r, std::optional<std::size_t> of = std::nullopt) {
  std::string out = "Kendall tau-b " +
                    (std::isnan(r.tau_b) ? std::string("undefined (fewer than 2 or all tied)")
                                         : printf_string("%.3f", r.tau_b)) +
                    " over " + std::to_string(r.n) +
                    (of ? " of " + std::to_string(*of) : std::string()) +
                    (r.n == 1 && !of ? " mechanism" : " mechanisms");
  if (!std::isnan(r.tau_declared))
    out += "; " + printf_string("%.3f", r.tau_declared) +
           " as the reports declare them (intervals that overlap: tied)";
  if (r.pairs) {
    const declared_pairs& p = *r.pairs;
    out += "; of " + std::to_string(p.same_order + p.opposite_order + p.one_tied() + p.both_tied) +
           " pairs, both reports order " + std::to_string(p.same_order) + " the same way and " +
           std::to_string(p.opposite_order) + " the opposite ways, one ties " +
           std::to_string(p.one_tied()) + " the other orders";
    if (p.one_tied() != 0)
      out += " (A ties " + std::to_string(p.only_y_orders) + " of them, B " +
             std::to_string(p.only_x_orders) + ")";
    out += ", both tie " + std::to_string(p.both_tied);
  }
  // Which report was the less certain: its wider intervals tie what the other orders.
  auto wide = [](const std::optional<double>& w) { return printf_string("%.2f %%", *w); };
  if (r.width_a_pct && r.width_b_pct)
    out += "; the intervals a median " + wide(r.width_a_pct) + " of their values wide in A, " +
           wide(r.width_b_pct) + " in B";
  else if (r.width_a_pct)
    out +=
        "; the intervals a median " + wide(r.width_a_pct) + " of their values wide in A, none in B";
  else if (r.width_b_pct)
    out += "; no interval in A, the intervals a median " + wide(r.width_b_pct) +
           " of their values wide in B";
  return out;
}

// "A x, B y: agree" (no newline).
std::string winner_text(const ranking_agreement& r) {
  return "A " + r.winner_a + ", B " + r.winner_b +
         (r.winner_a == r.winner_b ? ": agree"
          : r.winners_tied         ? ": differ, tied within their intervals in both"
                                   : ": differ");
}

ordered_json ranking_json(const ranking_agreement& r) {
  return {{"metric", r.metric},
          {"message_size", r.message_size},
          {"placement", r.placement},
          {"n", r.n},
          {"tau_b", number_or_null(r.tau_b)},
          {"tau_declared", number_or_null(r.tau_declared)},
          {"declared_pairs", r.pairs ? ordered_json{{"same_order", r.pairs->same_order},
                                                    {"opposite_order", r.pairs->opposite_order},
                                                    {"one_tied", r.pairs->one_tied()},
                                                    {"tied_by_a_only", r.pairs->only_y_orders},
                                                    {"tied_by_b_only", r.pairs->only_x_orders},
                                                    {"both_tied", r.pairs->both_tied}}
                                     : ordered_json(nullptr)},
          {"interval_width_pct", r.pairs ? ordered_json{{"a", optional_json(r.width_a_pct)},
                                                        {"b", optional_json(r.width_b_pct)}}
                                         : ordered_json(nullptr)},
          {"winner_a", r.winner_a},
          {"winner_b", r.winner_b},
          {"winners_agree", r.winner_a == r.winner_b},
          {"winners_tied", r.winners_tied}};
}

std::string share_text(std::size_t part, std::size_t whole) {
  return printf_string("%.2f", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) +
         " %";
}

// Which values the figures compare, where a report has estimates; "" where none has.
std::string values_line(const same_answer_figures& f) {
  if (f.estimates)
    return "values compared: each report's estimate (estimates.value), not the median over its "
           "repetitions\n";
  if (!f.estimates_a && !f.estimates_b) return {};
  const char* why = !f.estimates_a   ? "A has no estimates"
                    : !f.estimates_b ? "B has no estimates"
                                     : "the estimates are in ns, not normalised";
  return std::string("values compared: the median over each report's repetitions (") + why + ")\n";
}

std::string spread_line(const char* side, const spread_summary& s) {
  std::string line = "repetitions spread over " + printf_string("%g", kSpreadLimit) +
                     "x (max/min of the main metric) in " + side + ": " + std::to_string(s.over) +
                     " of " + std::to_string(s.benchmarks) +
                     (s.benchmarks == 1 ? " benchmark" : " benchmarks");
  if (s.benchmarks > 0) {
    line += " (" + share_text(s.over, s.benchmarks) + ")";
  } else {
    line += " (none has 2 repetitions)";
  }
  if (s.explained && s.over > 0) {
    line += "; the report explains " + std::to_string(*s.explained) + " of them (" +
            share_text(*s.explained, s.over) + ": modes (" +
            std::to_string(s.by_parts.value_or(0)) +
            " of the timed batches' parts), or regimes, a disturbance of the run, the host's steal "
            "time, another task on a peer's CPU or the host moving during a repetition, or the "
            "run's pace beside them (" +
            std::to_string(s.by_pace.value_or(0)) + "), each within the limit), " +
            std::to_string(s.over - *s.explained) + " unexplained (" +
            share_text(s.over - *s.explained, s.over) + ")";
    if (s.cause_named && *s.cause_named > 0)
      line += ", of which it names a cause for " + std::to_string(*s.cause_named) +
              " (the CPU, a wait for it, a floor beside the slowest repetition, or the "
              "mechanism's own threads on the peers' CPUs)";
    if (s.one_alone && *s.one_alone > 0)
      line += "; one repetition alone makes " + std::to_string(*s.one_alone) + " of them (" +
              share_text(*s.one_alone, s.over - *s.explained) +
              " of the unexplained), the others lying within the limit";
  }
  return line + "\n";
}

// "latency p50 |delta| where both reports state an interval: ...; where either states none: ..."
std::string interval_split_line(const char* label, const interval_split& s) {
  const std::size_t n = s.with_interval.count;
  std::string line = counted_deltas(std::string(label) +
                                        " |delta| where both reports state an interval of the "
                                        "value (estimates.interval)",
                                    s.with_interval);
  if (n > 0) {
    line +=
        ", the intervals a median " + percent_text(s.median_width_pct) + " of their values wide";
    line += "; the two intervals overlap at " + std::to_string(s.overlapping) + " of " +
            std::to_string(n) + " (" + share_text(s.overlapping, n) + ")";
    line += ", and a value lies inside the other report's interval at " + std::to_string(s.inside) +
            " of " + std::to_string(2 * n) + " (" + share_text(s.inside, 2 * n) +
            "; two runs the host did not move between: about " +
            std::to_string(kUnmovedOverlapPct) + " % and " + std::to_string(kUnmovedInsidePct) +
            " %)";
  }
  return counted_deltas(line + "; where either states none", s.without) + "\n";
}

ordered_json delta_json(const delta_summary& d) {
  return {{"metric", d.metric},
          {"benchmarks", d.count},
          {"median_abs_delta_pct", optional_json(d.median_pct)},
          {"p90_abs_delta_pct", optional_json(d.p90_pct)}};
}

// {"benchmarks": part, "share": part / whole}, the share null when whole is 0.
ordered_json counted(std::size_t part, std::size_t whole) {
  return {
      {"benchmarks", part},
      {"share", whole == 0 ? ordered_json(nullptr)
                           : ordered_json(static_cast<double>(part) / static_cast<double>(whole))}};
}

ordered_json interval_split_json(const interval_split& s) {
  const std::size_t n = s.with_interval.count;
  return {{"with_interval", delta_json(s.with_interval)},
          {"median_interval_width_pct", optional_json(s.median_width_pct)},
          {"overlapping", counted(s.overlapping, n)},
          {"inside_the_other",
           {{"values", s.inside}, {"of", 2 * n}, {"share", counted(s.inside, 2 * n)["share"]}}},
          {"without", delta_json(s.without)}};
}

ordered_json spread_json(const spread_summary& s) {
  ordered_json doc = {{"benchmarks", s.benchmarks},
                      {"over", s.over},
                      {"share", counted(s.over, s.benchmarks)["share"]}};
  if (s.explained) {
    doc["explained"] = counted(*s.explained, s.over);
    doc["explained_by_run_pace"] = counted(s.by_pace.value_or(0), s.over);
    doc["explained_by_part_modes"] = counted(s.by_parts.value_or(0), s.over);
    doc["unexplained"] = counted(s.over - *s.explained, s.over);
    doc["unexplained_with_a_cause_named"] = counted(s.cause_named.value_or(0), s.over);
    doc["unexplained_by_one_repetition_alone"] = counted(s.one_alone.value_or(0), s.over);
  }
  return doc;
}

}  // namespace

std::string render_same_answer(const same_answer_figures& f) {
  std::string out = "A: " + f.path_a + "\nB: " + f.path_b + "\n" + values_line(f);
  if (const std::string note =
          normalisation_note(f.normalised, f.without_floor_a, f.without_floor_b, "A", "B");
      !note.empty())
    out += note + "\n";
  if (f.regimes && !f.regimes->warning.empty()) out += "Note: " + f.regimes->warning + "\n";
  out += delta_line("latency p50", f.latency);
  out += delta_line("throughput", f.throughput);
  if (f.latency_run) out += run_ratio_line("latency p50", *f.latency_run);
  if (f.throughput_run) out += run_ratio_line("throughput", *f.throughput_run);
  if (f.latency_by_interval) out += interval_split_line("latency p50", *f.latency_by_interval);
  if (f.throughput_by_interval) out += interval_split_line("throughput", *f.throughput_by_interval);
  if (f.same_regime) {
    out += same_regime_line("latency p50", f.same_regime->latency, f.same_regime->latency_left_out);
    out += same_regime_line("throughput", f.same_regime->throughput,
                            f.same_regime->throughput_left_out);
    out += state_or_floor_line(f.same_regime->latency_state_or_floor);
  }
  if (f.common_floor) out += common_floor_line(*f.common_floor);
  struct wanted {
    const char* metric;
    std::uint64_t size;
  };
  const wanted kWanted[] = {{"rtt_p50_ns", kRankingLatencySize},
                            {"bytes_per_second", kRankingThroughputSize}};
  for (const char* what : {"ranking", "winner"}) {
    for (const wanted& w : kWanted) {
      bool any = false;
      for (const ranking_agreement& r : f.rankings) {
        if (r.metric != w.metric || r.message_size != w.size) continue;
        any = true;
        out += ranking_head(r.metric, r.message_size, what, r.placement) + ": " +
               (std::string_view(what) == "ranking" ? tau_text(r) : winner_text(r)) + "\n";
      }
      if (!any) out += ranking_head(w.metric, w.size, what, "") + ": no mechanism ok in both\n";
    }
  }
  if (f.same_regime)
    for (const state_ranking& s : f.same_regime->rankings) {
      const ranking_agreement& r = s.agreement;
      out += ranking_head(r.metric, r.message_size, "ranking", r.placement) +
             ", state by state: in the host state both runs valued most of them in (cache line " +
             "A " + printf_string("%.0f", s.cache_line_ns_a) + " ns, B " +
             printf_string("%.0f", s.cache_line_ns_b) + " ns" + "; " +
             std::to_string(s.with_interval) + " with an interval in both): " + tau_text(r, s.of) +
             "; winner " + winner_text(r) + "\n";
    }
  out += spread_line("A", f.spread_a);
  out += spread_line("B", f.spread_b);
  for (const claim_agreement& c : f.claims) {
    out += "claim " + c.id + " (the reports' claims): " + std::to_string(c.rows) +
           (c.rows == 1 ? " place" : " places") + " judged in both, the same verdict at " +
           std::to_string(c.same) + ", opposite (holds in one, refuted in the other) at " +
           std::to_string(c.opposite);
    if (c.opposite > 0)
      out += " (" + std::to_string(c.opposite_in_different_states) +
             " of them decided in different states of the host)";
    out += ", a tie or untested in one at " + std::to_string(c.rows - c.same - c.opposite) + "\n";
  }
  return out;
}

ordered_json same_answer_json(const same_answer_figures& f) {
  ordered_json doc;
  doc["a"] = f.path_a;
  doc["b"] = f.path_b;
  doc["common"] = f.common;
  doc["values"] = f.estimates ? "estimates" : "medians";
  if (f.normalised != normalisation::none)
    doc["normalisation"] =
        normalisation_json(f.normalised, f.without_floor_a, f.without_floor_b, "a", "b");
  if (f.regimes) doc["regimes"] = regimes_json(*f.regimes, "a", "b");
  doc["latency"] = delta_json(f.latency);
  doc["throughput"] = delta_json(f.throughput);
  ordered_json runs;
  for (const auto& [key, r] :
       {std::pair{"latency", &f.latency_run}, std::pair{"throughput", &f.throughput_run}})
    if (*r) {
      ordered_json j = delta_json((*r)->about);
      j["ratio"] = (*r)->ratio;
      j["null_ratio"] = optional_json((*r)->null_ratio);
      j["null_benchmarks"] = (*r)->nulls;
      runs[key] = std::move(j);
    }
  if (!runs.is_null()) doc["as_a_whole"] = std::move(runs);
  if (f.latency_by_interval && f.throughput_by_interval)
    doc["by_interval"] = {{"latency", interval_split_json(*f.latency_by_interval)},
                          {"throughput", interval_split_json(*f.throughput_by_interval)}};
  if (f.same_regime) {
    ordered_json latency = delta_json(f.same_regime->latency);
    latency["without_common_regime"] = f.same_regime->latency_left_out;
    ordered_json throughput = delta_json(f.same_regime->throughput);
    throughput["without_common_regime"] = f.same_regime->throughput_left_out;
    ordered_json states = ordered_json::array();
    for (const state_ranking& s : f.same_regime->rankings) {
      ordered_json r = ranking_json(s.agreement);
      r["of"] = s.of;
      r["with_interval"] = s.with_interval;
      r["regime"] = {{"a", s.regime_a}, {"b", s.regime_b}};
      r["cache_line_rtt_p50_ns"] = {{"a", s.cache_line_ns_a}, {"b", s.cache_line_ns_b}};
      states.push_back(std::move(r));
    }
    const auto& mixed = f.same_regime->latency_state_or_floor;
    ordered_json either = delta_json(mixed.deltas);
    either["in_one_state"] = mixed.by_state;
    either["by_floor"] = mixed.by_floor;
    either["without_either"] = mixed.left_out;
    doc["same_regime"] = {{"min_repetitions", kSameRegimeRepetitions},
                          {"latency", std::move(latency)},
                          {"latency_state_or_floor", std::move(either)},
                          {"throughput", std::move(throughput)},
                          {"rankings", std::move(states)}};
  }
  if (f.common_floor) {
    ordered_json common = delta_json(f.common_floor->latency);
    common["taken"] = f.common_floor->taken;
    common["as_stated"] = f.common_floor->as_stated;
    ordered_json floors = ordered_json::array();
    for (const auto& fl : f.common_floor->floors)
      floors.push_back({{"floor", fl.floor},
                        {"a_ns", fl.to_ns_a},
                        {"b_ns", fl.to_ns_b},
                        {"common_ns", fl.common_ns}});
    common["floors"] = std::move(floors);
    doc["latency_at_common_floor"] = std::move(common);
  }
  ordered_json rankings = ordered_json::array();
  for (const ranking_agreement& r : f.rankings) rankings.push_back(ranking_json(r));
  doc["rankings"] = std::move(rankings);
  doc["spread"] = {
      {"limit", kSpreadLimit}, {"a", spread_json(f.spread_a)}, {"b", spread_json(f.spread_b)}};
  ordered_json claims = ordered_json::array();
  for (const claim_agreement& c : f.claims)
    claims.push_back({{"id", c.id},
                      {"places", c.rows},
                      {"same", c.same},
                      {"opposite", c.opposite},
                      {"opposite_in_different_states", c.opposite_in_different_states},
                      {"otherwise", c.rows - c.same - c.opposite}});
  doc["claims"] = std::move(claims);
  return doc;
}

}  // namespace ipcbench::compare
