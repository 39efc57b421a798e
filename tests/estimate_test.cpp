// The statistics behind a run's answer (bench/estimate, bench/answer): exact results on known
// inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/answer.hpp"
#include "bench/estimate.hpp"

namespace ipcbench {
namespace {

using estimate::decide;
using estimate::decision;
using estimate::detect_modes;
using estimate::detect_regimes;
using estimate::median_interval;

TEST(MedianInterval, OrderStatisticsAndTheirCoverage) {
  // n = 5: only [min, max] reaches 90 %, covering 1 - 2/32 = 93.75 %.
  const auto five = median_interval(std::vector<double>{5, 1, 4, 2, 3}, 0.9);
  ASSERT_TRUE(five);
  EXPECT_EQ(five->lo, 1);
  EXPECT_EQ(five->hi, 5);
  EXPECT_DOUBLE_EQ(five->confidence, 1 - 2.0 / 32);
  // n = 4 covers 87.5 % at most: no 90 % interval.
  EXPECT_FALSE(median_interval(std::vector<double>{1, 2, 3, 4}, 0.9));
  // n = 10: [x(2), x(9)] covers 1 - 2 * 11/1024 = 97.9 %, [x(3), x(8)] 89.1 % (< 90 %).
  std::vector<double> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const auto t = median_interval(ten, 0.9);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->lo, 2);
  EXPECT_EQ(t->hi, 9);
  EXPECT_NEAR(t->confidence, 1 - 2 * 11.0 / 1024, 1e-12);
  EXPECT_FALSE(median_interval({}, 0.9));
}

TEST(RankTest, TheLeastPIsThatOfACompleteSeparation) {
  using rank_stats::rank_stratum;
  const auto least = [](std::vector<rank_stratum> strata) {
    return rank_stats::least_rank_p(strata);
  };
  EXPECT_NEAR(least({{{1, 2, 3}, {4, 5, 6}}}), 0.1, 1e-12);                   // 2 / 20
  EXPECT_NEAR(least({{{1, 2}, {3, 4}}, {{1, 2}, {3, 4}}}), 2.0 / 36, 1e-12);  // 2 / 6 / 6
  EXPECT_NEAR(least({{{1, 2}, {3, 4, 5, 6, 7}}}), 2.0 / 21, 1e-12);           // C(7, 2)
  EXPECT_DOUBLE_EQ(least({{{1}, {2}}}), 1.0);                                 // 2 / 2
  EXPECT_DOUBLE_EQ(least({{{1, 2}, {}}}), 1.0);                               // nothing
  // The one-sided chance of a complete separation, which compare and the probes share.
  EXPECT_NEAR(rank_stats::separation_chance(3, 3), 1.0 / 20, 1e-15);
  EXPECT_NEAR(rank_stats::separation_chance(7, 7), 1.0 / 3432, 1e-15);
  EXPECT_NEAR(rank_stats::separation_chance(2, 5), 1.0 / 21, 1e-15);
  EXPECT_DOUBLE_EQ(rank_stats::separation_chance(0, 4), 1.0);
  // What the test itself gives for values that far apart, at ten a side.
  std::vector<double> a, b;
  for (int i = 0; i < 10; ++i) {
    a.push_back(i);
    b.push_back(100 + i);
  }
  const std::vector<rank_stratum> ten = {{a, b}};
  EXPECT_NEAR(rank_stats::least_rank_p(ten), rank_stats::stratified_rank_test(ten)->p, 1e-15);
}

TEST(RankTest, TheShiftIntervalInvertsTheTest) {
  using rank_stats::rank_stratum;
  const auto shift = [](std::vector<rank_stratum> strata, double confidence = 0.9) {
    return rank_stats::stratified_shift_interval(strata, confidence);
  };
  // Three each: the 9 differences 7..13 (a - b); P(U = 0) = 1/20, so at 90 % [min, max].
  const auto three = shift({{{11, 12, 13}, {0, 1, 2}}});
  ASSERT_TRUE(three);
  EXPECT_DOUBLE_EQ(three->lo, 9);
  EXPECT_DOUBLE_EQ(three->hi, 13);
  EXPECT_DOUBLE_EQ(three->estimate, 11);  // the median difference
  EXPECT_NEAR(three->confidence, 0.9, 1e-12);
  EXPECT_EQ(three->strata, 1u);
  // At 95 % three each are too few (even [min, max] covers 0.9); two each at 90 % too.
  EXPECT_FALSE(shift({{{11, 12, 13}, {0, 1, 2}}}, 0.95));
  EXPECT_FALSE(shift({{{11, 12}, {0, 1}}}));
  // Two each in two regimes, each shifted by about 10 in its own level: the differences are
  // within a regime only (1000 apart pooled), [min, max] covers 1 - 2/36.
  const auto two = shift({{{10, 11}, {0, 1}}, {{1010, 1012}, {1000, 1001}}});
  ASSERT_TRUE(two);
  EXPECT_DOUBLE_EQ(two->lo, 9);
  EXPECT_DOUBLE_EQ(two->hi, 12);
  EXPECT_NEAR(two->confidence, 1 - 2.0 / 36, 1e-12);
  EXPECT_EQ(two->a_count, 4u);
  // Five each: k = 5, [d(5), d(21)] of the 25, coverage 1 - 2 x 12/252.
  const auto five = shift({{{10, 20, 30, 40, 50}, {0, 0, 0, 0, 0}}});
  ASSERT_TRUE(five);
  EXPECT_DOUBLE_EQ(five->lo, 10);
  EXPECT_DOUBLE_EQ(five->hi, 50);
  EXPECT_NEAR(five->confidence, 1 - 24.0 / 252, 1e-12);
  EXPECT_FALSE(shift({{{1, 2}, {}}}));
}

TEST(RankTest, TheRatioIntervalIsTheShiftOfTheLogarithmsTakenBack) {
  using rank_stats::rank_stratum;
  // The 9 ratios a / b of {2, 4, 8} and {1, 2, 4}: 0.5, 1, 1, 2, 2, 2, 4, 4, 8; at 90 % [min, max].
  const std::vector<rank_stratum> strata = {{{2, 4, 8}, {1, 2, 4}}};
  const auto ratio = rank_stats::stratified_ratio_interval(strata, 0.9);
  ASSERT_TRUE(ratio);
  EXPECT_DOUBLE_EQ(ratio->estimate, 2);
  EXPECT_DOUBLE_EQ(ratio->lo, 0.5);
  EXPECT_DOUBLE_EQ(ratio->hi, 8);
  EXPECT_NEAR(ratio->confidence, 0.9, 1e-12);
  // A value that is not positive has no logarithm: left out, and not counted.
  const std::vector<rank_stratum> with_zero = {{{2, 4, 8, 0, -1}, {1, 2, 4}}};
  const auto same = rank_stats::stratified_ratio_interval(with_zero, 0.9);
  ASSERT_TRUE(same);
  EXPECT_DOUBLE_EQ(same->estimate, 2);
  EXPECT_DOUBLE_EQ(same->lo, 0.5);
  EXPECT_EQ(same->a_count, 3u);
  // Too few positive values for an interval.
  const std::vector<rank_stratum> too_few = {{{2, 4, 0}, {1, 2, 4}}};
  EXPECT_FALSE(rank_stats::stratified_ratio_interval(too_few, 0.9));
}

TEST(RankTest, ExactPValuesOfSmallSamples) {
  using estimate::rank_stratum;
  const auto test = [](std::vector<rank_stratum> strata) {
    return estimate::stratified_rank_test(strata);
  };
  // Three each, apart: 2 of the C(6,3) = 20 splits are as extreme, p = 0.1.
  const auto apart = test({{{1, 2, 3}, {4, 5, 6}}});
  ASSERT_TRUE(apart);
  EXPECT_NEAR(apart->p, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(apart->a_lower, 1.0);
  EXPECT_EQ(apart->strata, 1u);
  EXPECT_EQ(apart->a_count, 3u);
  // Reversed: the same p, a's values higher.
  const auto reversed = test({{{4, 5, 6}, {1, 2, 3}}});
  EXPECT_NEAR(reversed->p, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(reversed->a_lower, 0.0);
  // Two each, apart: 2 of 6, p = 1/3; in two regimes both apart: 2 of 36.
  EXPECT_NEAR(test({{{1, 2}, {3, 4}}})->p, 1.0 / 3, 1e-12);
  const auto two = test({{{1, 2}, {3, 4}}, {{10, 20}, {30, 40}}});
  EXPECT_NEAR(two->p, 2.0 / 36, 1e-12);
  EXPECT_EQ(two->strata, 2u);
  EXPECT_EQ(two->b_count, 4u);
  // Regimes are never ranked against each other: a's values of one regime above b's of the
  // other change nothing.
  EXPECT_NEAR(test({{{1, 2}, {3, 4}}, {{100, 200}, {300, 400}}})->p, 2.0 / 36, 1e-12);
  // Two regimes ordering the two opposite ways, each completely: they cancel (p = 1), and each
  // stratum's own share shows it.
  const auto opposite = test({{{1, 2}, {3, 4}}, {{30, 40}, {10, 20}}, {{5}, {}}});
  EXPECT_DOUBLE_EQ(opposite->p, 1.0);
  ASSERT_EQ(opposite->a_lower_by_stratum.size(), 3u);
  EXPECT_DOUBLE_EQ(opposite->a_lower_by_stratum[0], 1.0);
  EXPECT_DOUBLE_EQ(opposite->a_lower_by_stratum[1], 0.0);
  EXPECT_TRUE(std::isnan(opposite->a_lower_by_stratum[2]));
  // Interleaved (U = 6 of 9): P(U >= 6) = 7/20 for three each, p = 0.7.
  EXPECT_NEAR(test({{{1, 3, 5}, {2, 4, 6}}})->p, 0.7, 1e-12);
  // Ten each, apart: 2 / C(20, 10).
  std::vector<double> low, high;
  for (int i = 0; i < 10; ++i) {
    low.push_back(i);
    high.push_back(100 + i);
  }
  EXPECT_NEAR(test({{low, high}})->p, 2.0 / 184756, 1e-15);
  // Forty each, past what long double holds exactly (C(80, 40) ~ 1.1e23): apart, 2 / C(80, 40);
  // alternating, no evidence (p near 1).
  std::vector<double> low40, high40, even, odd;
  for (int i = 0; i < 40; ++i) {
    low40.push_back(i);
    high40.push_back(100 + i);
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  const double c80 = std::exp(std::lgamma(81.0) - 2 * std::lgamma(41.0));
  EXPECT_NEAR(test({{low40, high40}})->p * c80 / 2, 1.0, 1e-9);
  const auto alternating = test({{even, odd}});
  EXPECT_GT(alternating->p, 0.8);
  EXPECT_LE(alternating->p, 1.0);
  // All tied: no evidence either way.
  EXPECT_DOUBLE_EQ(test({{{1, 1, 1}, {1, 1, 1}}})->p, 1.0);
  // A stratum with one side empty counts for nothing; none with both sides: no test.
  EXPECT_NEAR(test({{{1, 2, 3}, {4, 5, 6}}, {{1}, {}}})->p, 0.1, 1e-12);
  EXPECT_FALSE(test({{{1, 2}, {}}}));
  EXPECT_FALSE(test({}));
}

TEST(StopRule, StopsWhenTheIntervalIsNarrow) {
  const estimate::stop_rule rule{
      .confidence = 0.9, .relative_width = 0.1, .min_repetitions = 5, .max_repetitions = 12};
  const std::vector<double> narrow = {100, 101, 99, 102, 100};  // [99, 102]: 3 % of 100
  EXPECT_EQ(decide(rule, narrow, 5), decision::converged);
}

TEST(StopRule, RunsToTheCapWhenItIsNot) {
  const estimate::stop_rule rule{
      .confidence = 0.9, .relative_width = 0.1, .min_repetitions = 5, .max_repetitions = 8};
  std::vector<double> wide;
  for (int n = 1; n <= 8; ++n) {
    wide.push_back(n % 2 ? 100 : 150);
    EXPECT_EQ(decide(rule, wide, n), n < 8 ? decision::go_on : decision::cap) << n;
  }
}

TEST(StopRule, NeverStopsBeforeItsMinimum) {
  const estimate::stop_rule rule{
      .confidence = 0.5, .relative_width = 0.1, .min_repetitions = 6, .max_repetitions = 12};
  std::vector<double> same;
  for (int n = 1; n <= 5; ++n) {
    same.push_back(100);
    EXPECT_EQ(decide(rule, same, n), decision::go_on) << n;
  }
  same.push_back(100);
  EXPECT_EQ(decide(rule, same, 6), decision::converged);
  // Enough repetitions, but too few of them in the basis (the reference regime): go on.
  EXPECT_EQ(decide(rule, std::vector<double>{100, 100}, 7), decision::go_on);
}

// A series as the host makes it: noise around a level, in the order the repetitions ran.
std::vector<double> around(double level, int n, double spread, int seed) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i)
    v.push_back(level * (1 + spread * std::sin(1.7 * (i + 1) * (seed + 1))));
  return v;
}

TEST(Regimes, OneRegimeOnAQuietMachine) {
  const auto r = detect_regimes(around(125, 200, 0.12, 1));
  ASSERT_EQ(r.list.size(), 1u);
  EXPECT_EQ(r.list[0].count, 200u);
  EXPECT_EQ(r.reference, 0);
}

TEST(Regimes, TwoRegimesAndWhichRepetitionRanInWhich) {
  // 60 s near 125 ns, 80 near 540, 40 near 125 again.
  std::vector<double> series = around(125, 60, 0.1, 1);
  const auto slow = around(540, 80, 0.04, 2);
  series.insert(series.end(), slow.begin(), slow.end());
  const auto back = around(125, 40, 0.1, 3);
  series.insert(series.end(), back.begin(), back.end());
  series[70] = 300;  // one caught mid-move
  const auto r = detect_regimes(series);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_NEAR(r.list[0].median, 125, 15);
  EXPECT_NEAR(r.list[1].median, 540, 30);
  EXPECT_EQ(r.list[0].count, 100u);
  EXPECT_EQ(r.of[0], 0);
  EXPECT_EQ(r.of[100], 1);
  EXPECT_EQ(r.of[179], 0);
  // The slow regime holds 44 % of the run: the estimates are taken there.
  EXPECT_EQ(r.reference, 1);
}

TEST(Regimes, AShortStateAtTheEndIsARegimeOfItsOwn) {
  // A run slow throughout but for its last 3.6 % (185 of 5,101 floors, 4x faster): those
  // repetitions are a regime, not outliers within the slow one.
  std::vector<double> series = around(492, 4916, 0.1, 1);
  const auto tail = around(119, 185, 0.05, 2);
  series.insert(series.end(), tail.begin(), tail.end());
  const auto r = detect_regimes(series);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.list[0].count, 185u);
  EXPECT_EQ(r.of.back(), 0);
  EXPECT_EQ(r.of.front(), 1);
  EXPECT_EQ(r.reference, 1);
  // Two stray floors (fewer than 3, and under 1 % of the run) are no regime.
  std::vector<double> stray = around(492, 400, 0.1, 3);
  stray[100] = stray[300] = 120;
  EXPECT_EQ(detect_regimes(stray).list.size(), 1u);
}

TEST(Regimes, ADriftIsNoRegime) {
  std::vector<double> drift;
  for (int i = 0; i < 150; ++i) drift.push_back(130 + 400.0 * i / 149);
  EXPECT_EQ(detect_regimes(drift).list.size(), 1u);
}

// `fast` floors near 125 ns, then `slow` near 540 ns.
estimate::regimes fast_then_slow(int fast, int slow) {
  std::vector<double> series = around(125, fast, 0.05, 1);
  const auto later = around(540, slow, 0.04, 2);
  series.insert(series.end(), later.begin(), later.end());
  return detect_regimes(series);
}

TEST(Regimes, AThirdStateBesideOneSideDoesNotHideTheGap) {
  // As the host held on 2026-11-29: about 60 ns (9 %), 108-209 ns (71 %), 410-650 ns (20 %). The
  // two lower states are 1.4x apart at their nearest, too close to split; the gap from 209 to
  // 410 ns is 1.96x, and their range together 3.6x.
  std::vector<double> v;
  for (int i = 0; i < 540; ++i) v.push_back(58 + i % 7);
  for (int i = 0; i < 10; ++i) v.push_back(74 + i % 5);
  for (int i = 0; i < 4100; ++i) v.push_back(108 * std::pow(170.0 / 108, i / 4099.0));
  for (int i = 0; i < 20; ++i) v.push_back(176 + i * 33 / 19.0);
  for (int i = 0; i < 1100; ++i) v.push_back(410 * std::pow(650.0 / 410, i / 1099.0));
  // Weighed against the whole of the lower side (a twentieth trimmed), the gap is no gap.
  EXPECT_EQ(estimate::group_by_gaps(v, v.size() / 100, 1.5, 4).groups, 1u);
  const auto r = detect_regimes(v);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.list[0].count, 4670u);
  EXPECT_EQ(r.list[1].count, 1100u);
  EXPECT_EQ(r.list[1].min, 410);
  EXPECT_EQ(r.reference, 0);  // the slow state holds under a quarter
}

TEST(Regimes, TheReferenceIsTheSlowestRegimeThatHoldsAQuarterOfTheRun) {
  // The fast state for 10 % of the run, the slow one for 90 %: the estimates are taken in the
  // slow one, where every benchmark gets its repetitions.
  auto r = fast_then_slow(10, 90);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.list[0].count, 10u);
  EXPECT_EQ(r.reference, 1);
  // The slow state for a quarter exactly: still the slow one.
  r = fast_then_slow(75, 25);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.reference, 1);
  // For a fifth only: the fast one.
  r = fast_then_slow(80, 20);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.reference, 0);
}

TEST(Regimes, AQuickRunAsksTheSlowStateForATwentiethOfTheRun) {
  // The slow state for 9 % of a run: a quick run's estimates are taken in it all the same, where
  // the next quick run, which held it for 45 %, takes them too; a default run's are not.
  const auto r = fast_then_slow(91, 9);
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.reference, 0);
  EXPECT_EQ(estimate::reference_regime(r.list, estimate::kQuickReferenceShare), 1);
  std::vector<double> line;
  for (int i = 0; i < 91; ++i) line.push_back(120.0 + i % 5);
  for (int i = 0; i < 9; ++i) line.push_back(490.0 + i % 5);
  EXPECT_EQ(detect_regimes(line, {}, estimate::kQuickReferenceShare).reference, 1);
  // Under a twentieth (4 %): the state held most, as with a quarter.
  const auto short_slow = fast_then_slow(96, 4);
  ASSERT_EQ(short_slow.list.size(), 2u);
  EXPECT_EQ(estimate::reference_regime(short_slow.list, estimate::kQuickReferenceShare), 0);
}

TEST(Regimes, WithoutARegimeOfAQuarterTheReferenceIsTheLongestHeld) {
  // Five regimes of 24, 22, 20, 18 and 16 %: none holds a quarter.
  std::vector<estimate::regime> list;
  for (int k = 0; k < 5; ++k) {
    estimate::regime g;
    g.median = g.min = g.max = 100.0 * (1 << k);
    g.count = static_cast<std::size_t>(24 - 2 * k);
    g.line_state = k;
    list.push_back(g);
  }
  EXPECT_EQ(estimate::reference_regime(list), 0);
  std::swap(list[0].count, list[3].count);  // 18, 22, 20, 24, 16
  EXPECT_EQ(estimate::reference_regime(list), 3);
  EXPECT_EQ(estimate::reference_regime({}), -1);
}

// A cache-line series near 490 ns with a wake-up round trip beside every other floor (the latency
// repetitions): `wake(i)` for floor i.
template <typename Wake>
estimate::regimes slow_line_with_wake(int n, Wake wake) {
  const std::vector<double> line = around(490, n, 0.04, 5);
  std::vector<std::optional<double>> w(line.size());
  for (int i = 0; i < n; i += 2) w[static_cast<std::size_t>(i)] = wake(i);
  return detect_regimes(line, w);
}

TEST(Regimes, WakeUpStatesWithinOneCacheLineState) {
  // 100 floors at a wake-up round trip near 8.5 us, 80 near 22 us, 100 near 8.5 again; one in
  // ten of each stretch scattered 1.6x off its level, as single measurements are.
  const auto r = slow_line_with_wake(280, [](int i) {
    const double level = i >= 100 && i < 180 ? 22000 : 8500;
    const double off = i % 20 == 10 ? (level > 10000 ? 1 / 1.6 : 1.6) : 1.0;
    return level * off * (1 + 0.05 * std::sin(1.3 * i));
  });
  ASSERT_EQ(r.list.size(), 2u);
  EXPECT_EQ(r.list[0].line_state, 0);
  EXPECT_EQ(r.list[1].line_state, 0);
  ASSERT_TRUE(r.list[0].wake_median && r.list[1].wake_median);
  EXPECT_NEAR(*r.list[0].wake_median, 8500, 500);
  EXPECT_NEAR(*r.list[1].wake_median, 22000, 1500);
  EXPECT_EQ(r.list[0].count, 200u);
  EXPECT_EQ(r.list[1].count, 80u);
  // The scattered single measurements keep their stretch's state.
  EXPECT_EQ(r.of[100], 1);
  EXPECT_EQ(r.of[120], 1);
  EXPECT_EQ(r.of[180], 0);
  // A floor without a wake-up round trip takes its nearest measured neighbour's state.
  EXPECT_EQ(r.of[99], 0);
  EXPECT_EQ(r.of[101], 1);
  EXPECT_EQ(r.of[179], 1);
  EXPECT_EQ(r.of[181], 0);
  // The fastest wake-up state that holds a quarter of the cache-line state is the reference.
  EXPECT_EQ(r.reference, 0);
}

TEST(Regimes, AWakeUpDriftOrScatterIsNoState) {
  // A drift from 8 to 20 us over the run leaves no gap.
  EXPECT_EQ(slow_line_with_wake(300, [](int i) { return 8000 + 12000.0 * i / 299; }).list.size(),
            1u);
  // One measurement in fifteen 2-4x slower, as a busy host gives them: outliers, no state.
  const auto r = slow_line_with_wake(300, [](int i) {
    return i % 30 == 0 ? 8500 * (2 + std::fmod(0.37 * i, 2.0)) : 8500 * (1 + 0.1 * std::sin(i));
  });
  ASSERT_EQ(r.list.size(), 1u);
  ASSERT_TRUE(r.list[0].wake_median);
  EXPECT_NEAR(*r.list[0].wake_median, 8500, 900);
  // No wake-up round trip at all (a throughput-only run): the cache-line states alone.
  const auto plain = detect_regimes(around(490, 100, 0.04, 5), {});
  ASSERT_EQ(plain.list.size(), 1u);
  EXPECT_FALSE(plain.list[0].wake_median);
}

TEST(Regimes, TheReferenceIsTheSlowCacheLineStatesFastestWakeUpStateHeldAQuarter) {
  // 60 floors in the fast cache-line state (wake-up 6 us), then 240 in the slow one: its wake-up
  // round trip 9 us for `fast_wake` of them, then 24 us.
  const auto run = [](int fast_wake) {
    std::vector<double> line = around(115, 60, 0.05, 1);
    const auto slow = around(490, 240, 0.04, 2);
    line.insert(line.end(), slow.begin(), slow.end());
    std::vector<std::optional<double>> wake(line.size());
    for (std::size_t i = 0; i < line.size(); i += 2)
      wake[i] = i < 60 ? 6000.0 : static_cast<int>(i) < 60 + fast_wake ? 9000.0 : 24000.0;
    return detect_regimes(line, wake);
  };
  auto r = run(80);  // a third of the slow state at 9 us
  ASSERT_EQ(r.list.size(), 3u);
  EXPECT_EQ(r.list[0].line_state, 0);
  EXPECT_EQ(r.list[1].line_state, 1);
  EXPECT_EQ(r.list[2].line_state, 1);
  EXPECT_EQ(r.list[1].count, 80u);
  EXPECT_EQ(r.list[2].count, 160u);
  EXPECT_EQ(r.reference, 1);
  // The cache-line state is chosen on its whole share: the slow one, though neither of its
  // wake-up states alone would hold a quarter of the run at 40 of 300.
  r = run(40);
  ASSERT_EQ(r.list.size(), 3u);
  EXPECT_EQ(r.list[1].count, 40u);
  EXPECT_EQ(r.reference, 2);  // 40 is a sixth of the slow state: its longest held, 24 us
}

TEST(Modes, Unimodal) {
  const auto m = detect_modes(around(1000, 12, 0.08, 4));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].members.size(), 12u);
}

TEST(Modes, BimodalOneToTwo) {
  // 46 GB/s in one repetition of three, 6.9 in the others, as iceoryx.zerocopy once did.
  const std::vector<double> v = {6.9, 46, 7.0, 6.8, 45, 7.1, 47, 6.95, 7.05};
  const auto m = detect_modes(v);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].members.size(), 6u);
  EXPECT_EQ(m[1].members.size(), 3u);
  EXPECT_DOUBLE_EQ(m[0].value, 6.975);
  EXPECT_DOUBLE_EQ(m[1].value, 46);
}

TEST(Modes, ASingleOutlierIsNoMode) {
  const std::vector<double> v = {100, 101, 99, 102, 100, 98, 350};
  EXPECT_EQ(detect_modes(v).size(), 1u);
}

TEST(PartModes, PartsThatAgreeAreNoModes) {
  EXPECT_TRUE(
      estimate::detect_part_modes({{10, 10.2, 9.9, 10.1}, {10.3, 10, 10.1, 9.8}}, 1.5).empty());
}

TEST(PartModes, TwoLevelsEachHeldByTwoRepetitionsAreModes) {
  const auto m = estimate::detect_part_modes(
      {{10, 10.1, 9.9, 10}, {20, 20.5, 19.5, 20}, {10.2, 9.8, 10, 10.1}, {21, 20, 19.8, 20.2}},
      1.5);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].parts, 8u);
  EXPECT_EQ(m[0].repetitions, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(m[1].repetitions, (std::vector<std::size_t>{1, 3}));
  EXPECT_DOUBLE_EQ(m[1].value, 20);  // 19.5 19.8 20 20 | 20 20.2 20.5 21
}

TEST(PartModes, ARepetitionApartIsNoModeHoweverManyItsParts) {
  // Three repetitions at 10, one at 20 throughout: its four parts are one stretch of time.
  EXPECT_TRUE(
      estimate::detect_part_modes(
          {{10, 10.1, 9.9, 10}, {10.2, 9.8, 10, 10.1}, {10, 10, 10.1, 9.9}, {20, 20, 20, 20}}, 1.5)
          .empty());
}

TEST(PartModes, ALevelThatChangesWithinARepetitionIsNamedInBoth) {
  const auto m = estimate::detect_part_modes(
      {{10, 10, 20, 20.2}, {10.1, 9.9, 10, 10.2}, {20, 19.8, 20.1, 10}}, 1.5);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].repetitions, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(m[1].repetitions, (std::vector<std::size_t>{0, 2}));
}

TEST(PartModes, AGroupThatSpreadsOverTheLimitLeavesNoModes) {
  // 10 to 16 (1.6x) against 100: two groups, but the first spreads over 1.5x itself.
  EXPECT_TRUE(
      estimate::detect_part_modes(
          {{10, 11, 12, 13}, {14, 15, 16, 16}, {100, 100, 100, 100}, {100, 101, 99, 100}}, 1.5)
          .empty());
}

// A benchmark whose repetitions ran in both regimes: judged on those in the reference regime.
// Adds an ok repetition of `value` with the cache-line round trip `line` beside it, numbered
// `order` (which then counts on).
void add_sample(benchmark_history& h, std::uint64_t& order, double value, double line) {
  repetition_sample s;
  s.order = order++;
  s.ok = true;
  s.value = value;
  s.line_ns = line;
  h.samples.push_back(s);
}

TEST(Answer, TheEstimateIsTakenInTheReferenceRegime) {
  benchmark_history bench{.name = "pipe/latency/64/cross",
                          .metric = "rtt_p50_ns",
                          .samples = {},
                          .stopped = "converged"};
  benchmark_history other{
      .name = "other", .metric = "rtt_p50_ns", .samples = {}, .stopped = "converged"};
  std::uint64_t order = 0;
  auto add = [&](benchmark_history& h, double value, double line) {
    add_sample(h, order, value, line);
  };
  for (int i = 0; i < 4; ++i) add(bench, 6000 + 100 * i, 125 + i);  // fast: 6000..6300
  for (int i = 0; i < 3; ++i) add(bench, 9000 + 100 * i, 540 + i);  // slow
  for (int i = 0; i < 10; ++i) add(other, 1000, i < 5 ? 120 : 530);
  const run_regimes r = find_regimes({bench, other});
  ASSERT_EQ(r.found.list.size(), 2u);
  // The slow regime holds 8 of the 17 floors, more than a quarter: it is the reference.
  const basis b = basis_of(bench, r);
  EXPECT_EQ(b.regime, 1);
  EXPECT_EQ(b.values.size(), 3u);
  const auto j = estimate_json(bench, r, {});
  EXPECT_EQ(j["basis"], "regime");
  EXPECT_EQ(j["regime"], 1);
  EXPECT_DOUBLE_EQ(j["value"].get<double>(), 9100);
  EXPECT_EQ(j["used"], 3);
  EXPECT_EQ(j["repetitions"], 7);
  ASSERT_EQ(j["by_regime"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["by_regime"][0]["value"].get<double>(), 6150);
  EXPECT_TRUE(j["modes"].is_null());
  EXPECT_TRUE(j["interval"].is_null());  // 3 values cover 75 % at most
  const auto regimes = regimes_json(r);
  EXPECT_EQ(regimes["regimes"].size(), 2u);
  EXPECT_EQ(regimes["reference"], 1);
  EXPECT_DOUBLE_EQ(regimes["regimes"][0]["share"].get<double>(), 9.0 / 17);
}

// A run of latency benchmarks whose round trips follow the wake-up floor beside them: `n`
// benchmarks of five repetitions, base 10 us x (100 + benchmark), the floors 7-11 us in turn
// (benchmark 0's 9-11 us), the cache line 500 ns throughout (one regime).
std::vector<benchmark_history> floor_bound_run(int n, double follows) {
  std::vector<benchmark_history> all;
  std::uint64_t order = 0;
  for (int b = 0; b < n; ++b) {
    std::string name = "m";  // (one += at a time: GCC 12's -Wrestrict misreads a + chain)
    name += std::to_string(b);
    name += "/latency/64/cross";
    benchmark_history h{.name = name, .metric = "rtt_p50_ns", .samples = {}, .stopped = "cap"};
    const double base = 10'000.0 * (100 + b) / 100;
    for (int k = 0; k < 5; ++k) {
      const double wake = b == 0 ? 9'000 + 1'000 * (k % 3) : 7'000 + 1'000 * ((k + b) % 5);
      add_sample(h, order, base * std::pow(wake / 9'000, follows), 500);
      h.samples.back().wake_ns = wake;
    }
    all.push_back(std::move(h));
  }
  return all;
}

TEST(Answer, LatencyIsTakenToTheRunsMedianFloorItWaitsOn) {
  std::vector<benchmark_history> all = floor_bound_run(30, 1.0);
  // A throughput benchmark and a receiver that spins, with no cache-line floor that moves.
  benchmark_history tput{.name = "t/throughput/64/cross",
                         .metric = "bytes_per_second",
                         .samples = {},
                         .stopped = "cap"};
  std::uint64_t order = 1000;
  for (int k = 0; k < 5; ++k) add_sample(tput, order, 1e9 * (1 + 0.1 * k), 500);
  all.push_back(tput);
  benchmark_history spin = all[1];
  spin.name = "spin/latency/64/cross";
  spin.spins = true;
  all.push_back(spin);
  const run_regimes r = find_regimes(all);
  ASSERT_EQ(r.found.list.size(), 1u);
  // Each round trip in proportion to its floor: a slope of 1, to the median floor of 9 us.
  EXPECT_NEAR(r.sleeps.slope, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(r.sleeps.to_ns, 9'000);
  EXPECT_EQ(r.sleeps.repetitions, 150u);
  EXPECT_TRUE(r.sleeps.fitted);
  // 5 repetitions, too few to fit: in proportion to a floor that does not move.
  EXPECT_EQ(r.spins.slope, 1);
  EXPECT_FALSE(r.spins.fitted);
  // Benchmark 0 met floors of 9-11 us: its repetitions' median is 10/9 of its value at 9 us.
  const auto j = estimate_json(all[0], r, {});
  EXPECT_NEAR(j["value"].get<double>(), 10'000, 1e-6);
  ASSERT_TRUE(j["adjusted"].is_object()) << j;
  EXPECT_EQ(j["adjusted"]["floor"], "wakeup_rtt_p50_ns");
  EXPECT_NEAR(j["adjusted"]["raw_value"].get<double>(), 10'000.0 * 10 / 9, 1e-6);
  // The spread and the modes stay the repetitions' own.
  EXPECT_NEAR(j["spread"].get<double>(), 11.0 / 9, 1e-9);
  // Another benchmark: every value at 9 us is its base.
  EXPECT_NEAR(estimate_json(all[7], r, {})["value"].get<double>(), 10'700, 1e-6);
  EXPECT_TRUE(estimate_json(all[30], r, {})["adjusted"].is_null());  // throughput
  // The spinning one, taken in proportion to its cache-line floor of 500 ns throughout: as it is.
  const auto spin_j = estimate_json(all[31], r, {});
  ASSERT_TRUE(spin_j["adjusted"].is_object()) << spin_j;
  EXPECT_EQ(spin_j["adjusted"]["fitted"], false);
  EXPECT_DOUBLE_EQ(spin_j["value"].get<double>(), spin_j["adjusted"]["raw_value"].get<double>());
  const auto fit = regimes_json(r)["latency_to_floor"];
  EXPECT_NEAR(fit["sleeps"]["slope"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(fit["sleeps"]["fitted"], true);
  EXPECT_EQ(fit["spins"]["fitted"], false);
  EXPECT_DOUBLE_EQ(fit["spins"]["to_ns"].get<double>(), 500);
  // A repetition without its floor leaves the benchmark's values as they are.
  all[0].samples[2].wake_ns.reset();
  EXPECT_TRUE(estimate_json(all[0], find_regimes(all), {})["adjusted"].is_null());
}

TEST(Answer, AFloorThatDoesNotMoveTheRoundTripTakesNothingOut) {
  // Round trips that ignore the floor: the slope is 0 and the values stay as measured.
  const std::vector<benchmark_history> flat = floor_bound_run(30, 0.0);
  const run_regimes r = find_regimes(flat);
  EXPECT_EQ(r.sleeps.slope, 0);
  EXPECT_TRUE(estimate_json(flat[0], r, {})["adjusted"].is_null());
  EXPECT_DOUBLE_EQ(estimate_json(flat[0], r, {})["value"].get<double>(), 10'000);
  // Half-way: the slope is what the repetitions show.
  EXPECT_NEAR(find_regimes(floor_bound_run(30, 0.5)).sleeps.slope, 0.5, 1e-9);
  // Under 100 repetitions: no fit; the values are taken to the floor in proportion.
  const std::vector<benchmark_history> few = floor_bound_run(19, 1.0);
  const run_regimes rf = find_regimes(few);
  EXPECT_EQ(rf.sleeps.repetitions, 95u);
  EXPECT_FALSE(rf.sleeps.fitted);
  EXPECT_EQ(rf.sleeps.slope, 1);
  const auto j = estimate_json(few[0], rf, {});
  ASSERT_TRUE(j["adjusted"].is_object()) << j;
  EXPECT_NEAR(j["value"].get<double>(), 10'000 * rf.sleeps.to_ns / 9'000, 1e-6);
}

TEST(Answer, ARunThatRepeatsNothingComparesLatencyInMultiplesOfTheFloorAcrossRegimes) {
  // A --quick run: one repetition per benchmark. 80 met the host slow (cache line 500 ns,
  // wake-up 18-22 us), 40 fast (120 ns, 11-13 us); each round trip is 2x its wake-up floor.
  std::vector<benchmark_history> all;
  std::uint64_t order = 0;
  for (int b = 0; b < 120; ++b) {
    const bool slow = b < 80;
    const double wake = slow ? 18'000 + 1'000 * (b % 5) : 11'000 + 1'000 * (b % 3);
    std::string name = "m";  // (one += at a time, as in floor_bound_run)
    name += std::to_string(b);
    name += "/latency/64/cross";
    benchmark_history h{.name = name, .metric = "rtt_p50_ns", .samples = {}, .stopped = "budget"};
    add_sample(h, order, 2 * wake, slow ? 500 : 120);
    h.samples.back().wake_ns = wake;
    all.push_back(std::move(h));
  }
  const run_regimes r = find_regimes(all);
  ASSERT_EQ(r.found.list.size(), 2u);
  const int slow = r.found.reference;
  EXPECT_DOUBLE_EQ(r.found.list[static_cast<std::size_t>(slow)].median, 500);
  // Nothing repeated: no slope to fit, so 1, to the slow regime's median floor of 20 us.
  EXPECT_FALSE(r.sleeps.fitted);
  EXPECT_EQ(r.sleeps.slope, 1);
  EXPECT_DOUBLE_EQ(r.sleeps.to_ns, 20'000);
  // Measured fast beside 12 us (24 us) and slow beside 22 us (44 us): both 40 us at 20 us.
  for (int b : {4, 82}) {
    const auto j = estimate_json(all[static_cast<std::size_t>(b)], r, {});
    ASSERT_TRUE(j["adjusted"].is_object()) << b << j;
    EXPECT_NEAR(j["value"].get<double>(), 40'000, 1e-6) << b;
    EXPECT_EQ(j["adjusted"]["fitted"], false);
    EXPECT_EQ(j["regime"], b < 80 ? slow : 1 - slow);
  }
  EXPECT_NEAR(estimate_json(all[82], r, {})["adjusted"]["raw_value"].get<double>(), 24'000, 1e-6);
  // No receiver spins: nothing to take them to.
  EXPECT_EQ(r.spins.slope, 0);
  EXPECT_TRUE(regimes_json(r)["latency_to_floor"]["spins"]["to_ns"].is_null());
}

TEST(Answer, EachRegimeStatesItsOwnInterval) {
  benchmark_history bench{
      .name = "pipe/latency/64/cross", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  benchmark_history other{.name = "other", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  std::uint64_t order = 0;
  for (int i = 0; i < 5; ++i) add_sample(bench, order, 6000 + 100 * i, 120);  // fast: 6000..6400
  for (int i = 0; i < 3; ++i) add_sample(bench, order, 9000 + 100 * i, 530);  // slow
  for (int i = 0; i < 10; ++i) add_sample(other, order, 1000, 530);
  const run_regimes r = find_regimes({bench, other});
  ASSERT_EQ(r.found.list.size(), 2u);
  ASSERT_EQ(r.found.reference, 1);
  const auto j = estimate_json(bench, r, {});
  ASSERT_EQ(j["by_regime"].size(), 2u);
  // Five values in the fast regime: their median's interval at 90 % is their range (93.75 %).
  EXPECT_DOUBLE_EQ(j["by_regime"][0]["value"].get<double>(), 6200);
  EXPECT_EQ(j["by_regime"][0]["interval"], nlohmann::json({6000.0, 6400.0}));
  EXPECT_DOUBLE_EQ(j["by_regime"][0]["confidence"].get<double>(), 0.9375);
  // Three in the slow one, the reference: no interval there, nor for the estimate taken there.
  EXPECT_EQ(j["by_regime"][1]["repetitions"], 3);
  EXPECT_TRUE(j["by_regime"][1]["interval"].is_null());
  EXPECT_TRUE(j["by_regime"][1]["confidence"].is_null());
  EXPECT_TRUE(j["interval"].is_null());
}

TEST(Answer, WhatStoppedRunsOnceInEachRegimeOutsideTheReference) {
  benchmark_history done{.name = "pipe/throughput/1048576/cross",
                         .metric = "bytes_per_second",
                         .samples = {},
                         .stopped = "converged"};
  benchmark_history other{.name = "other", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  std::uint64_t order = 0;
  for (int i = 0; i < 5; ++i) add_sample(done, order, 1e9, 120);  // converged while fast
  for (int i = 0; i < 20; ++i) add_sample(other, order, 1000, 120);
  // One regime: nothing owed.
  EXPECT_FALSE(owes_regime(done, find_regimes({done, other}), 0));
  for (int i = 0; i < 6; ++i) add_sample(other, order, 1000, 530);
  run_regimes r = find_regimes({done, other});
  ASSERT_EQ(r.found.list.size(), 2u);
  ASSERT_EQ(r.found.reference, 0);  // the slow regime holds less than a quarter
  // In the slow regime it has no repetition: it owes one; in the reference, or unknown, none.
  EXPECT_TRUE(owes_regime(done, r, 1));
  EXPECT_FALSE(owes_regime(done, r, 0));
  EXPECT_FALSE(owes_regime(done, r, -1));
  // At its cap too; not while it goes on (the batches take it anyway), nor skipped or failed.
  for (const char* stopped : {"cap", "", "skipped", "failed", "budget"}) {
    benchmark_history h = done;
    h.stopped = stopped;
    EXPECT_EQ(owes_regime(h, r, 1), std::string(stopped) == "cap") << stopped;
  }
  // One repetition there pays it.
  add_sample(done, order, 0.8e9, 530);
  r = find_regimes({done, other});
  ASSERT_EQ(r.found.reference, 0);
  EXPECT_FALSE(owes_regime(done, r, 1));
}

TEST(Answer, NoFloorsNoRegimes) {
  benchmark_history h{.name = "x", .metric = "bytes_per_second", .samples = {}, .stopped = "cap"};
  for (int i = 0; i < 5; ++i) {
    repetition_sample s;
    s.order = static_cast<std::uint64_t>(i);
    s.ok = true;
    s.value = 1e9 + i;
    h.samples.push_back(s);
  }
  const run_regimes r = find_regimes({h});
  EXPECT_TRUE(regimes_json(r).is_null());
  const auto j = estimate_json(h, r, {});
  EXPECT_EQ(j["basis"], "all");
  EXPECT_TRUE(j["regime"].is_null());
  EXPECT_EQ(j["used"], 5);
  EXPECT_EQ(j["interval"][0], 1e9);
}

TEST(Answer, TheBudgetSetsAsideTheFirstRepetitionsStillOwed) {
  auto with = [](std::size_t reps, const char* stopped) {
    benchmark_history h{.name = "x", .metric = "rtt_p50_ns", .samples = {}, .stopped = stopped};
    h.samples.resize(reps);
    return h;
  };
  // 3 repetitions in 0.3 s so far: 0.1 s each; two benchmarks have not run, one of them skipped.
  const std::vector<benchmark_history> all = {with(2, ""), with(1, "converged"), with(0, ""),
                                              with(0, "skipped")};
  EXPECT_DOUBLE_EQ(owed_to_first_repetitions(all, {0.2, 0.1, 0, 0}), 0.1);
  // Nothing has run yet: nothing to price them at.
  EXPECT_EQ(owed_to_first_repetitions({with(0, ""), with(0, "")}, {0, 0}), 0);
  // Every benchmark has run: nothing owed.
  EXPECT_EQ(owed_to_first_repetitions({with(1, ""), with(3, "")}, {0.1, 0.3}), 0);
}

TEST(Answer, AMultimodalEstimateNamesItsModesAndTheirCause) {
  benchmark_history h{.name = "x", .metric = "bytes_per_second", .samples = {}, .stopped = "cap"};
  for (int i = 0; i < 9; ++i) {
    repetition_sample s;
    s.order = static_cast<std::uint64_t>(i);
    s.ok = true;
    const bool fast = i % 3 == 0;
    s.value = fast ? 46e9 : 6.9e9;
    s.cpu_ns_per_message = fast ? 25e3 : 100e3;
    h.samples.push_back(s);
  }
  const auto j = estimate_json(h, find_regimes({h}), {});
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["modes"][0]["share"].get<double>(), 6.0 / 9);
  EXPECT_NE(j["mode_cause"].get<std::string>().find("4.0x"), std::string::npos);
}

TEST(Answer, RepetitionsThatSpreadWithoutModesGetTheModesOfTheirBatchesParts) {
  // Four repetitions, 10 and 20 GB/s two each (too few a side for modes of the repetitions),
  // each one's four parts at its level but the last, which changes within its batch.
  benchmark_history h{.name = "x", .metric = "bytes_per_second", .samples = {}, .stopped = "cap"};
  const std::vector<std::vector<double>> parts = {{10e9, 10e9, 10.1e9, 9.9e9},
                                                  {20e9, 20e9, 20.2e9, 19.8e9},
                                                  {10e9, 9.8e9, 10.2e9, 10e9},
                                                  {20e9, 20.1e9, 10e9, 10.1e9}};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    repetition_sample s;
    s.order = i;
    s.ok = true;
    s.value = i % 2 == 0 ? 10e9 : 18e9;
    s.sub_values = parts[i];
    h.samples.push_back(s);
  }
  auto j = estimate_json(h, find_regimes({h}), {});
  ASSERT_EQ(j["modes"].size(), 2u) << j.dump();
  EXPECT_EQ(j["modes"][0]["sub_batches"], 10);
  EXPECT_EQ(j["modes"][0]["repetitions"], 3);
  EXPECT_DOUBLE_EQ(j["modes"][0]["share"].get<double>(), 10.0 / 16);
  EXPECT_EQ(j["modes"][1]["sub_batches"], 6);
  EXPECT_NE(j["mode_cause"].get<std::string>().find("1 of 4 repetitions have parts in more than "
                                                    "one"),
            std::string::npos)
      << j["mode_cause"];
  EXPECT_TRUE(j["spread_cause"].is_null());
  // A repetition whose batch was not split: no modes of parts.
  h.samples[3].sub_values.clear();
  j = estimate_json(h, find_regimes({h}), {});
  EXPECT_TRUE(j["modes"].is_null());
}

TEST(Answer, AModeWhereOnePeerWorksHarderPerMessageNamesThatPeer) {
  // tcp at 1 MiB on the development VM: two rates in one state of the host, the producer
  // spending 1.7x the CPU per message in the slow one, both peers together 1.4x.
  const auto bimodal = [](double producer_fast, double producer_slow, double consumer_fast,
                          double consumer_slow) {
    benchmark_history h{.name = "tcp/throughput/1048576/cross",
                        .metric = "bytes_per_second",
                        .samples = {},
                        .stopped = "cap"};
    for (int i = 0; i < 9; ++i) {
      repetition_sample s;
      s.order = static_cast<std::uint64_t>(i);
      s.ok = true;
      const bool fast = i % 3 == 0;
      s.value = fast ? 3.31e9 : 1.96e9;
      s.producer_cpu_ns_per_message = fast ? producer_fast : producer_slow;
      s.consumer_cpu_ns_per_message = fast ? consumer_fast : consumer_slow;
      s.cpu_ns_per_message = *s.producer_cpu_ns_per_message + *s.consumer_cpu_ns_per_message;
      s.wake_ns = 8e3;
      h.samples.push_back(s);
    }
    return estimate_json(h, find_regimes({h}), {});
  };
  auto j = bimodal(300e3, 510e3, 200e3, 190e3);
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_EQ(j["mode_cause"],
            "the producer's own CPU per message is 1.7x higher in the slow mode (both peers' "
            "1.4x)");
  // The consumer's, the same way round.
  j = bimodal(200e3, 190e3, 300e3, 510e3);
  EXPECT_EQ(j["mode_cause"],
            "the consumer's own CPU per message is 1.7x higher in the slow mode (both peers' "
            "1.4x)");
  // A peer that barely runs doubles its few microseconds: not named, and nothing else is.
  j = bimodal(495e3, 500e3, 5e3, 10e3);
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_TRUE(j["mode_cause"].is_null()) << j["mode_cause"];
  // Neither peer 1.5x: no cause.
  j = bimodal(300e3, 390e3, 200e3, 230e3);
  EXPECT_TRUE(j["mode_cause"].is_null()) << j["mode_cause"];
}

// A history with `values` as its ok repetitions, numbered from `order`.
benchmark_history history_of(const std::string& name, const std::vector<double>& values,
                             std::uint64_t order = 0) {
  benchmark_history h{.name = name, .metric = "rtt_p50_ns", .samples = {}, .stopped = "cap"};
  for (double v : values) {
    repetition_sample s;
    s.order = order++;
    s.ok = true;
    s.value = v;
    h.samples.push_back(s);
  }
  return h;
}

// Five latency repetitions, the last `slower` times the others, with the CPU per message and
// the wake-up floor given for the usual ones and the slow one.
benchmark_history outlier(double slower, double cpu, double slow_cpu, double wake,
                          double slow_wake) {
  benchmark_history h = history_of("x/latency/64/cross", {1e4, 1e4, 1.02e4, 0.98e4, 1e4 * slower});
  for (std::size_t i = 0; i < h.samples.size(); ++i) {
    const bool slow = i + 1 == h.samples.size();
    h.samples[i].cpu_ns_per_message = slow ? slow_cpu : cpu;
    h.samples[i].wake_ns = slow ? slow_wake : wake;
  }
  return h;
}

TEST(Answer, ASpreadWithoutModesNamesWhatTheSlowestRepetitionShows) {
  // The slow one took 2.5x as long and 5x the CPU: its peers were twice as busy.
  auto j = estimate_json(outlier(2.5, 1e4, 5e4, 7e3, 7e3), find_regimes({}), {});
  EXPECT_TRUE(j["modes"].is_null());
  EXPECT_NEAR(j["spread"].get<double>(), 2.5 / 0.98, 1e-9);
  EXPECT_NE(j["spread_cause"].get<std::string>().find("2.0x as busy"), std::string::npos)
      << j["spread_cause"];
  // Its peers spun for the whole of it (CPU in step with the time): no cause in that.
  j = estimate_json(outlier(2.5, 1e4, 2.5e4, 7e3, 7e3), find_regimes({}), {});
  EXPECT_TRUE(j["spread_cause"].is_null()) << j["spread_cause"];
  // The same, beside a wake-up floor 3x the others': the floor.
  j = estimate_json(outlier(2.5, 1e4, 2.5e4, 7e3, 21e3), find_regimes({}), {});
  EXPECT_NE(j["spread_cause"].get<std::string>().find("wake-up floor"), std::string::npos)
      << j["spread_cause"];
  // A blocking peer waited: the same CPU over 2.5x the time.
  j = estimate_json(outlier(2.5, 1e4, 1e4, 7e3, 7e3), find_regimes({}), {});
  EXPECT_NE(j["spread_cause"].get<std::string>().find("39 % as much"), std::string::npos)
      << j["spread_cause"];
  // Within 1.5x: nothing to explain.
  j = estimate_json(outlier(1.3, 1e4, 5e4, 7e3, 21e3), find_regimes({}), {});
  EXPECT_TRUE(j["spread_cause"].is_null());
  // Nothing measured shows it, but the mechanism's own threads share the peers' two CPUs: said
  // so, after what was measured (which still goes first).
  benchmark_history shared = outlier(2.5, 1e4, 2.5e4, 7e3, 7e3);
  shared.shared_cpus = 2;
  j = estimate_json(shared, find_regimes({}), {});
  EXPECT_EQ(j["spread_cause"],
            "the slowest repetition is 2.6x the fastest, and nothing measured beside them shows "
            "why; the mechanism runs threads of its own beside the peers (library_threads), on "
            "the same 2 CPUs");  // 2.5 / 0.98
  shared.samples.back().wake_ns = 21e3;
  j = estimate_json(shared, find_regimes({}), {});
  EXPECT_NE(j["spread_cause"].get<std::string>().find("wake-up floor"), std::string::npos);
  // Within 1.5x it has nothing to explain either.
  shared = outlier(1.3, 1e4, 1.3e4, 7e3, 7e3);
  shared.shared_cpus = 2;
  EXPECT_TRUE(estimate_json(shared, find_regimes({}), {})["spread_cause"].is_null());
}

TEST(Answer, ASpreadThatOneRepetitionMakesAloneIsNamedAsThatRepetition) {
  // Four within 1.04x and the last 2.5x their median: that one, by its order.
  auto j = estimate_json(history_of("x/latency/64/cross", {1e4, 1.02e4, 0.98e4, 1e4, 2.5e4}, 40),
                         find_regimes({}), {});
  ASSERT_TRUE(j["spread_outlier"].is_object()) << j;
  EXPECT_EQ(j["spread_outlier"]["order"], 44);
  EXPECT_EQ(j["spread_outlier"]["value"], 2.5e4);
  EXPECT_NEAR(j["spread_outlier"]["ratio"].get<double>(), 2.5, 1e-9);
  EXPECT_EQ(j["spread_outlier"]["rest"], 4);
  EXPECT_NEAR(j["spread_outlier"]["rest_spread"].get<double>(), 1.02 / 0.98, 1e-9);
  EXPECT_TRUE(j["modes"].is_null());
  // A fast one on its own is the same: 0.4x.
  j = estimate_json(history_of("x/latency/64/cross", {1e4, 1.02e4, 0.4e4, 1e4, 0.98e4}),
                    find_regimes({}), {});
  ASSERT_TRUE(j["spread_outlier"].is_object()) << j;
  EXPECT_EQ(j["spread_outlier"]["order"], 2);
  EXPECT_NEAR(j["spread_outlier"]["ratio"].get<double>(), 0.4, 1e-9);
  // Two apart (1:3 with two members a side is modes, or a scatter): not one repetition's doing.
  j = estimate_json(history_of("x/latency/64/cross", {1e4, 1.02e4, 0.98e4, 2.5e4, 2.6e4}),
                    find_regimes({}), {});
  EXPECT_TRUE(j["spread_outlier"].is_null()) << j;
  // A scatter that stays over 1.5x without either end.
  j = estimate_json(history_of("x/latency/64/cross", {1e4, 1.3e4, 1.7e4, 2.2e4, 2.9e4}),
                    find_regimes({}), {});
  EXPECT_TRUE(j["spread_outlier"].is_null()) << j;
  // Too few to say the others agree: three, one of them 2.5x.
  j = estimate_json(history_of("x/latency/64/cross", {1e4, 1e4, 2.5e4}), find_regimes({}), {});
  EXPECT_TRUE(j["spread_outlier"].is_null()) << j;
  // Within the limit: nothing to name.
  j = estimate_json(history_of("x/latency/64/cross", {1e4, 1e4, 1e4, 1e4, 1.4e4}), find_regimes({}),
                    {});
  EXPECT_TRUE(j["spread_outlier"].is_null()) << j;
}

TEST(Answer, RepetitionsDuringWhoseBatchTheHostStoleThePeersCpusAreLeftOutWhereOthersRemain) {
  // The slow one had a 10 ms tick of steal time: left out, counted, and the rest judged alone.
  benchmark_history h = history_of("x/latency/64/cross", {1e4, 1.02e4, 0.98e4, 1e4, 2.5e4});
  for (auto& s : h.samples) s.steal_ns = 0;
  h.samples.back().steal_ns = 10'000'000;
  auto j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["stolen"], 1);
  EXPECT_EQ(j["used"], 4);
  EXPECT_EQ(j["repetitions"], 5);
  EXPECT_NEAR(j["spread"].get<double>(), 1.02 / 0.98, 1e-9);
  EXPECT_EQ(j["value"], 1e4);
  // Steal not read (nullopt) is no steal: all five.
  h.samples.back().steal_ns.reset();
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["stolen"], 0);
  EXPECT_EQ(j["used"], 5);
  // Every one with steal time: none is left out, for there would be nothing left.
  for (auto& s : h.samples) s.steal_ns = 10'000'000;
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["stolen"], 0);
  EXPECT_EQ(j["used"], 5);
}

TEST(Answer, RepetitionsWhosePeersWaitedForTheirCpusAreLeftOutOnlyWhereTheCpusWereTheirs) {
  // The slow one's peer waited runnable for its CPU a fifth of its batch (a kernel thread ran
  // there), the others well under 1 %; each peer had a CPU of its own: left out and counted.
  benchmark_history h = history_of("x/latency/64/cross", {1e4, 1.02e4, 0.98e4, 1e4, 1.7e4});
  for (auto& s : h.samples) {
    s.alone = true;
    s.waited_share = 0.004;
  }
  h.samples.back().waited_share = 0.2;
  auto j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["preempted"], 1);
  EXPECT_EQ(j["stolen"], 0);
  EXPECT_EQ(j["used"], 4);
  EXPECT_NEAR(j["spread"].get<double>(), 1.02 / 0.98, 1e-9);
  // Just under the share beyond the others' wait: kept; just over it: left out.
  h.samples.back().waited_share = 0.004 + kPreemptedShare * 0.99;
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["preempted"], 0);
  EXPECT_EQ(j["used"], 5);
  h.samples.back().waited_share = 0.004 + kPreemptedShare * 1.01;
  EXPECT_EQ(estimate_json(h, find_regimes({}), {})["preempted"], 1);
  // Steal time as well: counted once, as steal.
  h.samples.back().steal_ns = 10'000'000;
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["stolen"], 1);
  EXPECT_EQ(j["preempted"], 0);
  h.samples.back().steal_ns.reset();
  // Peers that did not have their CPUs to themselves (a helper, library threads, a shared CPU)
  // wait for the mechanism's own threads as well: nothing is left out, and the wait is named.
  for (auto& s : h.samples) s.alone = false;
  h.samples.back().waited_share = 0.2;
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["preempted"], 0);
  EXPECT_EQ(j["used"], 5);
  ASSERT_TRUE(j["spread_cause"].is_string()) << j;
  EXPECT_EQ(j["spread_cause"],
            "a peer of the slowest repetition (1.7x the fastest) waited for its CPU, runnable, "
            "20 % of its timed batch, another thread running there (the fastest's 0 %)");
  // A wait not read (nullopt) is no wait.
  for (auto& s : h.samples) {
    s.alone = true;
    s.waited_share.reset();
  }
  EXPECT_EQ(estimate_json(h, find_regimes({}), {})["preempted"], 0);
  // A mechanism that waits as a rule (the kernel works beside the peers in every batch): only a
  // wait beyond its usual one counts. Its usual is 0.1, so 0.14 is kept and 0.2 left out.
  for (auto& s : h.samples) s.waited_share = 0.1;
  h.samples.back().waited_share = 0.14;
  EXPECT_EQ(estimate_json(h, find_regimes({}), {})["preempted"], 0);
  h.samples.back().waited_share = 0.2;
  EXPECT_EQ(estimate_json(h, find_regimes({}), {})["preempted"], 1);
  // Every one waited long: none beyond the usual, none left out.
  for (auto& s : h.samples) s.waited_share = 0.3;
  j = estimate_json(h, find_regimes({}), {});
  EXPECT_EQ(j["preempted"], 0);
  EXPECT_EQ(j["used"], 5);
}

TEST(Answer, RepetitionsDuringWhichTheHostMovedAreLeftOutAndCounted) {
  // Four with a cache-line floor beside them; the slow one's floors before and after differed
  // (moved), so it has none: it belongs to no regime, and the estimate says it left it out.
  benchmark_history h = history_of("x/latency/64/cross", {1e4, 1.02e4, 0.98e4, 1e4, 2.5e4});
  for (auto& s : h.samples) s.line_ns = 130;
  h.samples.back().line_ns.reset();
  h.samples.back().moved = true;
  auto j = estimate_json(h, find_regimes({h}), {});
  EXPECT_EQ(j["moved"], 1);
  EXPECT_EQ(j["used"], 4);
  EXPECT_NEAR(j["spread"].get<double>(), 1.02 / 0.98, 1e-9);
  // Without floors at all there are no regimes, and nothing is left out for moving.
  for (auto& s : h.samples) s.line_ns.reset();
  j = estimate_json(h, find_regimes({h}), {});
  EXPECT_EQ(j["moved"], 0);
  EXPECT_EQ(j["used"], 5);
}

// Latency repetitions with where the library's threads ran beside each (the producer's/the
// consumer's): the spread's modes by placement, where the placements account for it.
benchmark_history placed(const std::vector<std::pair<double, const char*>>& reps) {
  std::vector<double> values;
  for (const auto& [v, where] : reps) values.push_back(v);
  benchmark_history h = history_of("zeromq.tcp/latency/64/cross", values);
  h.shared_cpus = 2;
  for (std::size_t i = 0; i < reps.size(); ++i) {
    h.samples[i].cpu_ns_per_message = h.samples[i].value;  // the CPU in step with the time
    if (reps[i].second) h.samples[i].library_placement = reps[i].second;
  }
  return h;
}

TEST(Answer, ASpreadThatTheLibraryThreadsPlacementsAccountForHasTheirModes) {
  // Overlapping levels (no gap of 1.2x between sorted values, so no modes of the values), each
  // placement's repetitions within 1.5x: 38-50 us with the threads on their peers' CPUs, 48-60
  // us with them on the other CPU.
  const std::vector<std::pair<double, const char*>> reps = {
      {38e3, "own/own"}, {48e3, "other/other"}, {40e3, "own/own"}, {55e3, "other/other"},
      {42e3, "own/own"}, {58e3, "other/other"}, {50e3, "own/own"}, {60e3, "other/other"}};
  auto j = estimate_json(placed(reps), find_regimes({}), {});
  ASSERT_TRUE(j["modes"].is_array()) << j;
  ASSERT_EQ(j["modes"].size(), 2u);
  EXPECT_EQ(j["modes"][0]["library_placement"], "own/own");
  EXPECT_DOUBLE_EQ(j["modes"][0]["value"].get<double>(), 41e3);
  EXPECT_EQ(j["modes"][0]["repetitions"], 4);
  EXPECT_EQ(j["modes"][1]["library_placement"], "other/other");
  EXPECT_DOUBLE_EQ(j["modes"][1]["value"].get<double>(), 56.5e3);
  EXPECT_DOUBLE_EQ(j["modes"][1]["share"].get<double>(), 0.5);
  EXPECT_EQ(j["mode_cause"],
            "where the scheduler put the library's threads (on the producer's/consumer's own CPU, "
            "another, or mixed): other/other in 4; own/own in 4 repetitions, the slowest mode "
            "1.4x the fastest");
  EXPECT_TRUE(j["spread_cause"].is_null());
  // The estimate is still the median of them all.
  EXPECT_DOUBLE_EQ(j["value"].get<double>(), 49e3);

  // Placements that make no difference (medians within 1.2x) are one mode.
  auto three = reps;
  three[0].second = three[2].second = "own/mixed";
  j = estimate_json(placed(three), find_regimes({}), {});
  ASSERT_EQ(j["modes"].size(), 2u) << j;
  EXPECT_EQ(j["modes"][0]["library_placement"], "own/mixed, own/own");

  // A repetition without a placement: they cannot account for the spread.
  auto unmeasured = reps;
  unmeasured[7].second = nullptr;
  j = estimate_json(placed(unmeasured), find_regimes({}), {});
  EXPECT_TRUE(j["modes"].is_null()) << j;

  // One placement's repetitions spread over 1.5x themselves: no modes.
  auto wide = reps;
  wide[6].first = 65e3;  // own/own 38-65 us
  j = estimate_json(placed(wide), find_regimes({}), {});
  EXPECT_TRUE(j["modes"].is_null()) << j;
}

TEST(Answer, AnOutlierWithAPlacementOfItsOwnIsNoModeButItsPlacementIsNamed) {
  // Six repetitions, the last one 2x slower with its threads where `slow_where` says: a
  // placement of two repetitions or fewer is no mode (among sixteen placements one outlier
  // nearly always has its own).
  const auto one_slow = [](const char* slow_where) {
    return placed({{40e3, "own/own"},
                   {41e3, "own/own"},
                   {39e3, "own/own"},
                   {40e3, "own/own"},
                   {42e3, "own/own"},
                   {80e3, slow_where}});
  };
  auto j = estimate_json(one_slow("other/own"), find_regimes({}), {});
  EXPECT_TRUE(j["modes"].is_null()) << j;
  EXPECT_EQ(j["spread_cause"],
            "the slowest repetition (2.1x the fastest) had the library's threads at other/own "
            "(the producer's/consumer's: own CPU, other, mixed or idle), the fastest at own/own");
  // Placed alike, the placement names nothing.
  j = estimate_json(one_slow("own/own"), find_regimes({}), {});
  EXPECT_TRUE(j["modes"].is_null()) << j;
  EXPECT_NE(j["spread_cause"].get<std::string>().find("nothing measured beside them"),
            std::string::npos)
      << j["spread_cause"];
}

TEST(Answer, AThroughputSpreadNamesALowerCopyFloorBesideTheSlowestRepetition) {
  // Five throughput repetitions, the last at 0.6x the others' rate, its peers as busy per unit
  // of time as in the others (the CPU in step with the time: no cause), with the copy floor
  // beside it `lower` times below the others'.
  auto throughput = [](double lower) {
    benchmark_history h = history_of("x/throughput/65536/cross", {5e9, 5e9, 5.1e9, 4.9e9, 3e9});
    h.metric = "bytes_per_second";
    for (std::size_t i = 0; i < h.samples.size(); ++i) {
      const bool slow = i + 1 == h.samples.size();
      h.samples[i].cpu_ns_per_message = 65536 / h.samples[i].value * 2e9;
      h.samples[i].copy_bps = slow ? 18e9 / lower : 18e9;
    }
    return h;
  };
  auto j = estimate_json(throughput(1.4), find_regimes({}), {});
  ASSERT_TRUE(j["spread_cause"].is_string()) << j;
  EXPECT_EQ(j["spread_cause"],
            "the copy floor beside the slowest repetition (1.7x the fastest) is 1.4x lower than "
            "the fastest's");  // 5.1 / 3
  // Within 1.3x of the others' it is no cause.
  EXPECT_TRUE(estimate_json(throughput(1.2), find_regimes({}), {})["spread_cause"].is_null());
  // A copy floor higher beside the slowest names nothing either.
  EXPECT_TRUE(estimate_json(throughput(0.5), find_regimes({}), {})["spread_cause"].is_null());
  // Latency is bound by the wake-up or cache-line round trip: a copy floor beside it is no cause.
  benchmark_history latency = outlier(2.5, 1e4, 2.5e4, 7e3, 7e3);
  latency.samples.back().copy_bps = 1e9;
  for (std::size_t i = 0; i + 1 < latency.samples.size(); ++i) latency.samples[i].copy_bps = 18e9;
  EXPECT_TRUE(estimate_json(latency, find_regimes({}), {})["spread_cause"].is_null());
}

TEST(Answer, ProcessTaxHasAWinnerATieAndAnUntestedCase) {
  const std::vector<benchmark_history> all = {
      // Latency: processes about 20 us, threads about 10 us: 2x, each interval [min, max] of 5.
      history_of("pipe/latency/64/cross", {19e3, 20e3, 20e3, 21e3, 20e3}),
      history_of("pipe/latency/64/cross.threads", {9e3, 10e3, 11e3, 10e3, 10e3}),
      // Throughput, overlapping: a tie.
      history_of("pipe/throughput/65536/cross", {0.9e9, 1e9, 1.1e9, 1e9, 1e9}),
      history_of("pipe/throughput/65536/cross.threads", {0.95e9, 1.05e9, 1.2e9, 1.05e9, 1.05e9}),
      // Throughput where thread peers are slower: processes faster.
      history_of("unix_stream/throughput/64/cross", {1.9e8, 2e8, 2.1e8, 2e8, 2e8}),
      history_of("unix_stream/throughput/64/cross.threads", {0.9e8, 1e8, 1.1e8, 1e8, 1e8}),
      // Too few repetitions for an interval: untested, and why.
      history_of("fifo/latency/64/cross", {30e3, 30e3, 30e3}),
      history_of("fifo/latency/64/cross.threads", {20e3, 20e3, 20e3, 20e3, 20e3}),
      // Processes only: no row.
      history_of("tcp/latency/64/cross", {50e3, 50e3, 50e3, 50e3, 50e3}),
      // Thread peers skipped (no ok repetition): no row.
      history_of("signal/latency/0/cross", {60e3, 60e3, 60e3, 60e3, 60e3}),
      history_of("signal/latency/0/cross.threads", {})};
  const auto rows = process_tax_json(all, find_regimes(all), 0.9);
  ASSERT_EQ(rows.size(), 4u) << rows.dump(1);
  std::map<std::string, nlohmann::json> by;
  for (const auto& r : rows)
    by[r["id"].get<std::string>() + "/" + r["pattern"].get<std::string>()] = r;
  const auto& lat = by.at("pipe/latency");
  EXPECT_DOUBLE_EQ(lat["ratio"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(lat["interval"][0].get<double>(), 19e3 / 11e3);
  EXPECT_DOUBLE_EQ(lat["interval"][1].get<double>(), 21e3 / 9e3);
  EXPECT_EQ(lat["verdict"], "processes slower");
  EXPECT_TRUE(lat["regime"].is_null());  // no floors: no regimes
  EXPECT_FALSE(lat.contains("why"));
  const auto& thr = by.at("pipe/throughput");
  EXPECT_DOUBLE_EQ(thr["ratio"].get<double>(), 1.05);
  EXPECT_EQ(thr["verdict"], "tie");
  EXPECT_EQ(by.at("unix_stream/throughput")["verdict"], "processes faster");
  const auto& untested = by.at("fifo/latency");
  EXPECT_EQ(untested["verdict"], "untested");
  EXPECT_TRUE(untested["interval"].is_null());
  EXPECT_DOUBLE_EQ(untested["ratio"].get<double>(), 1.5);
  // A median's 90 % interval needs 5 repetitions (1 - 2/32 >= 0.9; 1 - 2/16 < 0.9).
  const std::string why = untested["why"].get<std::string>();
  EXPECT_NE(why.find("need 5 repetitions"), std::string::npos) << why;
  EXPECT_NE(why.find("had 3 of processes and 5 of threads"), std::string::npos) << why;
}

TEST(Answer, NamespaceTaxComparesTcpAcrossAVethWithLoopback) {
  const std::vector<benchmark_history> all = {
      // Latency: 30 us across the veth, 20 us over loopback: 1.5x, intervals apart.
      history_of("tcp.netns/latency/64/cross", {29e3, 30e3, 30e3, 31e3, 30e3}),
      history_of("tcp/latency/64/cross", {19e3, 20e3, 20e3, 21e3, 20e3}),
      // Throughput, overlapping: a tie.
      history_of("tcp.netns/throughput/65536/cross", {0.9e9, 1e9, 1.1e9, 1e9, 1e9}),
      history_of("tcp/throughput/65536/cross", {0.95e9, 1.05e9, 1.2e9, 1.05e9, 1.05e9}),
      // No loopback twin, or thread peers: no row.
      history_of("tcp.netns/latency/4096/cross", {30e3, 30e3, 30e3, 30e3, 30e3}),
      history_of("tcp.netns/latency/64/cross.threads", {30e3, 30e3, 30e3, 30e3, 30e3}),
      history_of("tcp/latency/64/cross.threads", {20e3, 20e3, 20e3, 20e3, 20e3})};
  const auto rows = namespace_tax_json(all, find_regimes(all), 0.9);
  ASSERT_EQ(rows.size(), 2u) << rows.dump(1);
  const auto& lat = rows[0]["pattern"] == "latency" ? rows[0] : rows[1];
  const auto& thr = rows[0]["pattern"] == "latency" ? rows[1] : rows[0];
  EXPECT_EQ(lat["id"], "tcp");
  EXPECT_DOUBLE_EQ(lat["ratio"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(lat["netns"].get<double>(), 30e3);
  EXPECT_DOUBLE_EQ(lat["loopback"].get<double>(), 20e3);
  EXPECT_EQ(lat["repetitions"]["netns"], 5);
  EXPECT_EQ(lat["verdict"], "namespaces slower");
  EXPECT_EQ(thr["verdict"], "tie");
  // The process tax pairs each id with its own thread form only: tcp and tcp.netns at 64 B.
  const auto tax = process_tax_json(all, find_regimes(all), 0.9);
  ASSERT_EQ(tax.size(), 2u) << tax.dump(1);
  EXPECT_NE(tax[0]["id"], tax[1]["id"]);
}

TEST(Answer, RelayTaxComparesEachRelayWithTheDirectPipe) {
  const std::vector<benchmark_history> all = {
      history_of("pipe/latency/64/cross", {9e3, 10e3, 10e3, 11e3, 10e3}),
      history_of("pipe.relay/latency/64/cross", {19e3, 20e3, 20e3, 21e3, 20e3}),
      history_of("pipe.relay.splice/latency/64/cross", {17e3, 18e3, 18e3, 19e3, 18e3}),
      // No direct twin at this size: no row.
      history_of("pipe.relay/latency/4096/cross", {20e3, 20e3, 20e3, 20e3, 20e3})};
  const auto rows = relay_tax_json(all, find_regimes(all), 0.9);
  ASSERT_EQ(rows.size(), 2u) << rows.dump(1);
  EXPECT_EQ(rows[0]["id"], "pipe.relay");
  EXPECT_DOUBLE_EQ(rows[0]["ratio"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(rows[0]["relayed"].get<double>(), 20e3);
  EXPECT_DOUBLE_EQ(rows[0]["direct"].get<double>(), 10e3);
  EXPECT_EQ(rows[0]["verdict"], "relay slower");
  EXPECT_EQ(rows[1]["id"], "pipe.relay.splice");
  EXPECT_DOUBLE_EQ(rows[1]["ratio"].get<double>(), 1.8);
  EXPECT_TRUE(namespace_tax_json(all, find_regimes(all), 0.9).empty());
}

TEST(Answer, TaxRowsComeBySizeAsANumberAndPrintADashForWhatTheyLack) {
  const std::vector<benchmark_history> all = {
      history_of("pipe/latency/64/cross", {9e3, 10e3, 10e3, 11e3, 10e3}),
      history_of("pipe.relay/latency/64/cross", {19e3, 20e3, 20e3, 21e3, 20e3}),
      history_of("pipe/latency/4096/cross", {10e3, 10e3, 10e3}),
      history_of("pipe.relay/latency/4096/cross", {20e3, 20e3, 20e3}),
      history_of("pipe/latency/1048576/cross", {500e3, 500e3, 500e3, 500e3, 500e3}),
      history_of("pipe.relay/latency/1048576/cross", {700e3, 700e3, 700e3, 700e3, 700e3})};
  const auto rows = relay_tax_json(all, find_regimes(all), 0.9);
  ASSERT_EQ(rows.size(), 3u) << rows.dump(1);
  // By size as a number, not as text (which puts 1048576 before 4096 before 64).
  EXPECT_EQ(rows[0]["message_size"], 64);
  EXPECT_EQ(rows[1]["message_size"], 4096);
  EXPECT_EQ(rows[2]["message_size"], 1048576);

  const std::string tested = tax_line(rows[0]);
  EXPECT_NE(tested.find("2.00x"), std::string::npos) << tested;
  EXPECT_NE(tested.find("[1.73, 2.33]"), std::string::npos) << tested;
  EXPECT_NE(tested.find("relay slower"), std::string::npos) << tested;
  // Three repetitions: a ratio, no interval, and why.
  const std::string short_of = tax_line(rows[1]);
  EXPECT_NE(short_of.find("2.00x  -"), std::string::npos) << short_of;
  EXPECT_NE(short_of.find("untested: the medians' intervals need 5 repetitions"), std::string::npos)
      << short_of;
  // A row with neither ratio nor interval (no regime both forms ran in), and an open upper end.
  nlohmann::json none = rows[1];
  none["ratio"] = nullptr;
  none["why"] = "untested: no regime of the host in which both forms ran";
  const std::string bare = tax_line(none);
  EXPECT_EQ(bare.find("nan"), std::string::npos) << bare;
  EXPECT_NE(bare.find(" -  "), std::string::npos) << bare;
  nlohmann::json open = rows[0];
  open["interval"] = {1.5, nullptr};
  EXPECT_NE(tax_line(open).find("[1.50, inf]"), std::string::npos) << tax_line(open);
}

TEST(Answer, ProcessTaxComparesBothFormsInTheRegimeBothMetMost) {
  // The host's regimes from the floors: repetitions 0-9 at ~130 ns, 10-19 at ~530 ns.
  auto with_floors = [](benchmark_history h) {
    for (auto& s : h.samples) s.line_ns = s.order < 10 ? 130.0 : 530.0;
    return h;
  };
  // Processes ran 3 times in regime 0 and 6 times in regime 1; threads 6 and 6. In regime 1
  // both are at 20 us; regime 0 alone (processes 10 us there) would have made it look 2x.
  std::vector<benchmark_history> all = {
      with_floors(history_of("pipe/latency/64/cross", {10e3, 10e3, 10e3})),
      with_floors(
          history_of("pipe/latency/64/cross.threads", {10e3, 10e3, 10e3, 10e3, 10e3, 10e3}, 3))};
  auto late = history_of("pipe/latency/64/cross", {20e3, 20e3, 20e3, 20e3, 20e3, 20e3}, 10);
  auto late_t =
      history_of("pipe/latency/64/cross.threads", {20e3, 20e3, 20e3, 20e3, 20e3, 20e3}, 14);
  for (auto& s : late.samples) all[0].samples.push_back(s);
  for (auto& s : late_t.samples) all[1].samples.push_back(s);
  all[0] = with_floors(all[0]);
  all[1] = with_floors(all[1]);
  const auto r = find_regimes(all);
  ASSERT_EQ(r.found.list.size(), 2u);
  const auto rows = process_tax_json(all, r, 0.9);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["regime"], 1);
  EXPECT_DOUBLE_EQ(rows[0]["ratio"].get<double>(), 1.0);
  EXPECT_EQ(rows[0]["repetitions"]["processes"], 6);
  EXPECT_EQ(rows[0]["verdict"], "tie");
}

// 40 latency benchmarks of 16 repetitions each, interleaved as a run interleaves them (the k-th
// repetition of benchmark j at order 40 k + j), every one at 1000 ns with a cache line of 130 ns,
// except where `slow(j, order)` says 1300 ns.
template <class Slow>
std::vector<benchmark_history> interleaved_histories(Slow slow) {
  std::vector<benchmark_history> all(40);
  for (std::size_t j = 0; j < all.size(); ++j) {
    std::string name = "m";  // built in steps: GCC 12's -Wrestrict on "m" + to_string
    name += std::to_string(j);
    name += "/latency/64/cross";
    all[j] = {.name = name, .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  }
  for (std::uint64_t k = 0; k < 16; ++k)
    for (std::size_t j = 0; j < all.size(); ++j) {
      std::uint64_t order = 40 * k + j;
      add_sample(all[j], order, slow(j, 40 * k + j) ? 1300.0 : 1000.0, 130);
    }
  return all;
}

TEST(Answer, AStretchWhereEveryBenchmarkRanSlowerIsADisturbanceTheEstimatesLeaveOut) {
  // Every benchmark 30 % slower in the repetitions of orders 256 to 511 (six or seven of each
  // one's sixteen), with the floor unmoved: one disturbance, 23 % less speed.
  const auto all =
      interleaved_histories([](std::size_t, std::uint64_t o) { return o >= 256 && o < 512; });
  const run_regimes r = find_regimes(all);
  ASSERT_EQ(r.found.list.size(), 1u);
  ASSERT_EQ(r.disturbed.size(), 1u);
  EXPECT_EQ(r.disturbed[0].first, 256u);
  EXPECT_EQ(r.disturbed[0].last, 511u);
  EXPECT_EQ(r.disturbed[0].repetitions, 256u);
  ASSERT_TRUE(r.disturbed[0].latency);
  EXPECT_NEAR(*r.disturbed[0].latency, 1000.0 / 1300.0 - 1.0, 1e-12);
  EXPECT_FALSE(r.disturbed[0].throughput);
  EXPECT_TRUE(r.in_disturbance(300));
  EXPECT_FALSE(r.in_disturbance(512));
  EXPECT_EQ(r.of(300), std::optional(0));  // it keeps its regime
  // Benchmark 0 ran at orders 280, 320, ..., 480 in it: six repetitions left out, ten kept.
  const basis b = basis_of(all[0], r);
  EXPECT_EQ(b.disturbed, 6u);
  EXPECT_EQ(b.raw, std::vector<double>(10, 1000.0));
  const auto j = estimate_json(all[0], r, estimate::stop_rule{});
  EXPECT_EQ(j["disturbed"], 6);
  EXPECT_EQ(j["used"], 10);
  const auto doc = regimes_json(r)["disturbed"];
  EXPECT_EQ(doc["stretches"].size(), 1u);
  EXPECT_EQ(doc["stretches"][0]["first_order"], 256);
  EXPECT_TRUE(doc["stretches"][0]["throughput_change"].is_null());
}

TEST(Answer, NoDisturbanceWhereOneBenchmarkOrASmallChangeMoved) {
  // One benchmark of forty slower there: the stretch's median does not move.
  EXPECT_TRUE(find_regimes(interleaved_histories([](std::size_t j, std::uint64_t o) {
                return j == 0 && o >= 256 && o < 512;
              })).disturbed.empty());
  // Every benchmark slower in the run's last 88 repetitions (orders 512 to 599, where it
  // ends): too few to judge a stretch by.
  auto ending = interleaved_histories([](std::size_t, std::uint64_t o) { return o >= 512; });
  for (auto& h : ending)
    std::erase_if(h.samples, [](const repetition_sample& s) { return s.order >= 600; });
  EXPECT_TRUE(find_regimes(ending).disturbed.empty());
  // Every benchmark 5 % slower there: under the 10 % a disturbance needs.
  auto small =
      interleaved_histories([](std::size_t, std::uint64_t o) { return o >= 256 && o < 512; });
  for (auto& h : small)
    for (auto& s : h.samples)
      if (s.value == 1300.0) s.value = 1050.0;
  EXPECT_TRUE(find_regimes(small).disturbed.empty());
}

TEST(Answer, ABenchmarkWhoseRegimeHasOnlyDisturbedRepetitionsKeepsThem) {
  auto all =
      interleaved_histories([](std::size_t, std::uint64_t o) { return o >= 256 && o < 512; });
  // Benchmark 0 ran only three times, all in the disturbance (orders 280, 320 and 360): its
  // estimate keeps them, the only answer it has in its regime.
  std::erase_if(all[0].samples, [](const repetition_sample& s) {
    return s.order != 280 && s.order != 320 && s.order != 360;
  });
  ASSERT_EQ(all[0].samples.size(), 3u);
  const run_regimes r = find_regimes(all);
  ASSERT_EQ(r.disturbed.size(), 1u);
  const basis b = basis_of(all[0], r);
  EXPECT_EQ(b.disturbed, 0u);
  EXPECT_EQ(b.raw, std::vector<double>(3, 1300.0));
}

// The interleaved run with the repetitions at the orders `spell` picks `slower` times slower.
std::vector<benchmark_history> with_spell(double slower, auto spell) {
  auto all = interleaved_histories([](std::size_t, std::uint64_t) { return false; });
  for (auto& h : all)
    for (auto& s : h.samples)
      if (spell(s.order)) s.value *= slower;
  return all;
}

TEST(Answer, ASpreadTheRunsPaceBesideItAccountsForIsPutDownToIt) {
  // Every benchmark 1.6x slower in one round of the forty (orders 200 to 239): too short for a
  // disturbance, and each benchmark's repetition there 1.6x its fifteen others.
  const auto all = with_spell(1.6, [](std::uint64_t o) { return o >= 200 && o < 240; });
  const run_regimes r = find_regimes(all);
  EXPECT_TRUE(r.disturbed.empty());
  // Benchmark 20 ran at order 220, its eight neighbours either side in the spell too.
  const auto& h = all[20];
  ASSERT_TRUE(r.pace_beside(220, h));
  EXPECT_NEAR(*r.pace_beside(220, h), 1 / 1.6, 1e-12);
  EXPECT_NEAR(*r.pace_beside(60, h), 1.0, 1e-12);
  auto j = estimate_json(h, r, estimate::stop_rule{});
  EXPECT_NEAR(j["spread"].get<double>(), 1.6, 1e-12);
  ASSERT_TRUE(j["spread_at_run_pace"].is_number()) << j.dump();
  EXPECT_NEAR(j["spread_at_run_pace"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j["spread_cause"],
            "the run beside the slowest repetition (1.6x the fastest) ran at 62 % of its usual "
            "pace, beside the fastest at 100 % (the other benchmarks' repetitions next to them); "
            "at the run's pace they spread 1.00x");

  // The same repetition slow alone: its neighbours kept their pace, nothing is put down to it.
  auto alone = with_spell(1.0, [](std::uint64_t) { return false; });
  alone[20].samples[5].value *= 1.6;
  ASSERT_EQ(alone[20].samples[5].order, 220u);
  const run_regimes quiet = find_regimes(alone);
  EXPECT_NEAR(*quiet.pace_beside(220, alone[20]), 1.0, 1e-12);
  j = estimate_json(alone[20], quiet, estimate::stop_rule{});
  EXPECT_NEAR(j["spread"].get<double>(), 1.6, 1e-12);
  EXPECT_TRUE(j["spread_at_run_pace"].is_null());
  EXPECT_TRUE(j["spread_cause"].is_null()) << j["spread_cause"];  // nothing else measured shows why

  // Its neighbours 3 % slower: under the 5 % the pace must differ by, by chance alone.
  auto little = with_spell(1.03, [](std::uint64_t o) { return o >= 200 && o < 240; });
  little[20].samples[5].value *= 1.6 / 1.03;
  const run_regimes near = find_regimes(little);
  EXPECT_NEAR(*near.pace_beside(220, little[20]), 1 / 1.03, 1e-12);
  EXPECT_TRUE(
      estimate_json(little[20], near, estimate::stop_rule{})["spread_at_run_pace"].is_null());
}

TEST(Answer, AThroughputEstimateIsTakenAtTheRunsPace) {
  // Forty throughput benchmarks, 1000 a repetition, each at 800 in the spell of orders 150 to
  // 329 (four or five of its sixteen repetitions), with the floor unmoved. Benchmark 0 keeps only
  // rounds 0 to 7 (orders 0 to 280): half of what it has lies in the spell, and its median falls
  // to 900.
  auto all = with_spell(1.0, [](std::uint64_t) { return false; });
  for (auto& h : all) {
    h.metric = "bytes_per_second";
    for (auto& s : h.samples)
      if (s.order >= 150 && s.order < 330) s.value = 800.0;
  }
  std::erase_if(all[0].samples, [](const repetition_sample& s) { return s.order >= 320; });
  ASSERT_EQ(all[0].samples.size(), 8u);
  const run_regimes r = find_regimes(all);
  // Its neighbours ran at 80 % of their own medians in the spell, at 100 % outside it.
  EXPECT_NEAR(*r.pace_beside(160, all[0]), 0.8, 1e-12);
  EXPECT_NEAR(*r.pace_beside(120, all[0]), 1.0, 1e-12);
  const basis b = basis_of(all[0], r);
  EXPECT_TRUE(b.at_pace);
  EXPECT_EQ(b.values, std::vector<double>(8, 1000.0));
  auto j = estimate_json(all[0], r, estimate::stop_rule{});
  EXPECT_NEAR(j["value"].get<double>(), 1000.0, 1e-9);
  EXPECT_NEAR(j["at_run_pace"]["raw_value"].get<double>(), 900.0, 1e-9);
  // A latency benchmark is not paced (its floors take it to the run's state instead), and a
  // throughput benchmark with a repetition that has too few neighbours of its pattern keeps its
  // rates.
  EXPECT_TRUE(estimate_json(with_spell(1.0, [](std::uint64_t) { return false; })[0],
                            find_regimes(with_spell(1.0, [](std::uint64_t) { return false; })),
                            estimate::stop_rule{})["at_run_pace"]
                  .is_null());
  std::vector<benchmark_history> few = {all[0], all[1]};
  few[1].samples.resize(3);  // 3 repetitions of another benchmark: 3 neighbours at most
  const run_regimes sparse = find_regimes(few);
  EXPECT_FALSE(sparse.pace_beside(160, few[0]));
  EXPECT_FALSE(basis_of(few[0], sparse).at_pace);
  EXPECT_TRUE(estimate_json(few[0], sparse, estimate::stop_rule{})["at_run_pace"].is_null());
}

TEST(Answer, ProcessTaxPrefersTheEstimatesRegimeWhereBothFormsHaveAnIntervalThere) {
  // Repetitions 0-15 at ~130 ns, 16-25 at ~530 ns: the slow state holds 10 of 26 floors, the
  // reference regime of the estimates. Both forms ran 8 times in the fast state (processes twice
  // as slow there) and 5 times in the slow one (alike): the tax is judged in the reference.
  auto with_floors = [](benchmark_history h) {
    for (auto& s : h.samples) s.line_ns = s.order < 16 ? 130.0 : 530.0;
    return h;
  };
  std::vector<benchmark_history> all = {
      history_of("pipe/latency/64/cross", std::vector<double>(8, 20e3)),
      history_of("pipe/latency/64/cross.threads", std::vector<double>(8, 10e3), 8)};
  for (auto& s : history_of("x", {20e3, 20e3, 19e3, 21e3, 20e3}, 16).samples)
    all[0].samples.push_back(s);
  for (auto& s : history_of("x", {20e3, 20e3, 19e3, 21e3, 20e3}, 21).samples)
    all[1].samples.push_back(s);
  all[0] = with_floors(all[0]);
  all[1] = with_floors(all[1]);
  const auto r = find_regimes(all);
  ASSERT_EQ(r.found.list.size(), 2u);
  ASSERT_EQ(r.found.reference, 1);
  const auto rows = process_tax_json(all, r, 0.9);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["regime"], 1) << rows[0].dump(1);
  EXPECT_DOUBLE_EQ(rows[0]["ratio"].get<double>(), 1.0);
  EXPECT_EQ(rows[0]["repetitions"]["processes"], 5);
  EXPECT_EQ(rows[0]["verdict"], "tie");
}

TEST(Answer, TheHostIsInTheWakeUpStateNearestItsRecentWakeUps) {
  benchmark_history h{.name = "x", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  std::uint64_t order = 0;
  const auto add = [&](double wake) {
    add_sample(h, order, 1000, 490);
    h.samples.back().wake_ns = wake;
  };
  for (int i = 0; i < 30; ++i) add(8500);
  for (int i = 0; i < 20; ++i) add(22000);
  const run_regimes r = find_regimes({h});
  ASSERT_EQ(r.found.list.size(), 2u);
  EXPECT_EQ(r.found.reference, 0);
  EXPECT_EQ(regime_now(r, 490.0, 9000.0), std::optional(0));
  EXPECT_EQ(regime_now(r, 490.0, 20000.0), std::optional(1));
  // No wake-up round trip measured yet: the cache-line state's longest held.
  EXPECT_EQ(regime_now(r, 490.0), std::optional(0));
  EXPECT_TRUE(in_reference_regime(r, 490.0, true, 8000.0));
  EXPECT_FALSE(in_reference_regime(r, 490.0, true, 25000.0));
  // The estimate is taken in the fast wake-up state alone.
  const basis b = basis_of(h, r);
  ASSERT_TRUE(b.regime);
  EXPECT_EQ(*b.regime, 0);
  EXPECT_EQ(b.samples.size(), 30u);
}

TEST(Answer, TheHostIsInTheReferenceRegimeNearestItsLastCacheLine) {
  benchmark_history h{.name = "x", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  std::uint64_t order = 0;
  auto add = [&](double line) { add_sample(h, order, 1000, line); };
  for (int i = 0; i < 10; ++i) add(530);
  const run_regimes slow_only = find_regimes({h});
  ASSERT_EQ(slow_only.found.list.size(), 1u);
  // One regime so far: not the reference while first repetitions are still due, then it is.
  EXPECT_FALSE(in_reference_regime(slow_only, 530.0, false));
  EXPECT_TRUE(in_reference_regime(slow_only, 530.0, true));
  for (int i = 0; i < 10; ++i) add(120);
  const run_regimes two = find_regimes({h});
  ASSERT_EQ(two.found.list.size(), 2u);
  // Half of the floors slow: the slow regime is the reference.
  EXPECT_TRUE(in_reference_regime(two, 500.0, false));
  EXPECT_FALSE(in_reference_regime(two, 125.0, true));
  EXPECT_TRUE(in_reference_regime(two, std::nullopt, false));
  // Which regime the host is in: the nearest on a log scale; unknown with one regime or no floor.
  EXPECT_EQ(regime_now(two, 500.0), std::optional(1));
  EXPECT_EQ(regime_now(two, 200.0), std::optional(0));
  EXPECT_EQ(regime_now(two, 300.0), std::optional(1));
  EXPECT_EQ(regime_now(two, std::nullopt), std::nullopt);
  EXPECT_EQ(regime_now(slow_only, 530.0), std::nullopt);
}

TEST(Answer, AConvergedBenchmarkGoesOnWhenAnotherRegimeBecomesTheReference) {
  benchmark_history fast{.name = "pipe/latency/64/cross",
                         .metric = "rtt_p50_ns",
                         .samples = {},
                         .stopped = "converged"};
  benchmark_history other{.name = "other", .metric = "rtt_p50_ns", .samples = {}, .stopped = ""};
  std::uint64_t order = 0;
  auto add = [&](benchmark_history& h, double line) { add_sample(h, order, 6000, line); };
  for (int i = 0; i < 5; ++i) add(fast, 120);  // converged while the host was fast
  for (int i = 0; i < 5; ++i) add(other, 120);
  const estimate::stop_rule rule;  // 5 to 12 repetitions, 10 % at 90 %
  // Alone in its regime, it stays stopped.
  EXPECT_EQ(judge_stop(fast, find_regimes({fast, other}), rule), decision::converged);
  // The host went slow for a third of the run: that becomes the reference.
  for (int i = 0; i < 5; ++i) add(other, 530);
  run_regimes r = find_regimes({fast, other});
  ASSERT_EQ(r.found.list.size(), 2u);
  EXPECT_EQ(r.found.reference, 1);
  EXPECT_EQ(judge_stop(fast, r, rule), decision::go_on);
  // One repetition there is not enough: it goes on until it converges there too.
  add(fast, 530);
  r = find_regimes({fast, other});
  ASSERT_EQ(r.found.reference, 1);
  EXPECT_EQ(judge_stop(fast, r, rule), decision::go_on);
  for (int i = 0; i < 4; ++i) add(fast, 530);
  EXPECT_EQ(judge_stop(fast, find_regimes({fast, other}), rule), decision::converged);
  // Converged in the reference: it stays stopped.
  EXPECT_EQ(judge_stop(other, r, rule), decision::converged);
  // At its cap with no repetition in the reference: it stops there.
  benchmark_history capped{
      .name = "capped", .metric = "rtt_p50_ns", .samples = {}, .stopped = "converged"};
  for (int i = 0; i < 12; ++i) add(capped, 120);
  for (int i = 0; i < 12; ++i) add(other, 530);
  EXPECT_EQ(judge_stop(capped, find_regimes({capped, other}), rule), decision::cap);
}

}  // namespace
}  // namespace ipcbench

TEST(Answer, HeadlineBenchmarksShortOfTheMinimumGoFirstInTheReferenceRegime) {
  using ipcbench::benchmark_need;
  // `here`: repetitions in the regime the host is in now.
  const std::vector<benchmark_need> needs = {
      {.index = 0, .headline = false, .started = true, .here = 1, .width = 0.5},
      {.index = 1, .headline = true, .started = true, .here = 4, .width = 0.2},
      {.index = 2, .headline = true, .started = true, .here = 5, .width = 0.3},
      {.index = 3, .headline = false, .started = true, .here = 1, .width = 0.9},
      {.index = 4, .headline = true, .started = true, .here = 2, .width = 0.1},
  };
  // In the reference regime: headline ones short of 5 there (4, fewest there first, then 1), then
  // the rest by repetitions there (3 and 0 tie on 1, the wider first), the headline one at its
  // minimum among them.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 5), (std::vector<std::size_t>{4, 1, 3, 0, 2}));
  // Elsewhere the fewest repetitions in that regime first, headline or not (the headline only
  // breaks a tie there), then the widest.
  EXPECT_EQ(ipcbench::order_by_need(needs, false, 5), (std::vector<std::size_t>{3, 0, 4, 1, 2}));
  // A minimum of 0 (or one already met) leaves the order to the repetitions there alone.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 0), (std::vector<std::size_t>{3, 0, 4, 1, 2}));
}

TEST(Answer, FirstRepetitionsTakeTheSlowRegimeAndTiesGoToTheRank) {
  using ipcbench::benchmark_need;
  constexpr double kNone = HUGE_VAL;  // no interval yet
  // Before the host's regimes are known, `here` counts every repetition.
  const std::vector<benchmark_need> needs = {
      {.index = 0, .headline = false, .here = 0, .width = kNone, .rank = 3},
      {.index = 1, .headline = true, .started = true, .here = 2, .width = 0.4, .rank = 0},
      {.index = 2, .headline = false, .here = 0, .width = kNone, .rank = 1},
      {.index = 3, .headline = true, .here = 0, .width = kNone, .rank = 2},
  };
  // In the reference regime the headline's go first, the one with a repetition there after the
  // one without; then the rest without one, by rank.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 5), (std::vector<std::size_t>{3, 1, 2, 0}));
  // Elsewhere those never run go first, by rank (the headline gets no precedence).
  EXPECT_EQ(ipcbench::order_by_need(needs, false, 5), (std::vector<std::size_t>{2, 3, 0, 1}));
}

TEST(Answer, OutsideTheReferenceEachBenchmarkSamplesTheRegimeTheHostIsIn) {
  using ipcbench::benchmark_need;
  // The host is slow now. 0 has five fast repetitions and none slow; 1 has two slow ones, 2 one;
  // 3 has not run yet: its first repetition goes first.
  const std::vector<benchmark_need> needs = {
      {.index = 0, .headline = true, .started = true, .here = 0, .width = 0.01, .rank = 0},
      {.index = 1, .headline = false, .started = true, .here = 2, .width = 0.5, .rank = 1},
      {.index = 2, .headline = false, .started = true, .here = 1, .width = 0.5, .rank = 2},
      {.index = 3, .headline = false, .started = false, .here = 0, .width = HUGE_VAL, .rank = 3},
  };
  EXPECT_EQ(ipcbench::order_by_need(needs, false, 5), (std::vector<std::size_t>{3, 0, 2, 1}));
  // Among those with as few repetitions there, the headline's that have started go first, the
  // wider first: 1 and 3 (3 narrow: it converged in the reference) before 0; 4, the headline's
  // too, first since it has not run at all.
  const std::vector<benchmark_need> tied = {
      {.index = 0, .headline = false, .started = true, .here = 0, .width = 0.5, .rank = 0},
      {.index = 1, .headline = true, .started = true, .here = 0, .width = 0.2, .rank = 1},
      {.index = 2, .headline = false, .started = true, .here = 1, .width = 0.9, .rank = 2},
      {.index = 3, .headline = true, .started = true, .here = 0, .width = 0.01, .rank = 3},
      {.index = 4, .headline = true, .started = false, .here = 0, .width = HUGE_VAL, .rank = 4},
  };
  EXPECT_EQ(ipcbench::order_by_need(tied, false, 5), (std::vector<std::size_t>{4, 1, 3, 0, 2}));
}

TEST(Answer, OnceEveryBenchmarkHasRunOneThatRanOnceGoesWithTheHeadlinesShortOfTheirMinimum) {
  using ipcbench::benchmark_need;
  // 0 ran once (here, in the reference), 1 is the headline's with 3 there, 2 ran 4 times, 3 is a
  // ranking's benchmark owed 6 with 2.
  std::vector<benchmark_need> needs = {
      {.index = 0, .headline = false, .started = true, .here = 1, .width = HUGE_VAL},
      {.index = 1, .headline = true, .started = true, .here = 3, .width = 0.2},
      {.index = 2, .headline = false, .started = true, .here = 4, .width = 0.3},
      {.index = 3,
       .headline = true,
       .ranking = true,
       .started = true,
       .here = 2,
       .width = 0.1,
       .quota = 6},
  };
  // Before every benchmark has run, the headline's first, then the rest by repetitions there.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 5), (std::vector<std::size_t>{3, 1, 0, 2}));
  // Once they all have, 0 goes among them, by its repetitions there: first.
  needs[0].alone = true;
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 5), (std::vector<std::size_t>{0, 3, 1, 2}));
  // Elsewhere, too, before the rest with as many repetitions there.
  needs[0].here = needs[2].here = 0;
  EXPECT_EQ(ipcbench::order_by_need(needs, false, 5), (std::vector<std::size_t>{0, 2, 3, 1}));
}

TEST(Answer, RankingBenchmarksArePacedOverTheRunInTheReferenceRegime) {
  using ipcbench::benchmark_need;
  // 0 and 1 rank (64 B latency, 1 MiB throughput) and are owed 6 repetitions there by now, 2 is
  // the headline's elsewhere, 3 and 4 are not the headline's.
  const std::vector<benchmark_need> needs = {
      {.index = 0,
       .headline = true,
       .ranking = true,
       .started = true,
       .here = 6,
       .width = 0.2,
       .quota = 6},
      {.index = 1,
       .headline = true,
       .ranking = true,
       .started = true,
       .here = 5,
       .width = 0.1,
       .quota = 6},
      {.index = 2, .headline = true, .started = true, .here = 5, .width = 0.3},
      {.index = 3, .headline = false, .started = true, .here = 4, .width = 0.4},
      {.index = 4, .headline = false, .started = true, .here = 6, .width = 0.5},
  };
  // In the reference regime 1 is short of its quota there and goes first; 0 has its quota and
  // waits behind every other benchmark, even 4 with as many repetitions; between them, fewest
  // first.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 5), (std::vector<std::size_t>{1, 3, 2, 4, 0}));
  // A minimum above the quota is the headline's, not the rankings': 2 is short of it and goes
  // first, then 1, still short of its quota.
  EXPECT_EQ(ipcbench::order_by_need(needs, true, 11), (std::vector<std::size_t>{2, 1, 3, 4, 0}));
  // Elsewhere a repetition is a repetition, fewest there first (the wider first among the
  // headline's with as many: 2 before 1), and no one goes first or waits.
  EXPECT_EQ(ipcbench::order_by_need(needs, false, 5), (std::vector<std::size_t>{3, 2, 1, 0, 4}));
  // Without a quota (a ranking rule's minimum 0: no pace) a ranking's benchmark never waits.
  auto unpaced = needs;
  for (auto& n : unpaced) n.quota = 0;
  EXPECT_EQ(ipcbench::order_by_need(unpaced, true, 0), (std::vector<std::size_t>{3, 2, 1, 0, 4}));
}

TEST(Answer, TheRankingsQuotaGrowsEvenlyOverThreeQuartersOfTheBudget) {
  using ipcbench::ranking_quota;
  static_assert(ipcbench::kRankingSpread == 0.75);
  // 16 over 0.75 x 600 s: one at the start, then one more every 28.125 s, all 16 from 450 s.
  EXPECT_EQ(ranking_quota(0, 600, 16), 1u);
  EXPECT_EQ(ranking_quota(28.125, 600, 16), 1u);
  EXPECT_EQ(ranking_quota(28.2, 600, 16), 2u);
  EXPECT_EQ(ranking_quota(225, 600, 16), 8u);
  EXPECT_EQ(ranking_quota(449, 600, 16), 16u);
  EXPECT_EQ(ranking_quota(700, 600, 16), 16u);  // the budget overrun: never more than owed
  // Without a budget all are owed at once; without a minimum, none (no pace).
  EXPECT_EQ(ranking_quota(10, 0, 16), 16u);
  EXPECT_EQ(ranking_quota(10, 600, 0), 0u);
}

TEST(Answer, ARankingsRuleAsksSixteenAndRoomForTheOthersCapBeside) {
  using ipcbench::ranking_rule;
  static_assert(ipcbench::kRankingMinimum == 16 && ipcbench::kRankingMinimumPerCap == 2);
  const ipcbench::estimate::stop_rule base{};  // 5 to 12
  const auto r = ranking_rule(base);
  EXPECT_EQ(r.min_repetitions, 16);
  EXPECT_EQ(r.max_repetitions, 28);
  EXPECT_EQ(r.relative_width, base.relative_width);
  EXPECT_EQ(r.confidence, base.confidence);
  // Quick (3 to 5): twice the cap bounds the minimum.
  const auto q = ranking_rule({.min_repetitions = 3, .max_repetitions = 5});
  EXPECT_EQ(q.min_repetitions, 10);
  EXPECT_EQ(q.max_repetitions, 15);
  // A minimum above 16 is the ranking's too; 0 asks none.
  EXPECT_EQ(ranking_rule({.min_repetitions = 20, .max_repetitions = 30}).min_repetitions, 20);
  EXPECT_EQ(ranking_rule({.min_repetitions = 0, .max_repetitions = 12}).min_repetitions, 0);
}
