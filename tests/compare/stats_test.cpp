#include "compare/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace ipcbench::compare {
namespace {

// Reference values: scipy 1.10.1, scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
// method=<as named>, use_continuity=True), computed once and copied here; `statistic` is U of x.
// The arrays of the larger cases are reproduced by the generators in the comments.

std::vector<double> range(double first, double last) {
  std::vector<double> v;
  for (double d = first; d <= last; d += 1.0) v.push_back(d);
  return v;
}

// x_i = (i * 37 mod 101) + 0.5, y_i = (i * 53 mod 103) + 3.25 + shift, i = 1 .. n: no ties.
std::vector<double> gen_x(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back((i * 37 % 101) + 0.5);
  return v;
}
std::vector<double> gen_y(int n, double shift) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back((i * 53 % 103) + 3.25 + shift);
  return v;
}

TEST(Median, OddEvenAndSingle) {
  EXPECT_DOUBLE_EQ(median(std::vector<double>{3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{7}), 7.0);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{10000, 10100, 9950, 10050, 10200}), 10050.0);
  EXPECT_THROW(median(std::vector<double>{}), std::invalid_argument);
}

TEST(MannWhitney, CompleteSeparationFiveByFiveIsTwoOver252) {
  // Table value: with n1 = n2 = 5 the exact two-sided p of complete separation is 2 / C(10, 5).
  const auto r = mann_whitney_u(range(1, 5), range(6, 10));
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0.0);
  EXPECT_DOUBLE_EQ(r.p_value, 2.0 / 252.0);
  // Either order, either direction: the same two-sided p; U of x is the complement.
  const auto swapped = mann_whitney_u(range(6, 10), range(1, 5));
  EXPECT_DOUBLE_EQ(swapped.u, 25.0);
  EXPECT_DOUBLE_EQ(swapped.p_value, 2.0 / 252.0);
}

TEST(MannWhitney, ExactSmallSamplesMatchScipy) {
  // scipy exact: statistic 10.0, pvalue 0.6904761904761905
  auto r = mann_whitney_u(std::vector<double>{1, 3, 5, 7, 9}, std::vector<double>{2, 4, 6, 8, 10});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 10.0);
  EXPECT_NEAR(r.p_value, 0.6904761904761905, 1e-12);

  // 3 vs 4. scipy exact: statistic 4.0, pvalue 0.6285714285714286
  r = mann_whitney_u(std::vector<double>{1.5, 2.5, 8.0}, std::vector<double>{3.0, 4.0, 5.0, 6.0});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 4.0);
  EXPECT_NEAR(r.p_value, 0.6285714285714286, 1e-12);

  // 8 vs 9. scipy exact: statistic 13.0, pvalue 0.02739613327848622
  r = mann_whitney_u(std::vector<double>{1.1, 2.3, 3.2, 4.8, 5.5, 6.1, 7.9, 8.4},
                     std::vector<double>{4.1, 5.2, 6.6, 7.3, 8.8, 9.5, 10.2, 11.7, 12.9});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 13.0);
  EXPECT_NEAR(r.p_value, 0.02739613327848622, 1e-12);

  // 1 vs 1 can never be significant. scipy exact: statistic 0.0, pvalue 1.0
  r = mann_whitney_u(std::vector<double>{5.0}, std::vector<double>{7.0});
  EXPECT_DOUBLE_EQ(r.u, 0.0);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(MannWhitney, TiesNormalApproximationWithTieAndContinuityCorrection) {
  // scipy asymptotic: statistic 4.0, pvalue 0.08567343955231686
  auto r = mann_whitney_u(std::vector<double>{1, 2, 2, 3, 3}, std::vector<double>{2, 3, 4, 4, 5},
                          mwu_method::normal);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 4.0);
  EXPECT_NEAR(r.p_value, 0.08567343955231686, 1e-12);

  // Heavier ties, unequal sizes, half-integer U. scipy asymptotic: 10.5, 0.1422722446208111
  r = mann_whitney_u(std::vector<double>{10, 10, 10, 11, 12, 12},
                     std::vector<double>{10, 11, 11, 12, 13, 13, 14}, mwu_method::normal);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 10.5);
  EXPECT_NEAR(r.p_value, 0.1422722446208111, 1e-12);
}

TEST(MannWhitney, TiesAreExactUnderThePermutationDistributionOfMidranks) {
  // Counted by enumerating every draw of the first sample's positions among the pooled midranks
  // (exact fractions): 28 of C(10, 5) = 252 draws lie as far from the mean rank sum or farther.
  auto r = mann_whitney_u(std::vector<double>{1, 2, 2, 3, 3}, std::vector<double>{2, 3, 4, 4, 5});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 4.0);
  EXPECT_NEAR(r.p_value, 28.0 / 252.0, 1e-12);
  // 246 of C(13, 6) = 1716.
  r = mann_whitney_u(std::vector<double>{10, 10, 10, 11, 12, 12},
                     std::vector<double>{10, 11, 11, 12, 13, 13, 14});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 10.5);
  EXPECT_NEAR(r.p_value, 246.0 / 1716.0, 1e-12);
  // 6 of C(6, 3) = 20, also when the exact method is asked for by name.
  r = mann_whitney_u(std::vector<double>{1, 2, 2}, std::vector<double>{2, 3, 4}, mwu_method::exact);
  EXPECT_TRUE(r.exact);
  EXPECT_NEAR(r.p_value, 6.0 / 20.0, 1e-12);
}

TEST(MannWhitney, AllValuesTiedIsNoEvidence) {
  const auto r = mann_whitney_u(std::vector<double>{5, 5, 5}, std::vector<double>{5, 5, 5, 5});
  EXPECT_DOUBLE_EQ(r.u, 6.0);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(MannWhitney, LargerSamples) {
  // 30 vs 30 (above kMwuExactMaxTotal, so normal). scipy asymptotic: 451.0, 0.9941019213254952
  auto r = mann_whitney_u(gen_x(30), gen_y(30, 0.0));
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 451.0);
  EXPECT_NEAR(r.p_value, 0.9941019213254952, 1e-12);

  // Shifted by 20. scipy asymptotic: 287.0, 0.0162848089481173
  r = mann_whitney_u(gen_x(30), gen_y(30, 20.0));
  EXPECT_DOUBLE_EQ(r.u, 287.0);
  EXPECT_NEAR(r.p_value, 0.0162848089481173, 1e-12);

  // 20 vs 20 without ties is exact under `automatic`. scipy exact: 227.0, 0.47769052336446055;
  // scipy asymptotic: 0.4734806277722057.
  r = mann_whitney_u(gen_x(20), gen_y(20, 0.0));
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 227.0);
  EXPECT_NEAR(r.p_value, 0.47769052336446055, 1e-12);
  r = mann_whitney_u(gen_x(20), gen_y(20, 0.0), mwu_method::normal);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.p_value, 0.4734806277722057, 1e-12);
}

TEST(MannWhitney, RejectsEmptyAndNaN) {
  EXPECT_THROW(mann_whitney_u(std::vector<double>{}, std::vector<double>{1}),
               std::invalid_argument);
  EXPECT_THROW(mann_whitney_u(std::vector<double>{1, NAN}, std::vector<double>{1}),
               std::invalid_argument);
}

TEST(MannWhitney, SmallestReachablePValue) {
  EXPECT_DOUBLE_EQ(mwu_min_p_value(5, 5), 2.0 / 252.0);
  EXPECT_DOUBLE_EQ(mwu_min_p_value(3, 3), 0.1);
  EXPECT_DOUBLE_EQ(mwu_min_p_value(4, 4), 2.0 / 70.0);
  EXPECT_DOUBLE_EQ(mwu_min_p_value(3, 4), 2.0 / 35.0);
  EXPECT_DOUBLE_EQ(mwu_min_p_value(1, 1), 1.0);
  EXPECT_DOUBLE_EQ(mwu_min_p_value(0, 5), 1.0);
  // It is what the exact test gives for complete separation.
  EXPECT_DOUBLE_EQ(mann_whitney_u(range(1, 3), range(4, 7)).p_value, mwu_min_p_value(3, 4));
}

TEST(SignedRank, ExactValuesMatchR) {
  // R: wilcox.test(c(1, 2, 3, 4, 5)) p = 0.0625; wilcox.test(c(1, -2, 3, 4, 5)) p = 0.1875.
  const std::vector<double> all_up{1, 2, 3, 4, 5};
  auto r = wilcoxon_signed_rank(all_up);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.n, 5u);
  EXPECT_DOUBLE_EQ(r.w_plus, 15.0);
  EXPECT_DOUBLE_EQ(r.p_value, 2.0 / 32.0);
  const std::vector<double> one_down{1, -2, 3, 4, 5};
  r = wilcoxon_signed_rank(one_down);
  EXPECT_DOUBLE_EQ(r.w_plus, 13.0);
  EXPECT_DOUBLE_EQ(r.p_value, 6.0 / 32.0);
}

TEST(SignedRank, ZerosAreDroppedAndTiesShareTheirRank) {
  const std::vector<double> with_zero{0.0, 1.0, 2.0};
  EXPECT_EQ(wilcoxon_signed_rank(with_zero).n, 2u);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank(with_zero).p_value, 0.5);
  // |d| = 1, 1, 2: midranks 1.5, 1.5, 3; W+ = 1.5 + 3 = 4.5 of 6. Sign assignments with
  // |2W - 6| >= 3: W in {0, 1.5, 4.5, 6}, as sums of subsets of {1.5, 1.5, 3}: 1 + 2 + 2 + 1 = 6
  // of 8.
  const std::vector<double> tied{1.0, -1.0, 2.0};
  const auto r = wilcoxon_signed_rank(tied);
  EXPECT_DOUBLE_EQ(r.w_plus, 4.5);
  EXPECT_DOUBLE_EQ(r.p_value, 6.0 / 8.0);
  const std::vector<double> zeros{0.0, 0.0};
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank(zeros).p_value, 1.0);
}

TEST(SignedRank, SmallestReachablePValueAndTheNormalApproximation) {
  EXPECT_DOUBLE_EQ(signed_rank_min_p_value(10), 2.0 / 1024.0);
  EXPECT_DOUBLE_EQ(signed_rank_min_p_value(1), 1.0);
  std::vector<double> up(10, 1.0);
  for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<double>(i + 1);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank(up).p_value, 2.0 / 1024.0);
  // Above the exact limit: alternating signs are no evidence, all alike is overwhelming.
  std::vector<double> alternating, positive;
  for (int i = 1; i <= 200; ++i) {
    alternating.push_back(i % 2 ? i : -i);
    positive.push_back(i);
  }
  EXPECT_FALSE(wilcoxon_signed_rank(alternating).exact);
  EXPECT_GT(wilcoxon_signed_rank(alternating).p_value, 0.5);
  EXPECT_LT(wilcoxon_signed_rank(positive).p_value, 1e-20);
}

TEST(Bootstrap, DeterministicForASeed) {
  const std::vector<double> x{1000, 1012, 995, 1005, 990};
  const std::vector<double> y{1100, 1090, 1120, 1080, 1105};
  const auto a = bootstrap_median_ratio(x, y, 0.05);
  const auto b = bootstrap_median_ratio(x, y, 0.05);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_EQ(a.p_value, b.p_value);
  const auto c = bootstrap_median_ratio(x, y, 0.05, kBootstrapResamples, 42);
  const auto d = bootstrap_median_ratio(x, y, 0.05, kBootstrapResamples, 42);
  EXPECT_EQ(c.low, d.low);
  EXPECT_EQ(c.high, d.high);
}

TEST(Bootstrap, IdenticalSamplesContainOne) {
  const std::vector<double> x{1000, 1012, 995, 1005, 990};
  const auto r = bootstrap_median_ratio(x, x, 0.05);
  EXPECT_DOUBLE_EQ(r.ratio, 1.0);
  EXPECT_LE(r.low, 1.0);
  EXPECT_GE(r.high, 1.0);
  EXPECT_GT(r.p_value, 0.5);
}

TEST(Bootstrap, SeparatedSamplesExcludeOne) {
  const std::vector<double> x{1000, 1012, 995, 1005, 990};
  std::vector<double> y;
  for (double v : x) y.push_back(v * 1.25);
  const auto r = bootstrap_median_ratio(x, y, 0.05);
  EXPECT_DOUBLE_EQ(r.ratio, 1.25);
  EXPECT_GT(r.low, 1.0);
  EXPECT_LE(r.low, r.ratio);
  EXPECT_GE(r.high, r.ratio);
  // Every resample lands above 1: p is the floor 2 / (resamples + 1).
  EXPECT_DOUBLE_EQ(r.p_value, 2.0 / (kBootstrapResamples + 1.0));
  // The interval is made of resampled ratios, which lie between the extreme pairings.
  EXPECT_GE(r.low, 990 * 1.25 / 1012);
  EXPECT_LE(r.high, 1012 * 1.25 / 990);
}

TEST(Bootstrap, ZeroBaselineGivesInfiniteRatioNotNaN) {
  const auto r =
      bootstrap_median_ratio(std::vector<double>{0, 0, 0}, std::vector<double>{1, 2, 3}, 0.05, 100);
  EXPECT_TRUE(std::isinf(r.ratio));
  EXPECT_TRUE(std::isinf(r.low));
  EXPECT_FALSE(std::isnan(r.high));
}

TEST(SafeRatio, ZeroCases) {
  EXPECT_DOUBLE_EQ(safe_ratio(0, 0), 1.0);
  EXPECT_TRUE(std::isinf(safe_ratio(1, 0)));
  EXPECT_DOUBLE_EQ(safe_ratio(3, 2), 1.5);
}

// Kendall's tau-b. Reference: scipy.stats.kendalltau (variant "b") gives 0.2 for the first
// permutation below; the cases with ties are counted by hand in the comments.
TEST(KendallTauB, SameAndReversedOrder) {
  const std::vector<double> x{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, x), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, std::vector<double>{50, 40, 30, 20, 10}), -1.0);
  // Values, not ranks: any increasing transform keeps the order.
  EXPECT_DOUBLE_EQ(
      kendall_tau_b(std::vector<double>{10, 200, 3000}, std::vector<double>{0.5, 0.6, 0.7}), 1.0);
}

TEST(KendallTauB, PermutationMatchesScipy) {
  // 10 pairs: 6 concordant, 4 discordant -> (6 - 4) / 10.
  EXPECT_DOUBLE_EQ(
      kendall_tau_b(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{3, 4, 1, 2, 5}), 0.2);
}

TEST(KendallTauB, TiesByHand) {
  // x = 1 2 2 3, y = 1 3 2 2: of the 6 pairs, (1,2) (1,3) (1,4) concordant, (2,4) discordant,
  // (2,3) tied in x, (3,4) tied in y: (3 - 1) / sqrt((6 - 1) (6 - 1)) = 0.4.
  EXPECT_DOUBLE_EQ(kendall_tau_b(std::vector<double>{1, 2, 2, 3}, std::vector<double>{1, 3, 2, 2}),
                   0.4);
  // A pair tied in both counts in each: (2 - 0) / sqrt((3 - 1) (3 - 1)) = 1.
  EXPECT_DOUBLE_EQ(kendall_tau_b(std::vector<double>{1, 1, 2}, std::vector<double>{1, 1, 2}), 1.0);
  // x = 1 1 2 2, y = 1 2 3 3: (1,3) (1,4) (2,3) (2,4) concordant, (1,2) tied in x, (3,4) in both:
  // 4 / sqrt((6 - 2) (6 - 1)) = 4 / sqrt(20).
  EXPECT_DOUBLE_EQ(kendall_tau_b(std::vector<double>{1, 1, 2, 2}, std::vector<double>{1, 2, 3, 3}),
                   4.0 / std::sqrt(20.0));
}

TEST(KendallTauB, UndefinedIsNaN) {
  EXPECT_TRUE(std::isnan(kendall_tau_b(std::vector<double>{}, std::vector<double>{})));
  EXPECT_TRUE(std::isnan(kendall_tau_b(std::vector<double>{1}, std::vector<double>{2})));
  EXPECT_TRUE(
      std::isnan(kendall_tau_b(std::vector<double>{4, 4, 4}, std::vector<double>{1, 2, 3})));
  EXPECT_THROW(kendall_tau_b(std::vector<double>{1, 2}, std::vector<double>{1}),
               std::invalid_argument);
}

// Ranking agreement as two reports declare it: a pair whose intervals overlap is tied.
TEST(KendallTauDeclared, PointsGiveTauBAndOverlapsAreTies) {
  const auto points = [](std::vector<double> v) {
    std::vector<interval_value> out;
    for (double x : v) out.push_back({x, x});
    return out;
  };
  EXPECT_DOUBLE_EQ(kendall_tau_declared(points({1, 2, 3, 4, 5}), points({3, 4, 1, 2, 5})), 0.2);
  // Two mechanisms that swap inside overlapping intervals, a third clearly apart: the swap is a
  // tie in both reports, the rest agrees.
  const std::vector<interval_value> a{{100, 110}, {105, 115}, {200, 210}};
  const std::vector<interval_value> b{{106, 116}, {101, 111}, {190, 220}};
  EXPECT_DOUBLE_EQ(kendall_tau_declared(a, b), 1.0);
  // A reversal of two pairs both reports order: -1.
  EXPECT_DOUBLE_EQ(kendall_tau_declared(std::vector<interval_value>{{1, 2}, {5, 6}},
                                        std::vector<interval_value>{{5, 6}, {1, 2}}),
                   -1.0);
  // Ordered in one report, tied in the other: counted in one denominator only.
  EXPECT_DOUBLE_EQ(kendall_tau_declared(std::vector<interval_value>{{1, 2}, {5, 6}, {9, 10}},
                                        std::vector<interval_value>{{1, 5}, {4, 6}, {9, 10}}),
                   2.0 / std::sqrt(3.0 * 2.0));
  // Every pair tied in one report, or fewer than two: undefined.
  EXPECT_TRUE(std::isnan(kendall_tau_declared(std::vector<interval_value>{{1, 5}, {2, 6}},
                                              std::vector<interval_value>{{1, 1}, {2, 2}})));
  EXPECT_TRUE(std::isnan(kendall_tau_declared({}, {})));
  EXPECT_THROW(kendall_tau_declared(points({1, 2}), points({1})), std::invalid_argument);
}

TEST(DeclaredPairs, EachPairCountedByWhatBothReportsSayOfIt) {
  // A: 0 < 1 < 2, 3 overlapping 2, 4 overlapping 3. B: 1 < 0 (reversed), 2 overlapping 0 and
  // above 1, 3 and 4 overlapping each other, above the rest.
  const std::vector<interval_value> a{{1, 2}, {5, 6}, {9, 10}, {9.5, 11}, {10.5, 12}};
  const std::vector<interval_value> b{{5, 6}, {1, 2}, {4, 5.5}, {20, 21}, {20.5, 22}};
  const declared_pairs p = count_declared_pairs(a, b);
  EXPECT_EQ(p.opposite_order, 1u);  // (0, 1)
  EXPECT_EQ(p.same_order, 6u);      // (0, 3), (0, 4), (1, 2), (1, 3), (1, 4), (2, 4)
  EXPECT_EQ(p.one_tied(), 2u);      // (0, 2): B ties; (2, 3): A ties
  EXPECT_EQ(p.both_tied, 1u);       // (3, 4)
  const declared_pairs none = count_declared_pairs({}, {});
  EXPECT_EQ(none.same_order + none.opposite_order + none.one_tied() + none.both_tied, 0u);
  EXPECT_THROW(count_declared_pairs(std::vector<interval_value>{{1, 1}, {2, 2}},
                                    std::vector<interval_value>{{1, 1}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace ipcbench::compare
