#include "claims.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "bench/estimate.hpp"

namespace ipcbench {

using nlohmann::json;

namespace {

constexpr const char* kShm = "shared memory & mmap";
constexpr const char* kPipes = "pipes & FIFOs";
constexpr const char* kSockets = "sockets";
constexpr const char* kQueues = "message queues";

// A benchmark's median and its interval over its estimate's basis: the metric, or its CPU time
// per message.
struct stat {
  double value = 0;
  std::optional<estimate::interval> ci;
};

std::optional<stat> stat_of(const benchmark_history& h, const run_regimes& r, double confidence,
                            bool cpu) {
  const basis b = basis_of(h, r);
  std::vector<double> v;
  if (!cpu)
    v = b.values;  // taken to the run's floor where the basis is (basis_of)
  else
    for (std::size_t i : b.samples)
      if (const auto c = h.samples[i].cpu_ns_per_message) v.push_back(*c);
  if (v.empty()) return std::nullopt;
  const double m = estimate::median(v);
  if (!(m > 0)) return std::nullopt;
  return stat{m, estimate::median_interval(v, confidence)};
}

comparison compare_stats(const stat& a, const stat& b, bool lower_is_better) {
  comparison c;
  // How many times better a is: the other's value over a's when lower is better.
  const stat& num = lower_is_better ? b : a;
  const stat& den = lower_is_better ? a : b;
  c.ratio = num.value / den.value;
  if (num.ci && den.ci) {
    c.lo = num.ci->lo / den.ci->hi;
    c.hi = den.ci->lo > 0 ? num.ci->hi / den.ci->lo : std::numeric_limits<double>::infinity();
    c.verdict = *c.lo > 1 ? "better" : *c.hi < 1 ? "worse" : "tie";
  }
  return c;
}

json number_or_null(std::optional<double> v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

json by_regime_json(const std::vector<regime_verdict>& list) {
  json out = json::array();
  for (const regime_verdict& v : list)
    out.push_back({{"regime", v.regime},
                   {"repetitions", {v.repetitions.first, v.repetitions.second}},
                   {"ratio", v.ratio},
                   {"interval", {number_or_null(v.lo), number_or_null(v.hi)}},
                   {"verdict", v.verdict}});
  return out;
}

json comparison_json(const comparison& c) {
  json j = {{"ratio", c.ratio},
            {"interval", c.lo ? json{number_or_null(c.lo), number_or_null(c.hi)} : json(nullptr)},
            {"verdict", c.verdict},
            {"regime", c.regime ? json(*c.regime) : json(nullptr)},
            {"repetitions", {c.repetitions.first, c.repetitions.second}},
            {"values", c.values ? json{c.values->first, c.values->second} : json(nullptr)},
            {"rank_test", nullptr}};
  if (c.rank)
    j["rank_test"] = {{"p", c.rank->p},
                      {"strata", c.rank->strata},
                      {"repetitions", {c.rank->a_count, c.rank->b_count}}};
  if (!c.why.empty()) j["why"] = c.why;
  j["by_regime"] = by_regime_json(c.by_regime);
  if (c.state_decides) j["host_state_decides"] = true;
  return j;
}

std::string format_p(double p) {
  char out[16];
  std::snprintf(out, sizeof out, "%.3g", p);
  return out;
}

std::string label(const std::string& pattern, std::size_t size) {
  return pattern + " " + std::to_string(size) + " B";
}

// How many places a claim's summary names, where it ties or is untested, before "and N more".
constexpr std::size_t kOpenListed = 3;

// Places joined, or with `shorten`, past kOpenListed + 1 of them, the first few and how many
// more: "latency 1 B, latency 64 B, latency 512 B and 2 more".
bool shortened(const std::vector<std::string>& at) {
  return at.size() > kOpenListed + 1;
}
std::string listed(const std::vector<std::string>& at, bool shorten = true) {
  const std::size_t n = shorten && shortened(at) ? kOpenListed : at.size();
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", " : "") + at[i];
  if (n < at.size()) out += " and " + std::to_string(at.size() - n) + " more";
  return out;
}

// A regime as a reader can place it: "regime 0 (cache line 105 ns, wake-up 5.1 us)".
std::string regime_text(const run_regimes& r, int regime) {
  std::string out = "regime " + std::to_string(regime);
  if (regime < 0 || static_cast<std::size_t>(regime) >= r.found.list.size()) return out;
  const estimate::regime& g = r.found.list[static_cast<std::size_t>(regime)];
  char text[96];
  std::snprintf(text, sizeof text, " (cache line %.0f ns", g.median);
  out += text;
  if (g.wake_median) {
    std::snprintf(text, sizeof text, ", wake-up %.1f us", *g.wake_median / 1e3);
    out += text;
  }
  return out + ")";
}

// A claim's summary from its rows' verdicts (holds, tie, refuted, untested), and the rows that
// depend on the host's state: ordered the other way in another regime, or decided outside the
// reference regime of the estimates (a row's `outside_reference`: that regime).
json finish(json claim, const std::string& untested_why, const run_regimes& r) {
  std::map<std::string, std::vector<std::string>> where;
  for (const auto& row : claim["rows"])
    where[row["verdict"].get<std::string>()].push_back(row["where"].get<std::string>());
  const auto n = [&](const char* v) { return where.contains(v) ? where[v].size() : 0; };
  const std::size_t tested = n("holds") + n("tie") + n("refuted");
  std::string verdict;
  if (tested == 0)
    verdict = "untested";
  else if (n("holds") == tested)
    verdict = "holds";
  else if (n("refuted") == tested)
    verdict = "refuted";
  else if (n("tie") == tested)
    verdict = "tie";
  else
    verdict = "split";
  std::string summary;
  for (const char* v : {"holds", "tie", "refuted", "untested"}) {
    if (!where.contains(v)) continue;
    if (!summary.empty()) summary += "; ";
    summary += std::string(v) + " at ";
    // Where it holds or is refuted, in full; where a tie or untested, the first few and how many
    // more (a default run leaves most sizes short of the repetitions an interval needs, or with
    // an interval too wide to show a FIFO within 10 % of a pipe, and the list would bury the
    // verdicts).
    const std::vector<std::string>& at = where[v];
    const bool open = std::string_view(v) == "untested" || std::string_view(v) == "tie";
    summary += listed(at, open);
    if (open && shortened(at))
      summary += std::string_view(v) == "tie" ? " (each of the claim's rows has its interval)"
                                              : " (each of the claim's rows says why)";
  }
  // Rows where the host's states order a comparison opposite ways: untested, every repetition
  // better in one regime and worse in another (no lack of repetitions, an answer that depends
  // on the host); decided, two regimes' intervals apart the opposite ways.
  std::size_t state_decides = 0;
  std::vector<std::string> decided_by_state;
  std::map<int, std::vector<std::string>> outside;  // by the regime they were decided in
  for (const auto& row : claim["rows"]) {
    bool any = row.value("host_state_decides", false);
    for (const char* key : {"against", "speed", "cpu"})
      if (const auto it = row.find(key); it != row.end())
        for (const auto& c : *it) any = any || c.value("host_state_decides", false);
    const std::string place = row["where"].get<std::string>();
    if (any && row["verdict"] == "untested") ++state_decides;
    if (any && row["verdict"] != "untested") decided_by_state.push_back(place);
    if (const auto it = row.find("outside_reference"); it != row.end() && it->is_number())
      outside[it->get<int>()].push_back(place);
  }
  if (state_decides != 0)
    summary += "; the host's state decides the order at " + std::to_string(state_decides) +
               " of the untested (better in every repetition in one regime, worse in another)";
  if (!decided_by_state.empty())
    summary += "; at " + listed(decided_by_state) +
               " another state of the host orders a comparison the other way (its by_regime)";
  for (const auto& [regime, at] : outside)
    summary += "; " + listed(at) + (at.size() == 1 ? " is" : " are") + " decided in " +
               regime_text(r, regime) + ", not in the estimates' " +
               regime_text(r, r.found.reference) + ", where both had too few repetitions";
  if (claim["rows"].empty()) summary = untested_why;
  claim["verdict"] = verdict;
  claim["summary"] = summary;
  return claim;
}

// The benchmarks of one pattern and size, process peers, not paced, with their stats.
struct cell {
  const claim_benchmark* b;
  stat s;
};

}  // namespace

comparison compare_benchmarks(const benchmark_history& a, const benchmark_history& b,
                              bool lower_is_better, const run_regimes& r, double confidence,
                              bool cpu, bool by_rank) {
  const std::size_t needed = estimate::repetitions_for_interval(confidence);
  const paired_values v = in_common_regime(a, b, r, cpu, needed);
  if (!v.found) {
    comparison none;
    none.why = "the two never ran in one regime of the host";
    return none;
  }
  const stat sa{estimate::median(v.a), estimate::median_interval(v.a, confidence)};
  const stat sb{estimate::median(v.b), estimate::median_interval(v.b, confidence)};
  if (!(sa.value > 0) || !(sb.value > 0)) return {};
  comparison c = compare_stats(sa, sb, lower_is_better);
  c.regime = v.regime;
  c.repetitions = {v.a.size(), v.b.size()};
  c.values = std::pair{sa.value, sb.value};
  // The order in each regime that has the repetitions for an interval: where two of them order
  // the pair opposite ways, the host's state decides it, whichever regime gave the verdict.
  const std::vector<estimate::rank_stratum> strata = regime_strata(a, b, r, cpu);
  for (const auto& s : strata) {
    if (s.label < 0 || std::min(s.a.size(), s.b.size()) < needed) continue;
    const comparison in = compare_stats(
        {estimate::median(s.a), estimate::median_interval(s.a, confidence)},
        {estimate::median(s.b), estimate::median_interval(s.b, confidence)}, lower_is_better);
    if (!in.lo || in.verdict == "untested") continue;
    c.by_regime.push_back({.regime = s.label,
                           .repetitions = {s.a.size(), s.b.size()},
                           .ratio = in.ratio,
                           .lo = *in.lo,
                           .hi = *in.hi,
                           .verdict = in.verdict});
  }
  const auto ordered = [&](const char* order) {
    return std::ranges::any_of(c.by_regime, [&](const auto& x) { return x.verdict == order; });
  };
  c.state_decides = ordered("better") && ordered("worse");
  if (c.verdict != "untested") return c;
  c.why = "the medians' intervals need " + std::to_string(needed) +
          " repetitions of each in one regime; the regime both met most had " +
          std::to_string(v.a.size()) + " and " + std::to_string(v.b.size());
  if (!by_rank) return c;
  c.rank = estimate::stratified_rank_test(strata);
  if (!c.rank) return c;
  // 1 - confidence, not quite 0.1 in floating point: three repetitions each apart give 0.1.
  const double alpha = (1 - confidence) * (1 + 1e-9);
  if (c.rank->p <= alpha) {
    c.verdict = (c.rank->a_lower > 0.5) == lower_is_better ? "better" : "worse";
    c.why.clear();
  } else {
    c.why += "; a rank test over the " + std::to_string(c.rank->strata) +
             " regime(s) both ran in (" + std::to_string(c.rank->a_count) + " and " +
             std::to_string(c.rank->b_count) + " repetitions) gives p = " + format_p(c.rank->p) +
             ", above " + format_p(1 - confidence);
    // The host's states may order the two opposite ways, each completely: then the state, not
    // the mechanisms, decides, and pooling the regimes would hide it.
    std::vector<int> ahead, behind;  // regimes where every repetition of a beat every one of b
    for (std::size_t i = 0; i < strata.size(); ++i) {
      const double share = c.rank->a_lower_by_stratum[i];
      if (share == (lower_is_better ? 1.0 : 0.0)) ahead.push_back(strata[i].label);
      if (share == (lower_is_better ? 0.0 : 1.0)) behind.push_back(strata[i].label);
    }
    const auto list = [](const std::vector<int>& regimes) {
      std::string out;
      for (std::size_t i = 0; i < regimes.size(); ++i)
        out += (i ? ", " : "") + std::to_string(regimes[i]);
      return out;
    };
    if (!ahead.empty() && !behind.empty()) {
      c.state_decides = true;
      c.why +=
          "; the host's state decides the order: every repetition of the subject was better "
          "in regime " +
          list(ahead) + " and worse in regime " + list(behind);
    }
  }
  return c;
}

namespace {

// The regime a comparison's interval verdict comes from, where that is not the reference one of
// the estimates (in_common_regime: too few repetitions of both there).
std::optional<int> outside_reference(const comparison& c, const run_regimes& r) {
  if (r.found.list.size() > 1 && c.lo && c.regime && *c.regime != r.found.reference)
    return c.regime;
  return std::nullopt;
}

// How close two benchmarks must be for "performs as": the stop rule's relative width of a
// median's interval (options.hpp, --ci-width's default), below which the suite does not resolve
// a benchmark's own value either.
constexpr double kSameMargin = 0.10;

// A row of a claim that two benchmarks perform alike (a: the subject): the ratio, how many times
// better a is, as the Hodges-Lehmann estimate on the logarithms over every regime both ran in,
// with its exact interval (stats/rank.hpp); `holds` where the interval lies within kSameMargin
// of 1 either way, `refuted` where it lies wholly beyond, `tie` where it holds 1 but reaches past
// the margin, else `untested`; the last two with why.
json same_as_row(const benchmark_history& a, const benchmark_history& b, bool lower_is_better,
                 const run_regimes& r, double confidence) {
  const std::vector<estimate::rank_stratum> strata = regime_strata(a, b, r, false);
  const auto shift = rank_stats::stratified_ratio_interval(strata, confidence);
  const double hi_margin = 1 + kSameMargin, lo_margin = 1 / (1 + kSameMargin);
  json row = {{"ratio", nullptr},      {"interval", nullptr},  {"interval_confidence", nullptr},
              {"margin", kSameMargin}, {"strata", 0},          {"repetitions", {0, 0}},
              {"rank_test", nullptr},  {"verdict", "untested"}};
  if (strata.empty()) {
    row["why"] = "the two never ran in one regime of the host";
    return row;
  }
  if (!shift) {
    // The values that have a logarithm, as the interval takes them.
    const auto positive = [](const std::vector<double>& v) {
      return static_cast<std::size_t>(std::ranges::count_if(v, [](double x) { return x > 0; }));
    };
    std::size_t na = 0, nb = 0;
    for (const auto& s : strata) {
      na += positive(s.a);
      nb += positive(s.b);
    }
    row["repetitions"] = {na, nb};
    row["why"] = "too few repetitions for an interval of the ratio: " + std::to_string(na) +
                 " and " + std::to_string(nb) +
                 " over the regimes both ran in (3 each in one regime are the fewest that give "
                 "one)";
    return row;
  }
  // The ratio is a's over b's; better is lower for a latency.
  const double ratio = lower_is_better ? 1 / shift->estimate : shift->estimate;
  const double lo = lower_is_better ? 1 / shift->hi : shift->lo;
  const double hi = lower_is_better ? 1 / shift->lo : shift->hi;
  row["ratio"] = ratio;
  row["interval"] = {lo, hi};
  row["interval_confidence"] = shift->confidence;
  row["strata"] = shift->strata;
  row["repetitions"] = {shift->a_count, shift->b_count};
  char text[240];
  if (lo >= lo_margin && hi <= hi_margin) {
    row["verdict"] = "holds";
  } else if (lo > hi_margin || hi < lo_margin) {
    row["verdict"] = "refuted";
  } else if (lo <= 1 && hi >= 1) {
    // No difference shown, and none shown to be small: a tie, said as such (DESIGN.md rule 16).
    row["verdict"] = "tie";
    std::snprintf(text, sizeof text,
                  "the interval of the ratio, %.3f to %.3f, holds 1 (no difference shown) but "
                  "reaches past the %.0f %% margin (nor shown within it)",
                  lo, hi, 100 * kSameMargin);
    row["why"] = text;
  } else {
    std::snprintf(text, sizeof text,
                  "the interval of the ratio, %.3f to %.3f, shows a difference but reaches across "
                  "the %.0f %% margin: neither within it nor wholly beyond",
                  lo, hi, 100 * kSameMargin);
    row["why"] = text;
  }
  return row;
}

}  // namespace

json claims_json(const std::vector<claim_benchmark>& all, const run_regimes& r, double confidence,
                 const json& process_tax) {
  // Process peers, not paced, with an estimate, by (pattern, size).
  std::map<std::pair<std::string, std::size_t>, std::vector<cell>> cells;
  for (const auto& b : all) {
    if (b.threads || b.paced || b.history == nullptr) continue;
    if (const auto s = stat_of(*b.history, r, confidence, false))
      cells[{b.pattern, b.size}].push_back({&b, *s});
  }
  // The best of each family at a cell by median; lower is better for a latency.
  const auto best_of = [](const std::vector<cell>& v, const std::string& family, bool lower,
                          bool cpu_stat, const run_regimes& rr,
                          double conf) -> std::optional<cell> {
    std::optional<cell> best;
    for (const auto& c : v) {
      if (c.b->family != family) continue;
      stat s = c.s;
      if (cpu_stat) {
        const auto cs = stat_of(*c.b->history, rr, conf, true);
        if (!cs) continue;
        s = *cs;
      }
      if (!best || (lower ? s.value < best->s.value : s.value > best->s.value)) best = cell{c.b, s};
    }
    return best;
  };

  json claims = json::array();

  // Shared memory is the fastest.
  {
    json claim = {
        {"id", "shm_fastest"},
        {"claim", "shared memory is the fastest way between processes on one machine"},
        {"source",
         "tutorial 000, section '共享内存' (shared memory) and section "
         "'进程间通信各种方式效率比较' "
         "(efficiency compared); tutorial 001, section 2.2; tutorial 002, section "
         "'共享内存的特点' (shared memory's traits); tutorial 003, section on shared memory"},
        {"method",
         "per pattern and size: the fastest variant of the shared-memory family (median over its "
         "estimate's basis) against the fastest of pipes & FIFOs, sockets and message queues; "
         "holds where it is better than each with intervals apart, tie where an interval "
         "overlaps, refuted where another family is better. Where too few repetitions give no "
         "interval, an exact rank test over the regimes both ran in decides better or worse at "
         "the same confidence (never a tie; each comparison's rank_test and why). Middleware is "
         "left out (libraries over these mechanisms). sysv: the System V segment against the "
         "best other family"},
        {"rows", json::array()}};
    for (const auto& [key, v] : cells) {
      const bool lower = key.first == "latency";
      const auto shm = best_of(v, kShm, lower, false, r, confidence);
      if (!shm) continue;
      json against = json::array();
      std::string verdict = "holds";
      bool untested = false, tie = false;
      std::optional<int> outside;
      std::optional<cell> best_other;
      for (const char* f : {kPipes, kSockets, kQueues}) {
        const auto o = best_of(v, f, lower, false, r, confidence);
        if (!o) continue;
        if (!best_other ||
            (lower ? o->s.value < best_other->s.value : o->s.value > best_other->s.value))
          best_other = o;
        const comparison c =
            compare_benchmarks(*shm->b->history, *o->b->history, lower, r, confidence, false, true);
        json row = comparison_json(c);
        row["family"] = f;
        row["id"] = o->b->id;
        row["value"] = o->s.value;
        against.push_back(std::move(row));
        if (!outside) outside = outside_reference(c, r);
        if (c.verdict == "worse") verdict = "refuted";
        untested = untested || c.verdict == "untested";
        tie = tie || c.verdict == "tie";
      }
      if (against.empty()) continue;
      if (verdict != "refuted") verdict = untested ? "untested" : tie ? "tie" : "holds";
      const cell* winner = &*shm;
      for (const auto& c : v)
        if (lower ? c.s.value < winner->s.value : c.s.value > winner->s.value) winner = &c;
      json row = {{"where", label(key.first, key.second)},
                  {"pattern", key.first},
                  {"message_size", key.second},
                  {"shared_memory", {{"id", shm->b->id}, {"value", shm->s.value}}},
                  {"against", std::move(against)},
                  {"fastest", {{"id", winner->b->id}, {"family", winner->b->family}}},
                  {"verdict", verdict}};
      if (outside) row["outside_reference"] = *outside;
      for (const auto& c : v)
        if (c.b->id == "sysv_shm.sysv_sem" && best_other) {
          json s = comparison_json(compare_benchmarks(*c.b->history, *best_other->b->history, lower,
                                                      r, confidence, false, true));
          s["id"] = c.b->id;
          s["against"] = best_other->b->id;
          row["sysv"] = std::move(s);
        }
      claim["rows"].push_back(std::move(row));
    }
    claims.push_back(finish(std::move(claim),
                            "no size at which shared memory and another family "
                            "both ran",
                            r));
  }

  // Message queues are slower than pipes and shared memory, and cost more CPU per message.
  {
    json claim = {
        {"id", "queues_slower"},
        {"claim",
         "message queues are slower than pipes and shared memory, and cost more CPU per "
         "message (the message is copied)"},
        {"source",
         "tutorial 000, section '进程间通信各种方式效率比较' (efficiency compared: copying a "
         "message costs CPU time); tutorial 002, section '共享内存的特点' (pipes and queues copy "
         "the data four times)"},
        {"method",
         "per pattern and size a queue carries: the fastest queue against the fastest pipe or "
         "FIFO and the fastest shared-memory variant (speed), and the queue that uses least CPU "
         "per message against the pipe and shared-memory variants that use least (CPU: both "
         "peers' user and system time per message). Holds where the queue is slower and costs "
         "more than both, with intervals apart (where too few repetitions give no interval, an "
         "exact rank test over the regimes both ran in, at the same confidence)"},
        {"rows", json::array()}};
    for (const auto& [key, v] : cells) {
      const bool lower = key.first == "latency";
      const auto q = best_of(v, kQueues, lower, false, r, confidence);
      const auto q_cpu = best_of(v, kQueues, true, true, r, confidence);
      if (!q) continue;
      json speed = json::array(), cpu = json::array();
      std::vector<std::string> verdicts;
      std::optional<int> outside;
      for (const char* f : {kPipes, kShm}) {
        if (const auto o = best_of(v, f, lower, false, r, confidence)) {
          // The claim is that the queue is worse: "holds" where compare says worse.
          const comparison c =
              compare_benchmarks(*q->b->history, *o->b->history, lower, r, confidence, false, true);
          json row = comparison_json(c);
          row["family"] = f;
          row["id"] = o->b->id;
          speed.push_back(std::move(row));
          verdicts.push_back(c.verdict);
          if (!outside) outside = outside_reference(c, r);
        }
        if (const auto o = best_of(v, f, true, true, r, confidence); o && q_cpu) {
          const comparison c = compare_benchmarks(*q_cpu->b->history, *o->b->history, true, r,
                                                  confidence, true, true);
          json row = comparison_json(c);
          row["family"] = f;
          row["id"] = o->b->id;
          row["cpu_ns_per_message"] = o->s.value;
          cpu.push_back(std::move(row));
          verdicts.push_back(c.verdict);
          if (!outside) outside = outside_reference(c, r);
        }
      }
      if (verdicts.empty()) continue;
      const auto has = [&](const char* x) {
        return std::find(verdicts.begin(), verdicts.end(), x) != verdicts.end();
      };
      const std::string verdict = has("better")     ? "refuted"
                                  : has("untested") ? "untested"
                                  : has("tie")      ? "tie"
                                                    : "holds";
      json row = {
          {"where", label(key.first, key.second)},
          {"pattern", key.first},
          {"message_size", key.second},
          {"queue", {{"id", q->b->id}, {"value", q->s.value}}},
          {"queue_cpu", q_cpu ? json{{"id", q_cpu->b->id}, {"cpu_ns_per_message", q_cpu->s.value}}
                              : json(nullptr)},
          {"speed", std::move(speed)},
          {"cpu", std::move(cpu)},
          {"verdict", verdict}};
      if (outside) row["outside_reference"] = *outside;
      claim["rows"].push_back(std::move(row));
    }
    claims.push_back(finish(std::move(claim), "no message queue ran", r));
  }

  // A FIFO performs as a pipe: a claim of no difference, so it holds only where the ratio is
  // shown within kSameMargin of 1, not wherever no difference shows.
  {
    char margin[64];
    std::snprintf(margin, sizeof margin, "%.0f %%", 100 * kSameMargin);
    json claim = {
        {"id", "fifo_as_pipe"},
        {"claim", "a FIFO, once open, performs as an anonymous pipe"},
        {"source",
         "tutorial 003, section 2 '有名管道' (a FIFO's I/O is basically a pipe's); "
         "tutorial 000, section '进程间通信各种方式效率比较' (pipe and FIFO alike slow)"},
        {"method", std::string("per pattern and size: fifo against pipe over every regime both "
                               "ran in, each regime's repetitions set only beside each other; "
                               "the ratio (how many times better the FIFO) is the "
                               "Hodges-Lehmann estimate with its exact interval from the "
                               "stratified rank test, at the claims' confidence. Holds where "
                               "the interval lies within ") +
                       margin +
                       " of 1 either way (as close as the stop rule asks a median's interval "
                       "to be), refuted where it lies wholly beyond that, tie where it holds 1 "
                       "but reaches past the margin (no difference shown, nor one shown "
                       "small), untested where it excludes 1 and reaches across the margin or "
                       "the repetitions are too few for one"},
        {"rows", json::array()}};
    for (const auto& [key, v] : cells) {
      const cell *fifo = nullptr, *pipe = nullptr;
      for (const auto& c : v) {
        if (c.b->id == "fifo") fifo = &c;
        if (c.b->id == "pipe") pipe = &c;
      }
      if (fifo == nullptr || pipe == nullptr) continue;
      json row =
          same_as_row(*fifo->b->history, *pipe->b->history, key.first == "latency", r, confidence);
      row["where"] = label(key.first, key.second);
      row["pattern"] = key.first;
      row["message_size"] = key.second;
      // The two medians in one regime (in_common_regime: the reference where both have the
      // repetitions for an interval there); each one's estimate when the two never ran in one
      // regime (untested).
      const paired_values common = in_common_regime(*fifo->b->history, *pipe->b->history, r, false,
                                                    estimate::repetitions_for_interval(confidence));
      row["fifo"] = common.found ? estimate::median(common.a) : fifo->s.value;
      row["pipe"] = common.found ? estimate::median(common.b) : pipe->s.value;
      row["values"] = common.found ? json{row["fifo"], row["pipe"]} : json(nullptr);
      row["regime"] = common.regime ? json(*common.regime) : json(nullptr);
      claim["rows"].push_back(std::move(row));
    }
    claims.push_back(finish(std::move(claim), "fifo and pipe did not both run", r));
  }

  // Threads communicate faster than processes.
  {
    json claim = {{"id", "threads_faster"},
                  {"claim", "threads communicate faster than processes"},
                  {"source",
                   "tutorial 000, section '进程间通信各种方式效率比较' (threads communicate "
                   "within one address space, with no switch, so faster)"},
                  {"method",
                   "from process_tax: the same channel with thread peers and with process "
                   "peers; holds where process peers are slower with intervals apart, refuted "
                   "where they are faster"},
                  {"rows", json::array()}};
    for (const auto& t : process_tax) {
      const std::string v = t.value("verdict", "untested");
      json row = t;
      row["where"] = t.value("id", "") + " " +
                     label(t.value("pattern", ""), t.value("message_size", std::size_t{0}));
      row["verdict"] = v == "processes slower"   ? "holds"
                       : v == "processes faster" ? "refuted"
                       : v == "tie"              ? "tie"
                                                 : "untested";
      claim["rows"].push_back(std::move(row));
    }
    claims.push_back(finish(std::move(claim),
                            "no benchmark ran with both process and thread peers (run with "
                            "--peers processes,threads)",
                            r));
  }
  return claims;
}

}  // namespace ipcbench
