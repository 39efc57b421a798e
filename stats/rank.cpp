#include "rank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace ipcbench::rank_stats {

// Of i + j values in random order the largest is one of the i with probability i / (i + j), and
// then lies above all j others; so the distribution for (i, j) mixes that for (i - 1, j), shifted
// by j, with that for (i, j - 1). Only sums of positive terms: accurate at any size (the product
// form of the Gaussian binomial cancels, and at 40 values a side its tail was 100x off).
std::vector<double> mann_whitney_null(std::size_t m, std::size_t n) {
  // fewer[j]: the distribution for (i - 1, j); here[j]: for (i, j).
  std::vector<std::vector<double>> fewer(n + 1, std::vector<double>{1.0});
  for (std::size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> here(n + 1);
    here[0] = {1.0};
    for (std::size_t j = 1; j <= n; ++j) {
      const double top = static_cast<double>(i) / static_cast<double>(i + j);
      std::vector<double>& d = here[j];
      d.assign(i * j + 1, 0.0);
      for (std::size_t u = 0; u < fewer[j].size(); ++u) d[u + j] += top * fewer[j][u];
      for (std::size_t u = 0; u < here[j - 1].size(); ++u) d[u] += (1 - top) * here[j - 1][u];
    }
    fewer = std::move(here);
  }
  return fewer[n];
}

namespace {

// The null distribution of the sum of U over the strata with values on both sides: the
// convolution of each stratum's. Counts those strata and their values into `out`.
std::vector<double> stratified_null(std::span<const rank_stratum> strata, std::size_t& used,
                                    std::size_t& a_count, std::size_t& b_count) {
  std::vector<double> null{1.0};
  used = a_count = b_count = 0;
  for (const rank_stratum& s : strata) {
    if (s.a.empty() || s.b.empty()) continue;
    ++used;
    a_count += s.a.size();
    b_count += s.b.size();
    const std::vector<double> one = mann_whitney_null(s.a.size(), s.b.size());
    std::vector<double> sum(null.size() + one.size() - 1, 0.0);
    for (std::size_t i = 0; i < null.size(); ++i)
      for (std::size_t j = 0; j < one.size(); ++j) sum[i + j] += null[i] * one[j];
    null = std::move(sum);
  }
  return null;
}

}  // namespace

std::optional<rank_test> stratified_rank_test(std::span<const rank_stratum> strata) {
  rank_test t;
  const std::vector<double> null = stratified_null(strata, t.strata, t.a_count, t.b_count);
  if (t.strata == 0) return std::nullopt;
  double u = 0, pairs = 0;
  for (const rank_stratum& s : strata) {
    if (s.a.empty() || s.b.empty()) {
      t.a_lower_by_stratum.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    double own = 0;
    for (double x : s.a)
      for (double y : s.b) own += x < y ? 1.0 : x == y ? 0.5 : 0.0;
    u += own;
    const auto own_pairs = static_cast<double>(s.a.size() * s.b.size());
    t.a_lower_by_stratum.push_back(own / own_pairs);
    pairs += own_pairs;
  }
  t.a_lower = u / pairs;
  // A tie's half is rounded against significance: the lower tail from the count above the
  // observed one, the upper from the count below it.
  const auto upper_from = static_cast<std::size_t>(std::floor(u));
  const auto lower_to = static_cast<std::size_t>(std::ceil(u));
  double lower = 0, upper = 0;
  for (std::size_t k = 0; k < null.size(); ++k) {
    if (k <= lower_to) lower += null[k];
    if (k >= upper_from) upper += null[k];
  }
  t.p = std::min(1.0, 2 * std::min(lower, upper));
  return t;
}

std::optional<shift_interval> stratified_shift_interval(std::span<const rank_stratum> strata,
                                                        double confidence) {
  shift_interval out;
  const std::vector<double> null = stratified_null(strata, out.strata, out.a_count, out.b_count);
  if (out.strata == 0) return std::nullopt;
  std::vector<double> d;
  for (const rank_stratum& s : strata)
    for (double x : s.a)
      for (double y : s.b) d.push_back(x - y);
  std::sort(d.begin(), d.end());
  // The largest k with P(U <= k - 1) at most (1 - confidence) / 2, within rounding (three each
  // apart in one stratum: P(U = 0) = 1/20, exactly the 0.05 of a 90 % interval).
  const double tail = (1 - confidence) / 2 * (1 + 1e-9);
  std::size_t k = 0;
  double below = 0;  // P(U <= k - 1)
  while (k < null.size() && below + null[k] <= tail && 2 * (k + 1) <= d.size()) below += null[k++];
  if (k == 0) return std::nullopt;
  const std::size_t n = d.size();
  out.lo = d[k - 1];
  out.hi = d[n - k];
  out.estimate = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
  out.confidence = 1 - 2 * below;
  return out;
}

std::optional<shift_interval> stratified_ratio_interval(std::span<const rank_stratum> strata,
                                                        double confidence) {
  std::vector<rank_stratum> logs;
  logs.reserve(strata.size());
  for (const rank_stratum& s : strata) {
    rank_stratum& l = logs.emplace_back();
    l.label = s.label;
    for (const auto& [from, to] : {std::pair{&s.a, &l.a}, std::pair{&s.b, &l.b}})
      for (double x : *from)
        if (x > 0) to->push_back(std::log(x));
  }
  auto out = stratified_shift_interval(logs, confidence);
  if (out) {
    out->estimate = std::exp(out->estimate);
    out->lo = std::exp(out->lo);
    out->hi = std::exp(out->hi);
  }
  return out;
}

double separation_chance(std::size_t m, std::size_t n) {
  // Built up as a product of ratios below 1, over the smaller side.
  const std::size_t k = std::min(m, n);
  double c = 1;
  for (std::size_t i = 1; i <= k; ++i)
    c *= static_cast<double>(i) / static_cast<double>(m + n - k + i);
  return c;
}

double least_rank_p(std::span<const rank_stratum> strata) {
  double p = 2;
  bool any = false;
  for (const rank_stratum& s : strata) {
    if (s.a.empty() || s.b.empty()) continue;
    any = true;
    p *= separation_chance(s.a.size(), s.b.size());
  }
  return any ? std::min(1.0, p) : 1.0;
}

}  // namespace ipcbench::rank_stats
