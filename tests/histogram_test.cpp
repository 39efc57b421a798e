#include "harness/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace ipcbench {
namespace {

TEST(Histogram, EmptyIsZero) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  histogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);  // 1..100
  EXPECT_EQ(h.percentile(0), 1);
  EXPECT_EQ(h.percentile(50), 50);  // nearest rank: ceil(0.5 * 100) = 50th value
  EXPECT_EQ(h.percentile(90), 90);
  EXPECT_EQ(h.percentile(99), 99);
  EXPECT_EQ(h.percentile(99.9), 100);  // ceil(99.9) = 100th value
  EXPECT_EQ(h.percentile(100), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(Histogram, NearestRankOnOddCounts) {
  histogram h;
  for (int v : {7, 3, 200, 11, 5}) h.record(v);  // sorted 3 5 7 11 200
  EXPECT_EQ(h.percentile(20), 3);
  EXPECT_EQ(h.percentile(21), 5);
  EXPECT_EQ(h.percentile(50), 7);
  EXPECT_EQ(h.percentile(80), 11);
  EXPECT_EQ(h.percentile(81), 200);
  EXPECT_EQ(h.min(), 3);
  EXPECT_EQ(h.max(), 200);
}

TEST(Histogram, BucketsCoverEveryValueWithinOnePercent) {
  for (std::int64_t v : {256LL, 257LL, 1000LL, 4095LL, 4096LL, 13'000LL, 1'000'000LL, 123'456'789LL,
                         (1LL << 40) + 12345, (1LL << 62) + 1}) {
    const auto i = histogram::bucket_index(v);
    const auto lo = histogram::bucket_lowest(i), hi = histogram::bucket_highest(i);
    EXPECT_LE(lo, v);
    EXPECT_GE(hi, v);
    EXPECT_LE(static_cast<double>(hi - lo + 1) / static_cast<double>(lo), 1.0 / 128 + 1e-12) << v;
  }
  // Adjacent buckets tile the line with no gap or overlap.
  for (std::size_t i = 1; i < 5000; ++i)
    EXPECT_EQ(histogram::bucket_lowest(i), histogram::bucket_highest(i - 1) + 1) << i;
}

TEST(Histogram, LargeValuePercentileWithinHalfPercent) {
  histogram h;
  for (int i = 0; i < 1000; ++i) h.record(13'000 + i);  // 13.000 .. 13.999 us
  const double p50 = static_cast<double>(h.percentile(50));
  EXPECT_NEAR(p50, 13'499, 13'499 * 0.004);
  EXPECT_EQ(h.percentile(100), 13'999);
  EXPECT_EQ(h.percentile(0), 13'000);
}

TEST(Histogram, NoOverflowOnLongRuns) {
  histogram h;
  // A billion samples of ~10 s each would overflow a 64-bit sum of nanoseconds (1e19 > 1.8e19/2).
  const std::int64_t big = 10'000'000'000;  // 10 s in ns
  histogram one;
  one.record(big);
  for (int i = 0; i < 31; ++i) {  // 2^31 samples by repeated doubling
    one.merge(one);
  }
  EXPECT_EQ(one.count(), std::uint64_t{1} << 31);
  EXPECT_NEAR(one.mean(), static_cast<double>(big), 1.0);
  EXPECT_EQ(one.max(), big);
  const auto p = one.percentile(99.9);
  EXPECT_NEAR(static_cast<double>(p), static_cast<double>(big), static_cast<double>(big) * 0.004);
  (void)h;
}

TEST(Histogram, NegativeCountsAsZero) {
  histogram h;
  h.record(-5);
  EXPECT_EQ(h.min(), 0);
}

TEST(Histogram, JsonRoundTrip) {
  histogram h;
  for (int v : {1, 2, 300, 4'000'000, 4'000'001}) h.record(v);
  const histogram g = histogram::from_json(nlohmann::json::parse(h.to_json().dump()));
  EXPECT_EQ(g.count(), h.count());
  EXPECT_EQ(g.min(), h.min());
  EXPECT_EQ(g.max(), h.max());
  EXPECT_DOUBLE_EQ(g.mean(), h.mean());
  for (double p : {10.0, 50.0, 90.0, 99.0}) EXPECT_EQ(g.percentile(p), h.percentile(p));
}

}  // namespace
}  // namespace ipcbench
