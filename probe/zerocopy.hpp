// The MSG_ZEROCOPY claim's decision from the runs measured at each size (zerocopy.cpp). Exposed
// for tests, which give it made-up runs. Coordinator side.
#pragma once

#include <cstddef>
#include <vector>

#include "probe/probe.hpp"

namespace ipcbench::probes {

// One message size's runs, bytes per second each: plain send(2) and MSG_ZEROCOPY, alternated.
struct zerocopy_runs {
  std::size_t size = 0;
  std::vector<double> send, zerocopy;
};

// Sizes below this are those the claim says MSG_ZEROCOPY loses at ("about 10 KB").
inline constexpr std::size_t kZerocopySmall = 10000;

// How much faster MSG_ZEROCOPY must be shown to be before "gains nothing" is refuted: the
// relative width of a median's interval the stop rule asks for (--ci-width's default), below
// which the suite does not resolve a benchmark's own value either (the claims' "performs as"
// margin, bench/claims.cpp).
inline constexpr double kZerocopyMargin = 0.10;

// The verdict, value and detail of tcp_zerocopy_loopback. Each size is decided by the exact rank
// test (stats/rank.hpp) between its zerocopy and send runs, two-sided: slower where p <= 0.1 and
// zerocopy lost more than half of the pairs of runs, faster where p <= 0.1 / (number of sizes)
// and it won more than half (a gain at any size refutes the claim, so each size's chance of a
// false gain is divided by the sizes' count) and the ratio zerocopy/send, as the Hodges-Lehmann
// interval of the logarithms at that level (stratified_ratio_interval), lies wholly above
// 1 + kZerocopyMargin. A rank-test gain whose interval reaches down to the margin is reported
// ("faster, not beyond the margin") and refutes nothing. Holds when no size is faster and every
// size below kZerocopySmall is slower; does not hold when a size is faster; otherwise inconclusive.
outcome decide_zerocopy(const std::vector<zerocopy_runs>& sizes);

}  // namespace ipcbench::probes
