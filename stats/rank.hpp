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

// The least two-sided p that stratified_rank_test can give for these strata's sizes (every a
// apart from every b in each stratum, all on one side): 2 times the product over the strata of
// 1 / C(m + n, m), at most 1. A test that cannot reach a level cannot decide at it.
double least_rank_p(std::span<const rank_stratum> strata);

}  // namespace ipcbench::rank_stats
