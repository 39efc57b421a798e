// Exact rank statistics for few repetitions, shared by the bench program (the textbook claims),
// the probes (shared memory against a pipe at 1 MiB) and compare (the Mann-Whitney test). Plain
// functions on plain values, no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace ipcbench::rank_stats {

// The exact null distribution of the Mann-Whitney count U (pairs with an x below a y) for m x's
// and n y's without ties, every order of the m + n values equally likely: element u is P(U = u),
// u = 0 .. m * n. Sums of positive terms only, so accurate at any size.
std::vector<double> mann_whitney_null(std::size_t m, std::size_t n);

// Whether two benchmarks' values differ, from few repetitions: an exact stratified rank test.
// Each stratum holds both benchmarks' values in one regime of the host (values of different
// regimes are never ranked against each other). The statistic is the sum over strata of the
// Mann-Whitney count U (pairs with a's value below b's; a tie counts a half); its null
// distribution, every split of each stratum's values between a and b equally likely, is exact
// (the convolution of each stratum's). `p` is two-sided: twice the smaller tail, at most 1. It
// needs no interval of a median, so it can order two benchmarks from as few as three repetitions
// each in one regime (p = 0.1) or two each in two regimes (p = 0.056), though only when their
// values do not overlap. nullopt when no stratum has values on both sides.
struct rank_test {
  double p = 1;
  double a_lower = 0.5;  // U over the pairs ranked: above 1/2, a's values tend to be lower
  std::size_t strata = 0;
  std::size_t a_count = 0, b_count = 0;
  // Each stratum's own share (U over its pairs), in the order given; a stratum with a side empty
  // has NaN. A host whose states order the two opposite ways shows 1 in one and 0 in another.
  std::vector<double> a_lower_by_stratum;
};
struct rank_stratum {
  std::vector<double> a, b;
  int label = -1;  // the caller's name for it (the regime), untouched here
};
std::optional<rank_test> stratified_rank_test(std::span<const rank_stratum> strata);

// 1 / C(m + n, m): the chance that every one of m exchangeable values lands above every one of
// n others (the one-sided exact p of a complete separation). 1 when either side is empty.
double separation_chance(std::size_t m, std::size_t n);

// The least two-sided p that stratified_rank_test can give for these strata's sizes (every a
// apart from every b in each stratum, all on one side): 2 times the product over the strata of
// 1 / C(m + n, m), at most 1. A test that cannot reach a level cannot decide at it.
double least_rank_p(std::span<const rank_stratum> strata);

// The shift between a's and b's values common to the strata, with its exact interval: the
// Hodges-Lehmann estimate and the interval from inverting stratified_rank_test. The N
// differences x - y of an a value and a b value of one stratum are sorted; the interval is
// [d(k), d(N + 1 - k)] for the largest k whose coverage, 1 - 2 P(U <= k - 1) under the strata's
// null distribution, is at least `confidence`, and the estimate is their median (the shift at
// which the test's statistic sits in the middle). On the logarithms of two benchmarks' values
// it gives their ratio and its interval from every regime both ran in, from as few as three
// repetitions each in one regime (coverage 0.9: [min, max] of the 9 differences). nullopt when
// no stratum has values on both sides, or when even [min, max] covers less than `confidence`.
struct shift_interval {
  double estimate = 0, lo = 0, hi = 0;
  double confidence = 0;  // the interval's actual coverage
  std::size_t strata = 0;
  std::size_t a_count = 0, b_count = 0;
};
std::optional<shift_interval> stratified_shift_interval(std::span<const rank_stratum> strata,
                                                        double confidence);

// The same on the logarithms, taken back: the ratio of a's values to b's common to the strata
// (estimate, lo and hi are exp of the shift's), from their positive values only (a value that is
// not positive has no logarithm; a_count and b_count count the positive ones).
std::optional<shift_interval> stratified_ratio_interval(std::span<const rank_stratum> strata,
                                                        double confidence);

}  // namespace ipcbench::rank_stats
