// Statistics for comparing two sets of repetitions: medians, the Mann-Whitney U rank test, a
// percentile bootstrap of the ratio of medians, and Kendall's tau-b between two rankings. Pure
// functions of their inputs; they throw std::invalid_argument for empty samples or bad parameters
// and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ipcbench::compare {

// Median; the mean of the two middle values for an even count.
double median(std::span<const double> values);

enum class mwu_method {
  automatic,  // exact when the samples are small (ties or not), normal otherwise
  exact,      // exact null distribution: of U without ties, of the midrank sum with ties
  normal,     // normal approximation with tie correction and continuity correction
};

struct mwu_result {
  double u = 0.0;        // U of the first sample: #(x > y) + 0.5 * #(x == y) over all pairs
  double p_value = 1.0;  // two-sided
  bool exact = false;    // true when the exact distribution was used
};

// Largest n1 + n2 for which `automatic` uses the exact distribution.
inline constexpr std::size_t kMwuExactMaxTotal = 50;

// Two-sided Mann-Whitney U test of x against y.
mwu_result mann_whitney_u(std::span<const double> x, std::span<const double> y,
                          mwu_method method = mwu_method::automatic);

struct signed_rank_result {
  double w_plus = 0.0;   // sum of the midranks of |d| over the positive differences
  std::size_t n = 0;     // differences that are not zero (zeros are dropped, as Wilcoxon did)
  double p_value = 1.0;  // two-sided
  bool exact = false;
};

// Largest n for which wilcoxon_signed_rank uses the exact distribution.
inline constexpr std::size_t kSignedRankExactMax = 100;

// Two-sided Wilcoxon signed-rank test of the paired differences d (zeros dropped): exact (the
// 2^n equally likely sign assignments of the doubled midranks, so ties are handled) up to
// kSignedRankExactMax differences, normal approximation with tie correction above. All zero:
// n = 0, p = 1.
signed_rank_result wilcoxon_signed_rank(std::span<const double> d);

// Smallest two-sided p-value of the signed-rank test on n pairs: all signs alike, 2 / 2^n.
double signed_rank_min_p_value(std::size_t n);

// Smallest two-sided p-value the exact test can give for these sample sizes: complete separation,
// 2 / C(n1 + n2, n1), at most 1. If it is not below alpha, no outcome can be significant.
double mwu_min_p_value(std::size_t n1, std::size_t n2);

struct bootstrap_result {
  double ratio = 1.0;  // median(y) / median(x) on the original samples
  double low = 1.0;    // percentile confidence interval of the ratio, level 1 - alpha
  double high = 1.0;
  double p_value = 1.0;  // two-sided achieved significance level of "ratio == 1"
};

inline constexpr std::size_t kBootstrapResamples = 10000;
inline constexpr std::uint64_t kBootstrapSeed = 0x1bcb'e7c0'1234'5678;

// Percentile bootstrap of median(y) / median(x): both samples are resampled with replacement
// `resamples` times. Deterministic for a given seed (own bounded draw on std::mt19937_64, whose
// output the standard fixes, so the result does not depend on the library's distributions).
bootstrap_result bootstrap_median_ratio(std::span<const double> x, std::span<const double> y,
                                        double alpha, std::size_t resamples = kBootstrapResamples,
                                        std::uint64_t seed = kBootstrapSeed);

// Kendall's tau-b between paired values x[i], y[i] (two reports' numbers for mechanism i): (C - D)
// / sqrt((n0 - tx) (n0 - ty)) over the n0 = n (n - 1) / 2 pairs, C concordant, D discordant, tx and
// ty the pairs tied in x and in y (a pair tied in both counts in each). 1: the same order, -1: the
// reverse. NaN when undefined: fewer than 2 values, or every value of x (or of y) tied. Throws
// std::invalid_argument when the sizes differ.
double kendall_tau_b(std::span<const double> x, std::span<const double> y);

// A value with its interval (lo <= hi; a point: lo == hi).
struct interval_value {
  double lo = 0.0, hi = 0.0;
};
// Whether two intervals share a value (a declared tie).
bool overlap(const interval_value& a, const interval_value& b);
// Kendall's tau-b between two reports' rankings as they declare them: a pair is ordered in a
// report only when the two intervals do not overlap (i above j: lo_i > hi_j), and tied when they
// do, so two mechanisms neither report can tell apart do not count as a disagreement, and a pair
// one report orders and the other ties lowers it less than a reversal. With points it is
// kendall_tau_b. NaN when undefined (fewer than 2 values, or every pair tied in x or in y).
// Throws std::invalid_argument when the sizes differ.
double kendall_tau_declared(std::span<const interval_value> x, std::span<const interval_value> y);
// The pairs of the same two rankings as the reports declare them, counted by what the two
// reports say of each: both order it the same way, the opposite ways (a contradiction: one
// report's answer refuted by the other's), only one orders it (the other ties it), or both tie
// it. Tau-b counts a pair one report orders and the other ties against agreement; this tells
// that apart from a reversal. Throws std::invalid_argument when the sizes differ.
struct declared_pairs {
  std::size_t same_order = 0, opposite_order = 0, only_x_orders = 0, only_y_orders = 0,
              both_tied = 0;
  std::size_t one_tied() const { return only_x_orders + only_y_orders; }
};
declared_pairs count_declared_pairs(std::span<const interval_value> x,
                                    std::span<const interval_value> y);
// kendall_tau_declared from the pairs already counted.
double kendall_tau_declared(const declared_pairs& p);

// a / b with 0 / 0 = 1 and x / 0 = +inf for x > 0, so a collapse to zero still has a direction.
double safe_ratio(double a, double b);

}  // namespace ipcbench::compare
