// The coordinator: forks the producer and consumer (or, in the spawn process model, launches
// them as separate programs), pins them, drives the start barrier over the control channels,
// enforces a deadline on every wait, and turns whatever happens (results, a crashed, killed or
// stopped peer) into a run_result. Three phases: launch (fork or spawn, the barrier), drive
// (the sizing run; go, which runs the warm-up and the timed batch back to back; the peer reports;
// each wait with its deadline), assemble (two peer reports into
// a run_result). Both process models share every phase, message, deadline and failure path;
// only the launch differs. It never names a mechanism: the peers' code arrives type-erased.
// Coordinator side only; not reentrant.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/control.hpp"
#include "harness/placement.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"

namespace ipcbench {

// What a launched peer is told to open (spawn process model).
struct spawn_target {
  std::string mechanism_id;
  nlohmann::json rendezvous;
};

struct peer_program {
  // Runs in the forked peer after pinning: opens the endpoint and runs run_peer().
  std::function<int(role, control_link&)> body;
  // Runs in the coordinator once both peers have opened their ends.
  std::function<void()> opened;
  // Set for the spawn model: req.peer_program is launched in peer mode for each role, instead
  // of forking `body`.
  std::optional<spawn_target> spawned;
};

// Runs one benchmark: launch, drive, assemble. Never throws: a failure of any phase (a peer that
// crashed, stopped, erred or missed a deadline) is a failed run_result with the reason, both
// peers killed and reaped; a placement this machine cannot honour is a skipped one.
run_result coordinate(const run_request& req, const peer_program& program);

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

// A batch's deadline beyond the usual timeout: twenty times what `count` messages take at the
// sizing run's `ns_per_message`.
std::chrono::milliseconds batch_allowance(std::uint64_t count, double ns_per_message);

// Whether the peers hold at a barrier between the warm-up and the timed batch (go_order::
// barrier): streams do, so no warm-up message is still queued when the clock starts; round
// trips flow from the warm-up into the timed batch, since nothing can be queued between them.
// So do lossy streams (UDP): their receiver cannot tell when it has every warm-up message (some
// never come; it would wait out its receive timeout), and their steady state is a full buffer
// that drops: after a pause the empty buffer would take a buffer's worth more than the channel
// carries, and a short batch would read that as goodput.
bool stream_barrier(const run_request& req);

// The sizing run's length for a message size: enough to fault in buffers and settle caches.
std::uint64_t warmup_count(const run_request& req);
// Timed batch length from the measured sizing-run time per message.
std::uint64_t timed_count(const run_request& req, double warm_ns_per_message);

// The warm-up that runs straight before the timed batch lasts this fraction of the target time.
inline constexpr double kFlowingWarmupFraction = 0.2;
std::uint64_t flowing_warmup_count(const run_request& req, double ns_per_message);

// Latency: the clock reads of one sample (two, each req.timer_ns) may be at most this share of
// the sample (2 %: a larger batch moves the median of the batch means towards the mean); shorter
// round trips are timed in batches of rtt_batch_for() round trips.
inline constexpr double kTimerShare = 0.02;
std::uint64_t rtt_batch_for(const run_request& req, double rtt_ns);

// Latency: the consumer times its turnaround on every (kTurnaroundStride x rtt_batch)-th round
// trip, so its clock reads touch at most one sample in kTurnaroundStride.
inline constexpr std::uint64_t kTurnaroundStride = 64;

}  // namespace ipcbench
