// One pair and pairs/N, the coordinator's side: the run_result of one pair's two reports (the
// timed window, CPU times, round trips, the integrity and loss checks), and of N independent
// pairs run at once (each pair as one, then the aggregate over the common window). The peers'
// side is run_peer() (harness/peer.hpp). Coordinator side.
#pragma once

#include <cstdint>

#include "harness/coordinator.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"

namespace ipcbench {

// What the peers reported on the timed batch of `count` messages (round trips).
struct batch_reports {
  std::uint64_t count = 0;
  peer_report producer;
  peer_report consumer;
  std::uint64_t rtt_batch = 1;          // round trips per rtt sample
  std::uint64_t turnaround_stride = 0;  // every how many the consumer timed its turnaround
};

// The run_result of a batch both peers completed: the timed window, CPU times, round trips and
// the integrity and loss checks (failed, with the reason, when a message was wrong or lost).
// Throws std::runtime_error when a latency batch's producer sent no round-trip times.
run_result assemble(const run_request& req, const batch_reports& b);

// One pair (members producer, consumer): assemble() of their two reports.
run_result assemble_pair(const run_request& req, const group_program& program,
                         const group_reports& b);

// N pairs: each pair's run_result as for one pair (assemble()), then the aggregate over the
// common window (earliest start to latest end): messages, and for latency every pair's round
// trips in one histogram.
run_result assemble_pairs(const run_request& req, const group_program& program,
                          const group_reports& b);

}  // namespace ipcbench
