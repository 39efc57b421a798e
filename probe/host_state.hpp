// A probe's rounds by the state of the host they ran in (uring_wakeup.cpp), from the cache-line
// round trip measured between the probe's two CPUs right before each round. On a VM the host
// moves the vCPUs: a cache line crosses in about 100 ns while they share a cache and about 500 ns
// while they do not, and the cost of a wake-up moves with it, so the ratio of two wake-up paths
// can differ between the states (io_uring_msg_ring_defer_taskrun on the development VM: 2.4x
// with a cache line at about 110 ns, 1.1x at about 490 ns). Exposed for tests.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ipcbench::probes {

// Two rounds' cache-line round trips this far apart or more are two states of the host (the
// suite's regimes split cache-line states at the same ratio: bench/estimate.hpp).
inline constexpr double kHostStateGap = 1.5;

struct host_state {
  double line_ns = 0;               // the median of its rounds' cache-line round trips
  std::vector<std::size_t> rounds;  // their indices, in order
};

// The rounds with a cache-line round trip (above 0), split in two at the widest gap between their
// sorted round trips where that gap is kHostStateGap or more (the faster state first), else one
// state; none when no round has one.
std::vector<host_state> states_of_rounds(std::span<const double> line_ns);

}  // namespace ipcbench::probes
