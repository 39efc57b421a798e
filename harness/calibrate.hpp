// The floor under every number: what the clock costs, how fast memory copies, and what the
// harness loop itself costs with no IPC at all. Coordinator side, in-process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "harness/session.hpp"

namespace ipcbench {

class floor_station;  // harness/floor_station.hpp

// Mean cost of one clock_gettime(CLOCK_MONOTONIC), nanoseconds.
double timer_cost_ns();
// Mean cost of one read_tsc() (sys/system.hpp), nanoseconds.
double tsc_read_cost_ns();
// What the receiver's integrity check of one message of `size` bytes costs when it is a pass
// of its own over a received message in cache (message_codec::check), nanoseconds: the time a
// "separate" verification adds per message over a "fused" one.
double check_cost_ns(std::size_t size);
// Hot memcpy bandwidth of a 1 MiB buffer, bytes per second.
double memcpy_bytes_per_second();
// The round trip of one cache line between two CPUs: two forked processes pinned to `cpu_a` and
// `cpu_b` bounce a counter through shared memory with release stores and acquire loads. The
// floor under every cross-CPU round trip (on a VM it moves as the host places the virtual CPUs,
// so each report measures its own). Each sample is the mean of 20 back-to-back round trips
// timed by one pair of clock reads, so the clock's cost stays out. Where the two CPUs sit apart
// the round trip depends on the line's address (harness/calibrate.cpp), so the rounds are split
// over `pages` pairs of lines, one pair per page: p10/p50/p90 in nanoseconds are the cheapest
// pair's, and `p50_costliest_page` the costliest pair's median. nullopt if it could not run.
// With a `station` for these two CPUs its helpers run the two sides instead of two forked
// processes (as in the floors that follow).
struct cache_line_rtt {
  double p10 = 0, p50 = 0, p90 = 0;
  int pages = 1;
  double p50_costliest_page = 0;
};
std::optional<cache_line_rtt> cache_line_round_trip(int cpu_a, int cpu_b,
                                                    std::uint64_t rounds = 200'000,
                                                    floor_station* station = nullptr);

// The wake-up floor (harness/wakeup.cpp): two forked processes pinned to `cpu_a` and `cpu_b`
// ping-pong through two futex words, each sleeping until the other wakes it, so a round trip is
// two cross-CPU wake-ups, the least a blocking mechanism pays. p10/p50/p90 in nanoseconds over
// `rounds` round trips; nullopt if it could not run.
struct wake_round_trip {
  double p10 = 0, p50 = 0, p90 = 0;
  int rounds = 0;
};
std::optional<wake_round_trip> wakeup_round_trip(int cpu_a, int cpu_b, int rounds = 2000,
                                                 floor_station* station = nullptr);

// The copy floor under every cross-CPU throughput: a process pinned to `cpu_a` copies messages
// of `size` bytes into a shared 4 MiB ring of slots, and one pinned to `cpu_b` copies them out
// into its own message buffer (spin handoff on two positions, no system call, no length prefix,
// no check), so the two copies overlap as in the best ring. A slot holds min(size, 64 KiB),
// rounded up to 128 bytes so that writer and reader never share a cache line; larger messages
// pass in 64 KiB pieces, as through the shared-memory rings. The writer's position is published
// once per 64 KiB of slots, as the rings publish theirs, so no ring beats the floor by publishing
// less often. The ring is larger than a core's cache, and the writer copies in with memcpy and
// with non-temporal stores (x86-64) in turn, since which is faster depends on whether the two
// CPUs share a cache. A message larger than a piece also passes whole through a ring of three
// message-sized slots (two where three would not fit in 4 MiB), published once per message, as a
// pool of chunks hands them round (faster where the two CPUs share a cache). Bytes per second, the
// best of three runs of each way (together `seconds`) after a 3 ms warm-up; nullopt if it could not
// run. `small_ring`: one more way, the pieces through a 256 KiB ring (memcpy), which stays in a
// cache below the last level where the two CPUs share one (two hyperthreads of one core).
std::optional<double> cross_core_copy_bytes_per_second(int cpu_a, int cpu_b, std::size_t size,
                                                       double seconds = 0.05,
                                                       floor_station* station = nullptr,
                                                       bool small_ring = false);
// The memory the copy floor of `size` bytes uses (its state and ring): a station's region of
// this size serves every size up to `size`.
std::size_t copy_floor_bytes(std::size_t size);

// Both peers' loops in one process, the channel replaced by a local copy: the harness's own
// cost at this size. Latency: timer, stamping, verification, a copy each way. Throughput:
// stamping, one copy and the verification per message, which is the throughput floor of the
// harness's null channel. Same sizing, warm-up and batching as a real run.
run_result run_null(const run_request& req);

}  // namespace ipcbench
