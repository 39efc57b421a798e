// Where a peer's other threads ran: the threads a middleware library starts in each peer
// (ZeroMQ's I/O thread, nng's poller and task threads, gRPC's pollers) are not pinned, and the
// scheduler puts each on the peer's own CPU or on the other one when the library starts it. That
// choice holds for the whole repetition and sets its result: on the 2-vCPU development VM,
// zeromq.tcp's 64 B round trip was 36-43 us in the repetitions whose I/O threads ran on their
// peers' CPUs and 53-60 us in those whose ran on the other CPU (16 repetitions of 60 ms), each
// repetition steady at its level. Peer side: two snapshots of /proc/self/task, halfway through
// the warm-up and after the timed batch.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>

namespace ipcbench {

// One thread at one moment: its CPU time so far (schedstat) and the CPU it last ran on.
struct task_point {
  std::int64_t run_ns = 0;
  int cpu = -1;
};
using task_snapshot = std::map<pid_t, task_point>;

// Every thread of this process but the calling one; nullopt when /proc/self/task cannot be read.
std::optional<task_snapshot> snapshot_other_threads();

// The CPU time the other threads spent between two snapshots, by where they ran: on `own_cpu`
// (the peer's) at both ends, on another CPU at both ends, or on one CPU at one end and another
// at the other (`moved`). A thread that moved and came back between the snapshots counts where
// it was at both; one that started or ended between them is left out.
struct library_time {
  std::int64_t own_cpu_ns = 0;
  std::int64_t other_cpu_ns = 0;
  std::int64_t moved_ns = 0;
  std::uint32_t threads = 0;   // the threads that ran between the snapshots
  std::int64_t window_ns = 0;  // the time between the snapshots (set by the caller)
  std::int64_t total_ns() const noexcept { return own_cpu_ns + other_cpu_ns + moved_ns; }
};
library_time library_time_between(const task_snapshot& before, const task_snapshot& after,
                                  int own_cpu);

// The one CPU the calling thread may run on, or -1 when it may run on more (not pinned).
int pinned_cpu();

// Where the threads ran, as one word: "own" (at least 90 % of their CPU time on the peer's CPU),
// "other" (at least 90 % on another), "mixed" otherwise; "idle" when they ran less than 1 % of
// the window (then where they sat cannot matter).
const char* placement_of(const library_time& t);

}  // namespace ipcbench
