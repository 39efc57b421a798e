// The peers' loops, one template instance per endpoint type so the timed loop calls the
// mechanism directly. Runs in a forked peer (or in one process for the null calibration).
//
// The conversation with the coordinator over control_link is in harness/protocol.hpp: opened,
// warm-up, go, the timed batch's peer_report, exit. Sequence numbers run on from the warm-up
// into the timed batch, so the two cannot be confused.
//
// Lossy mechanisms (traits.lossy, UDP) run other loops: a receiver resynchronises on the number
// it received, and sequence_tracker counts lost, duplicated and reordered messages instead of
// failing every message after a gap. A receive that times out (kTimedOut) ends a throughput
// batch with the missing messages counted lost, and ends a latency batch at that round trip.
#pragma once

#include <sys/resource.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/control.hpp"
#include "harness/histogram.hpp"
#include "harness/message.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"
#include "mechanisms/adapter.hpp"
#include "sys/system.hpp"

namespace ipcbench {

peer_cpu cpu_now() noexcept;

struct peer_channel_closed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_channel_closed(const char* op, std::uint64_t seq);
// Turns a receive() result that is not a length into the matching exception.
[[noreturn]] void throw_receive_failed(std::ptrdiff_t code, std::uint64_t seq);

// One side's state across warm-up and timed batch.
struct peer_state {
  explicit peer_state(std::size_t size) : codec(size), rbuf(codec.make_receive_buffer()) {}
  message_codec codec;
  std::vector<std::byte> rbuf;
  integrity_tally tally;
  sequence_tracker seqs;  // lossy mechanisms only
  std::uint64_t next_seq = 0;
  std::uint64_t received = 0;     // lossy: every message received, all batches
  std::int64_t batch_end_ns = 0;  // lossy consumer: see consume_lossy()
};

// Consumer side of one round trip / one streamed message: receive, check, (reply).
template <endpoint E>
inline void consume_one(E& ep, peer_state& s, bool reply) {
  const std::uint64_t seq = s.next_seq++;
  const std::ptrdiff_t n = ep.receive(s.rbuf);
  if (n < 0) throw_receive_failed(n, seq);
  s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq), seq);
  if (reply && ep.send(s.codec.stamp(reply_sequence(seq))) != io_status::ok)
    throw_channel_closed("send", seq);
}

// Producer side of `count` round trips; records each RTT when `h` is given.
template <endpoint E>
inline void ping_pong(E& ep, peer_state& s, std::uint64_t count, histogram* h) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seq = s.next_seq++;
    const auto msg = s.codec.stamp(seq);
    const std::int64_t t0 = now_ns();
    if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    const std::ptrdiff_t n = ep.receive(s.rbuf);
    const std::int64_t t1 = now_ns();
    if (n < 0) throw_receive_failed(n, seq);
    if (h != nullptr) h->record(t1 - t0);
    s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, reply_sequence(seq)),
                seq);
  }
}

template <endpoint E>
inline void stream_out(E& ep, peer_state& s, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seq = s.next_seq++;
    if (ep.send(s.codec.stamp(seq)) != io_status::ok) throw_channel_closed("send", seq);
  }
}

template <endpoint E>
inline void run_batch(E& ep, peer_state& s, role r, pattern p, std::uint64_t count, histogram* h) {
  if (r == role::producer) {
    if (p == pattern::latency)
      ping_pong(ep, s, count, h);
    else
      stream_out(ep, s, count);
  } else {
    for (std::uint64_t i = 0; i < count; ++i) consume_one(ep, s, p == pattern::latency);
  }
}

struct lossy_arrival {
  std::uint64_t seq;
  sequence_tracker::arrival how;
};

// An endpoint that can say how many datagrams the kernel dropped on its socket, since it was
// opened, before the one it last received (UDP: SO_RXQ_OVFL).
template <class E>
concept counts_drops = requires(const E& e) {
  { e.drops_before_last() } -> std::convertible_to<std::uint64_t>;
};

// Lossy receive: one message (a reply when `reply`), checked against the number it carries;
// nullopt on a timeout. A message shorter than 8 bytes carries only the low bits of its number
// (message_codec::sequence_of), which alias once 128 or more in a row are lost: a stream's
// receiver (`stream`) places them by where the datagram must be, the datagrams it received
// before plus those the kernel says it dropped, when the endpoint counts drops.
template <endpoint E>
inline std::optional<lossy_arrival> receive_lossy(E& ep, peer_state& s, bool reply,
                                                  bool stream = false) {
  const std::ptrdiff_t n = ep.receive(s.rbuf);
  if (n == kTimedOut) return std::nullopt;
  if (n < 0) throw_receive_failed(n, s.seqs.next());
  const std::span<const std::byte> got{s.rbuf.data(), static_cast<std::size_t>(n)};
  std::uint64_t expected = s.seqs.next();
  if constexpr (counts_drops<E>) {
    if (stream) expected = s.received + ep.drops_before_last();
  }
  ++s.received;
  const std::uint64_t wire = s.codec.sequence_of(got, reply ? reply_sequence(expected) : expected);
  const std::uint64_t seq = reply ? reply_sequence(wire) : wire;
  const auto how = s.seqs.arrived(seq);
  s.tally.add(how == sequence_tracker::arrival::stray ? integrity_error::sequence
                                                      : s.codec.check(got, wire),
              seq);
  return lossy_arrival{seq, how};
}

// Lossy producer of `count` round trips: an old reply arriving again (or one left over from an
// earlier batch) is counted and skipped; a reply that never comes counts that round trip lost
// and ends the batch.
template <endpoint E>
inline void ping_pong_lossy(E& ep, peer_state& s, std::uint64_t count, histogram* h) {
  const std::uint64_t end = s.next_seq + count;
  s.seqs.start_batch(s.next_seq, end);
  while (s.next_seq < end) {
    const std::uint64_t seq = s.next_seq++;
    const auto msg = s.codec.stamp(seq);
    const std::int64_t t0 = now_ns();
    if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    std::optional<lossy_arrival> got;
    do {
      got = receive_lossy(ep, s, true);
    } while (got && got->seq < seq);
    const std::int64_t t1 = now_ns();
    if (!got) {
      s.seqs.close_batch(seq + 1);
      s.seqs.skip_to(end);
      s.next_seq = end;
      return;
    }
    if (h != nullptr) h->record(t1 - t0);
  }
}

// Lossy consumer of `count` messages: replies (latency) to each new request only. In a stream a
// timeout ends the batch and what never came is lost; in ping-pong the producer counts the lost
// round trip, so the consumer only stops. A message of the next batch also ends this one (the
// sender has moved on). s.batch_end_ns is when the last message of the batch arrived (or the
// batch ended, when none did), so a stream's clock does not run on through the final timeout.
template <endpoint E>
inline void consume_lossy(E& ep, peer_state& s, std::uint64_t count, bool reply) {
  const std::uint64_t end = s.next_seq + count;
  s.seqs.start_batch(s.next_seq, end);
  // A request held over from the batch before (it arrived `ahead`) is answered now.
  if (reply && s.seqs.next() > s.next_seq &&
      ep.send(s.codec.stamp(reply_sequence(s.seqs.next() - 1))) != io_status::ok)
    throw_channel_closed("send", s.seqs.next() - 1);
  std::int64_t last = 0;
  while (s.seqs.next() < end) {
    const auto got = receive_lossy(ep, s, false, !reply);
    if (!got) break;
    if (got->how == sequence_tracker::arrival::ahead) break;
    if (got->how == sequence_tracker::arrival::stale) continue;
    last = now_ns();
    const bool fresh = got->how == sequence_tracker::arrival::in_order ||
                       got->how == sequence_tracker::arrival::after_gap;
    if (reply && fresh && ep.send(s.codec.stamp(reply_sequence(got->seq))) != io_status::ok)
      throw_channel_closed("send", got->seq);
  }
  s.batch_end_ns = last != 0 ? last : now_ns();
  if (reply)
    s.seqs.skip_to(end);
  else
    s.seqs.close_batch(end);
  s.next_seq = end;
}

// Runs `count` messages (round trips) now, counted as one batch of the sequence tracker.
template <endpoint E>
inline void run_lossy_batch(E& ep, peer_state& s, role r, pattern p, std::uint64_t count,
                            histogram* h) {
  if (r == role::consumer)
    consume_lossy(ep, s, count, p == pattern::latency);
  else if (p == pattern::latency)
    ping_pong_lossy(ep, s, count, h);
  else
    stream_out(ep, s, count);
}

// The whole life of a peer after its endpoint is open. Returns the exit code.
template <endpoint E>
int run_peer(E endpoint_in, role r, control_link& ctl, const run_request& req) {
  peer_state s(req.message_size);  // declared first: outlives the endpoint (see "exit" below)
  std::optional<E> endpoint(std::move(endpoint_in));
  E& ep = *endpoint;
  send_message(ctl, opened_notice{});
  auto batch = [&](std::uint64_t n, histogram* h) {
    if (req.lossy)
      run_lossy_batch(ep, s, r, req.pat, n, h);
    else
      run_batch(ep, s, r, req.pat, n, h);
  };

  const auto warm_count = expect_message<warmup_order>(ctl, req.timeout * 2).count;
  if (req.lossy) s.seqs.extend_to(s.next_seq + warm_count);
  const std::int64_t w0 = now_ns();
  batch(warm_count, nullptr);
  // A lossy consumer's warm-up ends at its last arrival too: the receive timeout that ended it
  // would otherwise size the timed batch as if every message took that long.
  const bool lossy_consumer = req.lossy && r == role::consumer;
  send_message(ctl, warm_notice{(lossy_consumer ? s.batch_end_ns : now_ns()) - w0});

  const auto count = expect_message<go_order>(ctl, req.timeout * 2).count;
  histogram h;
  const bool timed_rtt = r == role::producer && req.pat == pattern::latency;
  if (req.lossy) s.seqs.extend_to(s.next_seq + count);
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  batch(count, timed_rtt ? &h : nullptr);
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();

  peer_report report;
  report.messages = count;
  report.integrity_errors = s.tally.total();
  report.integrity_summary = s.tally.summary();
  report.t0 = t0;
  // A lossy stream ends at its last arrival, not after the receive timeout that ended it.
  report.t1 = lossy_consumer ? s.batch_end_ns : t1;
  report.cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns};
  if (timed_rtt) report.rtt = std::move(h);
  if (req.lossy)
    report.loss = loss_counts{s.seqs.lost(),     s.seqs.duplicated(), s.seqs.reordered(),
                              s.seqs.expected(), s.seqs.stale(),      s.seqs.delivered()};
  send_message(ctl, report);
  // Close our end now, so a partner still waiting for a message that will never come sees the
  // channel close; but keep the message buffers until the coordinator has both results: a
  // zero-copy channel (vmsplice) may still reference our last message's pages, and freeing them
  // would let malloc write over bytes the partner has yet to read.
  endpoint.reset();
  expect_message<exit_order>(ctl, req.timeout * 2);
  return 0;
}

}  // namespace ipcbench
