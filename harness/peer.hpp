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

// One side's state across warm-up and timed batch. With the endpoint's headroom
// (endpoint_headroom, mechanisms/adapter.hpp) before every stamped message and before rbuf.
struct peer_state {
  explicit peer_state(std::size_t size, std::size_t headroom = 0)
      : codec(size, headroom),
        rbuf_storage(codec.make_receive_buffer()),
        rbuf(codec.receive_span(rbuf_storage)) {}
  peer_state(const peer_state&) = delete;
  peer_state& operator=(const peer_state&) = delete;
  message_codec codec;
  std::vector<std::byte> rbuf_storage;  // headroom, then the message
  std::span<std::byte> rbuf;            // the message's part of rbuf_storage
  integrity_tally tally;
  sequence_tracker seqs;  // lossy mechanisms only
  std::uint64_t next_seq = 0;
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

// Lossy receive: one message (a reply when `reply`), checked against the number it carries;
// nullopt on a timeout.
template <endpoint E>
inline std::optional<lossy_arrival> receive_lossy(E& ep, peer_state& s, bool reply) {
  const std::ptrdiff_t n = ep.receive(s.rbuf);
  if (n == kTimedOut) return std::nullopt;
  if (n < 0) throw_receive_failed(n, s.seqs.next());
  const std::span<const std::byte> got{s.rbuf.data(), static_cast<std::size_t>(n)};
  const std::uint64_t expected = s.seqs.next();
  const std::uint64_t wire = s.codec.sequence_of(got, reply ? reply_sequence(expected) : expected);
  const std::uint64_t seq = reply ? reply_sequence(wire) : wire;
  const auto how = s.seqs.arrived(seq);
  s.tally.add(how == sequence_tracker::arrival::stray ? integrity_error::sequence
                                                      : s.codec.check(got, wire),
              seq);
  return lossy_arrival{seq, how};
}

// Lossy producer of `count` round trips: an old reply arriving again is counted and skipped; a
// reply that never comes counts that round trip lost and ends the batch.
template <endpoint E>
inline void ping_pong_lossy(E& ep, peer_state& s, std::uint64_t count, histogram* h) {
  const std::uint64_t end = s.next_seq + count;
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
// round trip, so the consumer only stops.
template <endpoint E>
inline void consume_lossy(E& ep, peer_state& s, std::uint64_t count, bool reply) {
  const std::uint64_t end = s.next_seq + count;
  while (s.seqs.next() < end) {
    const auto got = receive_lossy(ep, s, false);
    if (!got) break;
    const bool fresh = got->how == sequence_tracker::arrival::in_order ||
                       got->how == sequence_tracker::arrival::after_gap;
    if (reply && fresh && ep.send(s.codec.stamp(reply_sequence(got->seq))) != io_status::ok)
      throw_channel_closed("send", got->seq);
  }
  if (reply)
    s.seqs.skip_to(end);
  else
    s.seqs.close_batch(end);
  s.next_seq = end;
}

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
  // Declared first: outlives the endpoint (see "exit" below).
  peer_state s(req.message_size, endpoint_headroom<E>);
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
  send_message(ctl, warm_notice{now_ns() - w0});

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
  report.t1 = t1;
  report.cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns};
  if (timed_rtt) report.rtt = std::move(h);
  if (req.lossy)
    report.loss =
        loss_counts{s.seqs.lost(), s.seqs.duplicated(), s.seqs.reordered(), s.seqs.expected()};
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
