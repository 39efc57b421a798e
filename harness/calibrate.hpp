// The floor under every number: what the clock costs, how fast memory copies, and what the
// harness loop itself costs with no IPC at all. Coordinator side, in-process.
#pragma once

#include "harness/session.hpp"

namespace ipcbench {

// Mean cost of one clock_gettime(CLOCK_MONOTONIC), nanoseconds.
double timer_cost_ns();
// Hot memcpy bandwidth of a 1 MiB buffer, bytes per second.
double memcpy_bytes_per_second();
// The latency loop of both peers in one process, the channel replaced by a local copy each way:
// timer, stamping, verification, two copies. Same warm-up and batch sizing as a real run.
run_result run_null(const run_request& req);

}  // namespace ipcbench
