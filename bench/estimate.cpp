#include "estimate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ipcbench::estimate {

double median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<interval> median_interval(std::span<const double> values, double confidence) {
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  if (n == 0) return std::nullopt;
  // tail[j] = P(Binomial(n, 1/2) <= j), summed in log space so large n does not overflow.
  std::optional<interval> best;
  double cdf = 0;
  const double count = static_cast<double>(n);
  for (std::size_t k = 1; 2 * k <= n + 1; ++k) {
    const double j = static_cast<double>(k - 1);
    cdf += std::exp(std::lgamma(count + 1) - std::lgamma(j + 1) - std::lgamma(count - j + 1) -
                    count * std::log(2.0));
    const double coverage = 1 - 2 * cdf;
    if (coverage < confidence) break;
    best = interval{v[k - 1], v[n - k], coverage};
  }
  return best;
}

std::size_t repetitions_for_interval(double confidence) {
  std::size_t needed = 1;
  while (needed < 1000 && !median_interval(std::vector<double>(needed, 1.0), confidence)) ++needed;
  return needed;
}

const char* to_string(decision d) {
  switch (d) {
    case decision::go_on:
      return "go_on";
    case decision::converged:
      return "converged";
    case decision::cap:
      return "cap";
  }
  return "?";
}

decision decide(const stop_rule& rule, std::span<const double> basis, int repetitions) {
  if (repetitions >= rule.max_repetitions) return decision::cap;
  if (repetitions < rule.min_repetitions ||
      basis.size() < static_cast<std::size_t>(rule.min_repetitions))
    return decision::go_on;
  const auto ci = median_interval(basis, rule.confidence);
  const double mid = median({basis.begin(), basis.end()});
  if (ci && mid != 0 && (ci->hi - ci->lo) / std::abs(mid) <= rule.relative_width)
    return decision::converged;
  return decision::go_on;
}

namespace {

// The width of the sorted values [lo, hi), a twentieth trimmed at each end (an outlier or two
// between two regimes must not hide the gap). With `core`, no more than twice the width of their
// middle half: a third state on the far side of one group, apart from it but by less than the
// gap asked for, must not hide the gap either. A drift's middle half is half its width, so a
// drift is as wide by either measure.
double spread_of(const std::vector<double>& logs, std::size_t lo, std::size_t hi, bool core) {
  const std::size_t trim = (hi - lo) / 20;
  const double trimmed = logs[hi - 1 - trim] - logs[lo + trim];
  if (!core) return trimmed;
  const std::size_t quarter = (hi - lo) / 4;
  return std::min(trimmed, 2 * (logs[hi - 1 - quarter] - logs[lo + quarter]));
}

// Splits the sorted log values in [lo, hi) at the widest admissible gap; appends the cut
// positions (indices where a new group starts) to `cuts`.
void split(const std::vector<double>& logs, std::size_t lo, std::size_t hi, std::size_t min_members,
           double min_gap, std::size_t max_cuts, bool core, std::vector<std::size_t>& cuts) {
  if (cuts.size() >= max_cuts || hi - lo < 2 * min_members) return;
  std::size_t best = 0;
  double best_gap = 0;
  for (std::size_t i = lo + min_members; i + min_members <= hi; ++i) {
    const double gap = logs[i] - logs[i - 1];
    const double spread = std::max(spread_of(logs, lo, i, core), spread_of(logs, i, hi, core));
    if (gap >= min_gap && gap >= spread && gap > best_gap) {
      best = i;
      best_gap = gap;
    }
  }
  if (best == 0) return;
  cuts.push_back(best);
  split(logs, lo, best, min_members, min_gap, max_cuts, core, cuts);
  split(logs, best, hi, min_members, min_gap, max_cuts, core, cuts);
}

}  // namespace

grouping group_by_gaps(std::span<const double> values, std::size_t min_members, double min_ratio,
                       std::size_t max_groups, bool core_spread) {
  grouping g;
  const std::size_t n = values.size();
  g.of.assign(n, 0);
  if (n == 0) return g;
  g.groups = 1;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return values[a] < values[b]; });
  std::vector<double> logs(n);
  for (std::size_t i = 0; i < n; ++i) logs[i] = std::log(std::max(values[order[i]], 1e-300));
  std::vector<std::size_t> cuts;
  split(logs, 0, n, std::max<std::size_t>(min_members, 1), std::log(min_ratio),
        max_groups > 0 ? max_groups - 1 : 0, core_spread, cuts);
  std::sort(cuts.begin(), cuts.end());
  g.groups = cuts.size() + 1;
  std::size_t group = 0;
  for (std::size_t i = 0; i < n; ++i) {
    while (group < cuts.size() && i >= cuts[group]) ++group;
    g.of[order[i]] = static_cast<int>(group);
  }
  return g;
}

namespace {

// The wake-up round trip beside floor `i` of the series, where one was measured.
std::optional<double> wake_at(std::span<const std::optional<double>> wake_floors, std::size_t i) {
  if (i < wake_floors.size() && wake_floors[i] && *wake_floors[i] > 0) return wake_floors[i];
  return std::nullopt;
}

// The wake-up states within one cache-line state: `members` are its floors' positions in the
// series, in order (detect_regimes). Returns each member's state, fastest first, and their count.
grouping wake_states(const std::vector<std::size_t>& members,
                     std::span<const std::optional<double>> wake_floors, std::size_t min_members) {
  std::vector<std::size_t> measured;  // positions in `members` that have a wake-up round trip
  for (std::size_t k = 0; k < members.size(); ++k)
    if (wake_at(wake_floors, members[k])) measured.push_back(k);
  grouping g{1, std::vector<int>(members.size(), 0)};
  if (measured.size() < 8) return g;
  // Each measured floor as the median of it and its two measured neighbours either side.
  constexpr std::size_t kSide = 2;
  std::vector<double> smoothed(measured.size());
  for (std::size_t k = 0; k < measured.size(); ++k) {
    std::vector<double> window;
    for (std::size_t j = k >= kSide ? k - kSide : 0; j < std::min(measured.size(), k + kSide + 1);
         ++j)
      window.push_back(*wake_floors[members[measured[j]]]);
    smoothed[k] = median(std::move(window));
  }
  const grouping w = group_by_gaps(smoothed, min_members, 1.5, 3, true);
  g.groups = w.groups;
  // The rest take the state of the nearest measured floor (the earlier on a tie).
  std::size_t next = 0;  // the first measured position at or after k
  for (std::size_t k = 0; k < members.size(); ++k) {
    while (next < measured.size() && measured[next] < k) ++next;
    std::size_t pick = next;
    if (next == measured.size() || (next > 0 && k - measured[next - 1] <= measured[next] - k))
      pick = next - 1;
    g.of[k] = w.of[pick];
  }
  return g;
}

}  // namespace

regimes detect_regimes(std::span<const double> line_floors,
                       std::span<const std::optional<double>> wake_floors, double reference_share) {
  regimes r;
  const std::size_t n = line_floors.size();
  if (n == 0) return r;
  const std::size_t min_members = std::max<std::size_t>(3, (n + 99) / 100);
  const grouping lines = n < 8 ? grouping{1, std::vector<int>(n, 0)}
                               : group_by_gaps(line_floors, min_members, 1.5, 4, true);
  r.of.assign(n, 0);
  for (std::size_t state = 0; state < lines.groups; ++state) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < n; ++i)
      if (lines.of[i] == static_cast<int>(state)) members.push_back(i);
    const grouping wake = wake_states(members, wake_floors, min_members);
    const auto first = static_cast<int>(r.list.size());
    for (std::size_t w = 0; w < wake.groups; ++w) {
      std::vector<double> line, wakes;
      for (std::size_t k = 0; k < members.size(); ++k) {
        if (wake.of[k] != static_cast<int>(w)) continue;
        line.push_back(line_floors[members[k]]);
        if (const auto at = wake_at(wake_floors, members[k])) wakes.push_back(*at);
      }
      // Never empty: every wake-up state holds measured members of this cache-line state.
      regime g;
      g.median = median(line);
      g.min = *std::min_element(line.begin(), line.end());
      g.max = *std::max_element(line.begin(), line.end());
      g.count = line.size();
      g.line_state = static_cast<int>(state);
      if (!wakes.empty()) g.wake_median = median(std::move(wakes));
      r.list.push_back(g);
    }
    for (std::size_t k = 0; k < members.size(); ++k) r.of[members[k]] = first + wake.of[k];
  }
  r.reference = reference_regime(r.list, reference_share);
  return r;
}

int reference_regime(const std::vector<regime>& list, double share) {
  if (list.empty()) return -1;
  // The cache-line states, in the list's order (lowest first), with their regimes.
  std::vector<std::vector<std::size_t>> states;
  std::vector<std::size_t> held;
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (k == 0 || list[k].line_state != list[k - 1].line_state) {
      states.emplace_back();
      held.push_back(0);
    }
    states.back().push_back(k);
    held.back() += list[k].count;
  }
  std::size_t total = 0;
  for (std::size_t h : held) total += h;
  // The slowest cache-line state that holds `share` of the run, else the one held most.
  std::size_t pick = states.size();
  for (std::size_t s = states.size(); s-- > 0;)
    if (static_cast<double>(held[s]) >= share * static_cast<double>(total)) {
      pick = s;
      break;
    }
  if (pick == states.size())
    pick = static_cast<std::size_t>(std::max_element(held.begin(), held.end()) - held.begin());
  // Within it, the fastest wake-up state that holds a quarter of it, else the one held most.
  const auto& within = states[pick];
  for (std::size_t k : within)
    if (4 * list[k].count >= held[pick]) return static_cast<int>(k);
  std::size_t most = within.front();
  for (std::size_t k : within)
    if (list[k].count > list[most].count) most = k;
  return static_cast<int>(most);
}

std::vector<mode> detect_modes(std::span<const double> values) {
  const std::size_t n = values.size();
  const std::size_t min_members = std::max<std::size_t>(3, (n + 4) / 5);
  const grouping g = group_by_gaps(values, min_members, 1.2, 3);
  std::vector<mode> modes(std::max<std::size_t>(g.groups, n == 0 ? 0 : 1));
  std::vector<std::vector<double>> vals(modes.size());
  for (std::size_t i = 0; i < n; ++i) {
    modes[g.of[i]].members.push_back(i);
    vals[g.of[i]].push_back(values[i]);
  }
  for (std::size_t m = 0; m < modes.size(); ++m) modes[m].value = median(vals[m]);
  return modes;
}

std::vector<part_mode> detect_part_modes(const std::vector<std::vector<double>>& parts,
                                         double spread_limit) {
  std::vector<double> pooled;
  std::vector<std::size_t> from;  // the repetition of each pooled part
  for (std::size_t r = 0; r < parts.size(); ++r)
    for (const double v : parts[r]) {
      if (!(v > 0)) return {};
      pooled.push_back(v);
      from.push_back(r);
    }
  const std::vector<mode> groups = detect_modes(pooled);
  if (groups.size() < 2) return {};
  std::vector<part_mode> out;
  for (const mode& g : groups) {
    part_mode m{.value = g.value, .parts = g.members.size(), .repetitions = {}};
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const std::size_t i : g.members) {
      lo = std::min(lo, pooled[i]);
      hi = std::max(hi, pooled[i]);
      if (std::find(m.repetitions.begin(), m.repetitions.end(), from[i]) == m.repetitions.end())
        m.repetitions.push_back(from[i]);
    }
    if (m.repetitions.size() < 2 || hi / lo > spread_limit) return {};
    std::sort(m.repetitions.begin(), m.repetitions.end());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace ipcbench::estimate
