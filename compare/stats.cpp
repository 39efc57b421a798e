#include "compare/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "stats/rank.hpp"

namespace ipcbench::compare {
namespace {

void require_samples(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty()) throw std::invalid_argument("empty sample");
  auto is_nan = [](double v) { return std::isnan(v); };
  if (std::any_of(x.begin(), x.end(), is_nan) || std::any_of(y.begin(), y.end(), is_nan)) {
    throw std::invalid_argument("NaN in sample");
  }
}

// Exact two-sided p-value of the rank-sum statistic with ties: the distribution of the sum of
// the (doubled, so integral) midranks of n1 items drawn from the pooled sample, over all
// C(n, n1) equally likely draws. counts[k][s]: draws of k items among those seen so far whose
// doubled midranks sum to s. Two-sided: P(|W - E[W]| >= |w - E[W]|).
double exact_rank_sum_p(const std::vector<long>& doubled_ranks, std::size_t n1, long observed) {
  long total = 0;
  for (long r : doubled_ranks) total += r;
  const auto max_sum = static_cast<std::size_t>(total);
  std::vector<std::vector<double>> counts(n1 + 1, std::vector<double>(max_sum + 1, 0.0));
  counts[0][0] = 1.0;
  std::size_t seen = 0;
  for (long r : doubled_ranks) {
    ++seen;
    const auto step = static_cast<std::size_t>(r);
    for (std::size_t k = std::min(seen, n1); k >= 1; --k)
      for (std::size_t s = max_sum; s >= step; --s) counts[k][s] += counts[k - 1][s - step];
  }
  // E[W] (doubled) = n1 * mean doubled rank; compare distances in doubled units, times n.
  const auto n = static_cast<long>(doubled_ranks.size());
  const auto k1 = static_cast<long>(n1);
  const long dev_obs = std::labs(observed * n - k1 * total);
  double all = 0.0, tail = 0.0;
  for (std::size_t s = 0; s <= max_sum; ++s) {
    const double c = counts[n1][s];
    if (c == 0.0) continue;
    all += c;
    if (std::labs(static_cast<long>(s) * n - k1 * total) >= dev_obs) tail += c;
  }
  return std::min(1.0, tail / all);
}

double normal_sf(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

double quantile_nearest_rank(const std::vector<double>& sorted, double q) {
  // Nearest rank rather than interpolation: a resampled baseline median of 0 gives +inf, and
  // interpolating between inf and a finite value would give NaN.
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Uniform integer in [0, bound) by rejection, so that every value is equally likely and the
// sequence depends only on the generator's (standardised) output.
std::size_t draw_index(std::mt19937_64& gen, std::size_t bound) {
  const std::uint64_t b = bound;
  const std::uint64_t limit = std::mt19937_64::max() - (std::mt19937_64::max() % b + 1) % b;
  std::uint64_t v = gen();
  while (v > limit) v = gen();
  return static_cast<std::size_t>(v % b);
}

}  // namespace

double median(std::span<const double> values) {
  if (values.empty()) throw std::invalid_argument("median of an empty sample");
  std::vector<double> v(values.begin(), values.end());
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2.0;
}

double kendall_tau_b(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("kendall_tau_b: sizes differ");
  // O(n^2) over the pairs: n is the mechanisms of one ranking, a few dozen.
  std::int64_t concordant = 0, discordant = 0, tied_x = 0, tied_y = 0, pairs = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      ++pairs;
      const double dx = x[i] - x[j];
      const double dy = y[i] - y[j];
      if (dx == 0.0) ++tied_x;
      if (dy == 0.0) ++tied_y;
      if (dx == 0.0 || dy == 0.0) continue;
      if ((dx > 0.0) == (dy > 0.0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const auto untied_x = static_cast<double>(pairs - tied_x);
  const auto untied_y = static_cast<double>(pairs - tied_y);
  if (untied_x == 0.0 || untied_y == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(concordant - discordant) / std::sqrt(untied_x * untied_y);
}

namespace {

// +1 when a lies above b, -1 below, 0 when their intervals overlap.
int declared_order(const interval_value& a, const interval_value& b) {
  if (overlap(a, b)) return 0;
  return a.lo > b.hi ? 1 : -1;
}

}  // namespace

bool overlap(const interval_value& a, const interval_value& b) {
  return !(a.lo > b.hi || a.hi < b.lo);
}

declared_pairs count_declared_pairs(std::span<const interval_value> x,
                                    std::span<const interval_value> y) {
  if (x.size() != y.size()) throw std::invalid_argument("declared rankings: sizes differ");
  declared_pairs out;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      const int sx = declared_order(x[i], x[j]);
      const int sy = declared_order(y[i], y[j]);
      if (sx == 0 && sy == 0)
        ++out.both_tied;
      else if (sy == 0)
        ++out.only_x_orders;
      else if (sx == 0)
        ++out.only_y_orders;
      else if (sx == sy)
        ++out.same_order;
      else
        ++out.opposite_order;
    }
  return out;
}

double kendall_tau_declared(const declared_pairs& p) {
  const std::size_t ordered_x = p.same_order + p.opposite_order + p.only_x_orders;
  const std::size_t ordered_y = p.same_order + p.opposite_order + p.only_y_orders;
  if (ordered_x == 0 || ordered_y == 0) return std::numeric_limits<double>::quiet_NaN();
  return (static_cast<double>(p.same_order) - static_cast<double>(p.opposite_order)) /
         std::sqrt(static_cast<double>(ordered_x) * static_cast<double>(ordered_y));
}

double kendall_tau_declared(std::span<const interval_value> x, std::span<const interval_value> y) {
  return kendall_tau_declared(count_declared_pairs(x, y));
}

double safe_ratio(double a, double b) {
  if (b == 0.0) {
    if (a == 0.0) return 1.0;
    return a > 0.0 ? INFINITY : -INFINITY;
  }
  return a / b;
}

mwu_result mann_whitney_u(std::span<const double> x, std::span<const double> y, mwu_method method) {
  require_samples(x, y);
  const std::size_t n1 = x.size();
  const std::size_t n2 = y.size();
  const std::size_t n = n1 + n2;

  // Average ranks over the pooled sample; remember tie group sizes for the variance correction.
  std::vector<std::pair<double, bool>> pooled;  // value, belongs to x
  pooled.reserve(n);
  for (double v : x) pooled.emplace_back(v, true);
  for (double v : y) pooled.emplace_back(v, false);
  std::sort(pooled.begin(), pooled.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_x = 0.0;
  double tie_term = 0.0;  // sum of t^3 - t over tie groups
  bool has_ties = false;
  std::vector<long> doubled_ranks;  // 2 x midrank of every item, for the exact test with ties
  doubled_ranks.reserve(n);
  long doubled_sum_x = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    const auto doubled = static_cast<long>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k) {
      doubled_ranks.push_back(doubled);
      if (pooled[k].second) {
        rank_sum_x += avg_rank;
        doubled_sum_x += doubled;
      }
    }
    if (j - i > 1) {
      has_ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }

  const double dn1 = static_cast<double>(n1);
  const double dn2 = static_cast<double>(n2);
  mwu_result result;
  result.u = rank_sum_x - dn1 * (dn1 + 1.0) / 2.0;
  const double u_big = std::max(result.u, dn1 * dn2 - result.u);

  if (method == mwu_method::automatic) {
    method = n <= kMwuExactMaxTotal ? mwu_method::exact : mwu_method::normal;
  }
  if (method == mwu_method::exact && has_ties) {
    // The permutation distribution of the midrank sum: exact with ties, as without.
    result.exact = true;
    result.p_value = exact_rank_sum_p(doubled_ranks, n1, doubled_sum_x);
    return result;
  }
  if (method == mwu_method::exact) {
    // U's null distribution is symmetric, so that of the count of x below y serves for U.
    const std::vector<double> null = rank_stats::mann_whitney_null(n1, n2);
    double tail = 0.0;  // P(U >= u_big)
    const auto first = static_cast<std::size_t>(std::llround(u_big));
    for (std::size_t u = first; u < null.size(); ++u) tail += null[u];
    result.exact = true;
    result.p_value = std::min(1.0, 2.0 * tail);
    return result;
  }

  const double mean = dn1 * dn2 / 2.0;
  const double dn = static_cast<double>(n);
  const double variance = dn1 * dn2 / 12.0 * ((dn + 1.0) - tie_term / (dn * (dn - 1.0)));
  if (!(variance > 0.0)) {  // every value tied: no evidence either way
    result.p_value = 1.0;
    return result;
  }
  const double z = (u_big - mean - 0.5) / std::sqrt(variance);
  result.p_value = std::clamp(2.0 * normal_sf(z), 0.0, 1.0);
  return result;
}

double mwu_min_p_value(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1.0;
  return std::min(1.0, 2.0 * rank_stats::separation_chance(n1, n2));
}

double signed_rank_min_p_value(std::size_t n) {
  return n == 0 ? 1.0
                : std::min(1.0,
                           2.0 / std::ldexp(1.0, static_cast<int>(std::min<std::size_t>(n, 1000))));
}

signed_rank_result wilcoxon_signed_rank(std::span<const double> d) {
  if (std::any_of(d.begin(), d.end(), [](double v) { return std::isnan(v); }))
    throw std::invalid_argument("NaN in sample");
  std::vector<double> abs_d;
  std::vector<bool> positive;
  for (double v : d) {
    if (v == 0.0) continue;
    abs_d.push_back(std::fabs(v));
    positive.push_back(v > 0.0);
  }
  signed_rank_result r;
  r.n = abs_d.size();
  if (r.n == 0) return r;
  // Doubled midranks of |d|, so ties stay integral.
  std::vector<std::size_t> order(r.n);
  for (std::size_t i = 0; i < r.n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return abs_d[a] < abs_d[b]; });
  std::vector<long> doubled(r.n);
  double tie_term = 0.0;  // sum of t^3 - t over groups of ties
  for (std::size_t i = 0; i < r.n;) {
    std::size_t j = i;
    while (j + 1 < r.n && abs_d[order[j + 1]] == abs_d[order[i]]) ++j;
    const long twice_midrank = static_cast<long>(i + 1 + j + 1);  // (i+1 + j+1) / 2, doubled
    for (std::size_t k = i; k <= j; ++k) doubled[order[k]] = twice_midrank;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    i = j + 1;
  }
  long total = 0, observed = 0;
  for (std::size_t i = 0; i < r.n; ++i) {
    total += doubled[i];
    if (positive[i]) observed += doubled[i];
  }
  r.w_plus = static_cast<double>(observed) / 2.0;
  if (r.n <= kSignedRankExactMax) {
    // counts[s]: sign assignments whose positive doubled ranks sum to s. Symmetric about total/2.
    std::vector<double> counts(static_cast<std::size_t>(total) + 1, 0.0);
    counts[0] = 1.0;
    long reach = 0;
    for (long rank : doubled) {
      reach += rank;
      for (long s = reach; s >= rank; --s)
        counts[static_cast<std::size_t>(s)] += counts[static_cast<std::size_t>(s - rank)];
    }
    const long dev_obs = std::labs(2 * observed - total);
    double all = 0.0, tail = 0.0;
    for (long s = 0; s <= total; ++s) {
      const double c = counts[static_cast<std::size_t>(s)];
      all += c;
      if (std::labs(2 * s - total) >= dev_obs) tail += c;
    }
    r.p_value = std::min(1.0, tail / all);
    r.exact = true;
    return r;
  }
  const double n = static_cast<double>(r.n);
  const double mean = n * (n + 1.0) / 4.0;
  const double var = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - tie_term / 48.0;
  if (!(var > 0.0)) return r;
  const double dev = std::max(0.0, std::fabs(r.w_plus - mean) - 0.5);
  r.p_value = std::min(1.0, 2.0 * normal_sf(dev / std::sqrt(var)));
  return r;
}

bootstrap_result bootstrap_median_ratio(std::span<const double> x, std::span<const double> y,
                                        double alpha, std::size_t resamples, std::uint64_t seed) {
  require_samples(x, y);
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("alpha must be in (0, 1)");
  if (resamples == 0) throw std::invalid_argument("bootstrap needs at least one resample");

  std::mt19937_64 gen(seed);
  std::vector<double> rx(x.size());
  std::vector<double> ry(y.size());
  std::vector<double> ratios;
  ratios.reserve(resamples);
  std::size_t below = 0;  // ratios < 1
  std::size_t above = 0;  // ratios > 1
  for (std::size_t b = 0; b < resamples; ++b) {
    for (double& v : rx) v = x[draw_index(gen, x.size())];
    for (double& v : ry) v = y[draw_index(gen, y.size())];
    const double r = safe_ratio(median(ry), median(rx));
    if (r < 1.0) ++below;
    if (r > 1.0) ++above;
    ratios.push_back(r);
  }
  std::sort(ratios.begin(), ratios.end());

  bootstrap_result result;
  result.ratio = safe_ratio(median(y), median(x));
  result.low = quantile_nearest_rank(ratios, alpha / 2.0);
  result.high = quantile_nearest_rank(ratios, 1.0 - alpha / 2.0);
  // Share of resamples on the far side of 1 (ties at 1 split evenly), doubled for two sides;
  // the +1 keeps a finite number of resamples from claiming p = 0.
  const double equal = static_cast<double>(resamples - below - above);
  const double far_side = static_cast<double>(std::min(below, above)) + equal / 2.0;
  result.p_value = std::min(1.0, 2.0 * (far_side + 1.0) / (static_cast<double>(resamples) + 1.0));
  return result;
}

}  // namespace ipcbench::compare
