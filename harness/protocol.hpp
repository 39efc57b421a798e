// The messages of the control channel between the coordinator and one peer, typed, with their
// nlohmann::json forms (to_json/from_json, found by ADL) and the request a launched peer reads.
// Plain values; both sides of the fork use them (the peer sends what the coordinator reads and
// the other way round). from_json throws nlohmann::json::exception on a missing or mistyped key.
//
// The conversation, one per run (run_peer() is the peer, coordinate() the coordinator):
//   peer: opened_notice     coordinator: warmup_order {count} (a sizing run)
//   peer: warm_notice {ns}  (after the untimed sizing run)
//                           coordinator: go_order {warm, count, ...} (the consumer first)
//   peer: peer_report       (after the warm-up and, straight after it with no pause, the timed
//                           batch; a stream (go_order::barrier) instead sends warmed_notice
//                           after its warm-up and waits for start_order, which the coordinator
//                           sends once every peer is warmed: the channel is then empty, so the
//                           timed window holds the timed batch alone)
//                           coordinator: exit_order, once it has both reports; only then may a
//                           peer free its buffers
// A peer that fails sends peer_error instead of whatever came next, and exits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/control.hpp"
#include "harness/histogram.hpp"
#include "harness/library_threads.hpp"
#include "harness/session.hpp"

namespace ipcbench {

// Peer: its endpoint is open.
struct opened_notice {
  static constexpr const char* kType = "opened";
};

// Coordinator: run `count` untimed messages (round trips) now, to size what follows.
struct warmup_order {
  static constexpr const char* kType = "warmup";
  std::uint64_t count = 0;
};

// Peer: the warm-up is done; it took `ns` (now_ns()).
struct warm_notice {
  static constexpr const char* kType = "warm";
  std::int64_t ns = 0;
};

// Coordinator: run `warm` untimed messages (round trips), sized to a time, and then at once,
// with no pause in which a CPU could go idle, the timed batch of `count`.
struct go_order {
  static constexpr const char* kType = "go";
  std::uint64_t warm = 0;
  std::uint64_t count = 0;
  std::uint64_t rtt_batch = 1;          // producer: round trips per timed sample
  std::uint64_t turnaround_stride = 0;  // consumer: time the turnaround of every n-th; 0: never
  std::vector<int> stat_cpus;           // producer: CPUs whose /proc/stat times it reads
  std::vector<int> helper_pids;         // producer: helper processes whose CPU time it reads
  // A stream: after the warm-up, warmed_notice, then wait at most barrier_ms for start_order
  // before the timed batch. Without the barrier, warm-up messages still queued when the
  // producer's clock starts would drain inside the timed window (a deep queue reads slow).
  bool barrier = false;
  std::int64_t barrier_ms = 0;
  // One pair, not lossy: the timed batch in this many parts (sub_batch_end), back to back with
  // nothing between them but, at each part's end, one clock read (the consumer of a stream) or a
  // switch to the next histogram (the producer of ping-pong). 0: one part.
  std::uint64_t sub_batches = 0;
};

// The messages (round trips) of a timed batch of `count` through the end of part `part` (1 to
// `parts`) of go_order::sub_batches, whole multiples of `unit` (go_order::rtt_batch) but the
// last, which ends at `count`. Both peers and the coordinator split a batch by it.
constexpr std::uint64_t sub_batch_end(std::uint64_t count, std::uint64_t parts, std::uint64_t unit,
                                      std::uint64_t part) {
  if (part >= parts) return count;
  return count / unit * part / parts * unit;
}

// Peer (a stream, go_order::barrier): its warm-up is done, every warm-up message sent (a
// producer) or received and checked (a consumer).
struct warmed_notice {
  static constexpr const char* kType = "warmed";
};

// Coordinator: every peer is warmed; start the timed batch now.
struct start_order {
  static constexpr const char* kType = "start";
};

// Loss accounting of one peer of a lossy mechanism (sequence_tracker's counts).
struct loss_counts {
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t expected = 0;   // messages this peer was to receive in the batch
  std::uint64_t stale = 0;      // messages of an earlier batch that arrived in this one
  std::uint64_t delivered = 0;  // distinct messages of the batch that arrived
};

// Peer: what it saw in the timed batch.
struct peer_report {
  static constexpr const char* kType = "result";
  std::uint64_t messages = 0;  // of the timed batch
  std::uint64_t integrity_errors = 0;
  std::string integrity_summary;  // integrity_tally::summary()
  std::int64_t t0 = 0;            // now_ns() when the batch started
  std::int64_t t1 = 0;            // and when it ended
  peer_cpu cpu;                   // CPU time spent in the batch
  std::optional<histogram> rtt;   // the producer of a latency run: every round trip (or batch)
  std::optional<histogram> turnaround;        // the consumer of a latency run: sampled turnarounds
  std::optional<cpu_window> cpu_states;       // the producer: stat_cpus over the timed batch
  std::optional<std::int64_t> helper_cpu_ns;  // the producer: helper_pids over the timed batch
  // How long this peer's thread waited runnable for its CPU over the timed batch, another task
  // running there (run_delay_reader); nullopt where it could not be read.
  std::optional<std::int64_t> waited_ns;
  // Where this peer's library threads ran (a mechanism with library_cpus, process peers):
  // harness/library_threads.hpp.
  std::optional<library_time> library;
  std::optional<loss_counts> loss;  // lossy mechanisms only, of the timed batch alone
  // The consumer of a fan-in run over a stream (harness/fan_in.hpp): records of the whole run
  // (sizing, warm-up and timed batch) that arrived in more than one piece.
  std::optional<std::uint64_t> torn;
  // fan_out/N over a work queue (harness/fan_out.hpp): the sum, modulo 2^64, of work_hash(seq)
  // over the timed batch's records this peer sent (the producer) or took (a consumer).
  std::optional<std::uint64_t> work_hash;
  // fan_in/N and fan_out/N (harness/delay.hpp): the notes of the sampled timed records, one list
  // per stream this member sends or takes (a fan-in consumer: one per producer), -1 where none.
  std::vector<std::vector<std::int64_t>> delay_ns;
  // go_order::sub_batches: the consumer of a stream, now_ns() at the end of each part; the
  // producer of ping-pong, each part's median round trip (or sample, go_order::rtt_batch).
  std::vector<std::int64_t> sub_ends_ns;
  std::vector<std::int64_t> sub_p50_ns;
};

// Coordinator: both reports are in; the peer may free its buffers and exit.
struct exit_order {
  static constexpr const char* kType = "exit";
};

// Peer: it failed; `what` says why. Sent in place of the next message, then the peer exits.
struct peer_error {
  static constexpr const char* kType = "error";
  std::string what;
};

void to_json(nlohmann::json& j, const opened_notice& m);
void from_json(const nlohmann::json& j, opened_notice& m);
void to_json(nlohmann::json& j, const warmup_order& m);
void from_json(const nlohmann::json& j, warmup_order& m);
void to_json(nlohmann::json& j, const warm_notice& m);
void from_json(const nlohmann::json& j, warm_notice& m);
void to_json(nlohmann::json& j, const go_order& m);
void from_json(const nlohmann::json& j, go_order& m);
void to_json(nlohmann::json& j, const warmed_notice& m);
void from_json(const nlohmann::json& j, warmed_notice& m);
void to_json(nlohmann::json& j, const start_order& m);
void from_json(const nlohmann::json& j, start_order& m);
void to_json(nlohmann::json& j, const peer_report& m);
void from_json(const nlohmann::json& j, peer_report& m);
void to_json(nlohmann::json& j, const exit_order& m);
void from_json(const nlohmann::json& j, exit_order& m);
void to_json(nlohmann::json& j, const peer_error& m);
void from_json(const nlohmann::json& j, peer_error& m);

// The part of a run_request a launched peer reads (spawn process model's --request): pattern,
// message size, timeout, lossy, the timer's cost and the send rate; the rest stays behind and reads
// back as its default. from_json also throws std::invalid_argument on an unknown pattern.
void to_json(nlohmann::json& j, const run_request& req);
void from_json(const nlohmann::json& j, run_request& req);

// Sends one typed message. Throws peer_gone when the other side has closed the channel.
template <class Message>
void send_message(control_link& link, const Message& m) {
  link.send(nlohmann::json(m));
}

// Waits at most `timeout` for a message of Message's type (control_link::expect) and reads it.
// Throws std::runtime_error on a timeout, another type or a peer_error (with its text),
// peer_gone on EOF, nlohmann::json::exception on a malformed message.
template <class Message>
Message expect_message(control_link& link, std::chrono::milliseconds timeout) {
  return link.expect(Message::kType, timeout).template get<Message>();
}

}  // namespace ipcbench
