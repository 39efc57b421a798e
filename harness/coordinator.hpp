// The coordinator, one for every shape of benchmark: a pair is a group of two. It forks the
// members (or, in the spawn process model, launches them as separate programs), pins each to the
// CPU its placement gives (harness/placement.hpp, computed once by the runner), drives the
// conversation of harness/protocol.hpp with every member at once (opened; the sizing run; go,
// which runs the warm-up and, behind a barrier for streams, the timed batch; the reports; exit),
// enforces a deadline on every wait, and turns whatever happens (the reports; a crashed, killed,
// stopped or erring member; a helper process that ended) into a run_result through the
// topology's assembler (harness/pairs.hpp, harness/fan_in.hpp, harness/fan_out.hpp). A batch
// that is still using CPU at its deadline is given more time, up to kSlowBatchPatience times,
// so a batch that fell into a slower mode than its sizing run is measured instead of killed;
// silent members that use no CPU are a hang and fail at once. It never names a mechanism: the
// members' code arrives type-erased. Coordinator side only; not reentrant.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/control.hpp"
#include "harness/placement.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"

namespace ipcbench {

// What a launched member is told to open (spawn process model).
struct spawn_target {
  std::string mechanism_id;
  nlohmann::json rendezvous;
};

struct group_program {
  // The members in launch order (members_of); one pair is {producer 0, consumer 0}.
  std::vector<group_member> members;
  // Runs in forked member `k` after pinning: opens its endpoint and runs the peer loop.
  std::function<int(std::size_t k, control_link&)> body;
  // Runs in the coordinator once every member has opened its end.
  std::function<void()> opened;
  // The helper processes (a bus daemon) whose CPU time producer member `k` reads over its timed
  // batch (go_order::helper_pids); every one of them is watched, and one that ends fails the
  // run. Empty function or list: none.
  std::function<std::vector<pid_t>(std::size_t k)> helpers;
  // Set for the spawn model: req.peer_program is launched in peer mode for each member, instead
  // of forking `body`.
  std::optional<spawn_target> spawned;
  // The topology the result describes (its group_outcome: placement and members); nullopt for
  // one pair, whose result carries no group_outcome.
  std::optional<topology> topo;
};

// The reports of a batch every member completed, by member, and the orders that sized it.
struct group_reports {
  go_order go;
  std::vector<peer_report> reports;
};

// How the member reports become one result (assemble_pair, assemble_pairs, assemble_fan_in,
// assemble_fan_out). Throws std::runtime_error on reports that do not fit.
using group_assembler =
    std::function<run_result(const run_request&, const group_program&, const group_reports&)>;

// The fan assemblers' common steps. tally_member adds member `m`'s report to `res`: its
// member_outcome (messages, own window, CPU time, torn records), its integrity errors (named in
// `damaged`) and its CPU time to its role's; it returns the member's rate over its own window.
// settle_data_check ends an assembler: failed with "data check: " and what was damaged, or ok.
double tally_member(run_result& res, const group_member& m, const peer_report& r,
                    std::string& damaged);
void settle_data_check(run_result& res, std::string damaged);

// Runs one benchmark: launch, drive, assemble. Never throws: a failure of any phase (a member
// that crashed, stopped, erred or missed a deadline, a helper that ended) is a failed run_result
// with the reason, every member killed and reaped; a placement this machine cannot honour is a
// skipped one. A group's result carries its group_outcome whenever the group was placed.
run_result coordinate(const run_request& req, const group_program& program,
                      const group_placement& where, const group_assembler& assemble);

// How many times its deadline a batch may take while its silent members keep using CPU.
inline constexpr int kSlowBatchPatience = 10;

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
// A fan-in or fan-out stream fills its shared ring or queue before it settles to its steady
// rate, so its sizing run carries about 16 MiB (at most kGroupSizingMax messages), not
// warmup_count()'s 1,000: 1,000 records of 64 bytes fit in a 256 KiB ring, and fan_out/8 at 64
// bytes was predicted 35 times too fast (a 0.2 s batch ran 7 s). 16,384 records fill such a ring
// four times over; 65,536 took 1-2.3 s per repetition at 64 bytes for the slower streams (nng.ipc,
// pipe.splice fan_out/1) against a timed batch of about 30 ms. Round trips keep warmup_count(),
// and so does pairs/N: each of its pairs has a channel of its own, as one pair does, and 16,384
// messages of 64 bytes took the slower ones (memfd, pipe.splice, cma) 0.5-0.6 s of sizing for a
// 10 ms batch.
inline constexpr std::uint64_t kGroupSizingMax = 16384;
std::uint64_t group_sizing_count(const run_request& req, topology t);
// About 16 MiB of messages, from 4 to kGroupSizingMax: a fan's sizing run, and the most a hinted
// one of a stream may carry.
std::uint64_t stream_sizing_max(const run_request& req);
// The sizing run of one pair that has run before, at `ns_per_message` (its last timed batch's):
// about kHintedSizingSeconds of messages, at least 4 and never more than warmup_count() for round
// trips, stream_sizing_max() for a stream. The flowing warm-up and the timed batch are still sized
// from this sizing run, in the host's state of the moment; a round trip of 6-27 us took
// warmup_count()'s 1,000 round trips 6-27 ms, against a 30 ms timed batch. A stream may carry
// more than warmup_count(): 1,000 messages of 1-64 bytes fit in a shared-memory ring, so a stream
// whose sizing run stopped there was sized before it met a full ring, and on the 2-vCPU VM the
// blocking rings' timed batches at 1 and 64 bytes ran a median 2-7 times their 15 ms (up to
// 230 ms); their 200-500 ns per message make 4 ms about 8,000-20,000 messages.
inline constexpr double kHintedSizingSeconds = 0.004;
std::uint64_t hinted_sizing_count(const run_request& req, double ns_per_message);
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

// One pair's timed batch in kSubBatches parts (go_order::sub_batches), so that a change of the
// host's speed inside a repetition shows in it (a copy rate that flips every 20 ms to 1 s, a
// batch of 15-30 ms): each part's rate or median round trip (run_result::sub_values). Only
// where every part holds kSubBatchMinimum messages (a stream) or samples (ping-pong) at least;
// not for a lossy or paced channel, nor a topology.
inline constexpr std::uint64_t kSubBatches = 4;
inline constexpr std::uint64_t kSubBatchMinimum = 16;
std::uint64_t sub_batches_for(const run_request& req, bool topology, std::uint64_t count,
                              std::uint64_t rtt_batch);

}  // namespace ipcbench
