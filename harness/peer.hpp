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

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/control.hpp"
#include "harness/histogram.hpp"
#include "harness/library_threads.hpp"
#include "harness/message.hpp"
#include "harness/pacer.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"
#include "mechanisms/adapter.hpp"
#include "sys/helper_daemon.hpp"
#include "sys/system.hpp"

namespace ipcbench {

// The CPU time of this peer: its process, or, after use_thread_clocks() (harness/session.hpp),
// its thread alone.
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
  std::uint64_t received = 0;     // lossy: every message received, all batches
  std::int64_t batch_end_ns = 0;  // lossy consumer: see consume_lossy()
  pacer pace;  // a stream's producer: its send schedule (unpaced unless run_request::send_rate)
  std::uint64_t turnaround_countdown = 1;  // consumer: messages until the next timed turnaround
};

// Endpoints that copy the message out themselves (shared-memory rings) take a copier, so the
// copy and the check of the body are one pass.
template <class E>
concept fused_receiver = requires(E& e, std::span<std::byte> in, copy_check& c) {
  { e.receive(in, c) } -> std::same_as<std::ptrdiff_t>;
};

// Endpoints that lend the sender memory of the channel (zero-copy middleware): the message is
// written straight into it (message_codec::write) instead of being stamped and copied.
template <class E>
concept loaning_sender = requires(E& e, std::size_t n, const message_writer& w) {
  { e.send_loaned(n, w) } -> std::same_as<io_status>;
};

// Endpoints that let the receiver read a message where it lies (zero-copy middleware): the
// check reads it in place, before the endpoint gives the memory back; nothing is copied out.
template <class E>
concept in_place_receiver = requires(E& e, in_place_check& c) {
  { e.receive_in_place(c) } -> std::same_as<std::ptrdiff_t>;
};

// Endpoints that write and check the header alone (E::kHeaderOnly): the "header only" payload
// mode, as some middleware's own benchmarks measure; never a measure of moving data.
template <class E>
concept header_only_endpoint = requires {
  requires E::kHeaderOnly;
};

// How endpoint type E's receiver checks a message (mechanism_traits::verification).
template <endpoint E>
constexpr const char* verification_of() noexcept {
  if constexpr (header_only_endpoint<E>)
    return "header only";
  else if constexpr (in_place_receiver<E>)
    return "in place";
  else if constexpr (fused_receiver<E>)
    return "fused";
  else
    return "separate";
}

// Sends message `seq`: written into lent memory where the endpoint lends it, else stamped and
// sent from the codec's buffer.
template <endpoint E>
inline io_status send_seq(E& ep, peer_state& s, std::uint64_t seq) {
  if constexpr (loaning_sender<E>)
    return ep.send_loaned(s.codec.size(), message_writer{&s.codec, seq});
  else
    return ep.send(s.codec.stamp(seq));
}

// Message `seq` made before it is due, so that making it stays out of a round trip: stamped now
// in one of the codec's two buffers (valid until the next stamp() of the same parity), or
// nothing where the endpoint lends memory, since the message is then written there as it is
// sent. send_made() sends it.
template <endpoint E>
inline std::span<const std::byte> make_ahead(peer_state& s, std::uint64_t seq) noexcept {
  if constexpr (loaning_sender<E>)
    return {};
  else
    return s.codec.stamp(seq);
}

template <endpoint E>
inline io_status send_made(E& ep, peer_state& s, std::uint64_t seq,
                           std::span<const std::byte> made) {
  if constexpr (loaning_sender<E>)
    return send_seq(ep, s, seq);
  else
    return ep.send(made);
}

// Receives message `seq` (as its sender numbered it) and checks it, in one pass where the
// endpoint allows. Returns the length; throws when the channel failed.
template <endpoint E>
inline std::size_t receive_checked(E& ep, peer_state& s, std::uint64_t seq,
                                   std::uint64_t tally_seq) {
  std::ptrdiff_t n;
  integrity_error e;
  if constexpr (in_place_receiver<E>) {
    in_place_check c{&s.codec, seq};
    n = ep.receive_in_place(c);
    if (n < 0) throw_receive_failed(n, tally_seq);
    e = c.result;
  } else if constexpr (fused_receiver<E>) {
    copy_check copier(s.codec.size(), seq);
    n = ep.receive(s.rbuf, copier);
    if (n < 0) throw_receive_failed(n, tally_seq);
    e = s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq, copier);
  } else {
    n = ep.receive(s.rbuf);
    if (n < 0) throw_receive_failed(n, tally_seq);
    e = s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq);
  }
  s.tally.add(e, tally_seq);
  return static_cast<std::size_t>(n);
}

// Consumer side of one round trip / one streamed message: receive, check, (reply). With
// `turnaround`, the time from the request's arrival to the reply's hand-over (check, send)
// of every `stride`-th message is recorded: the service time inside the round trip. Only some
// are timed, so the clock reads (two per sample) add less than 1/stride of their cost to the
// round trip seen by the producer.
template <endpoint E>
inline void consume_one(E& ep, peer_state& s, bool reply, histogram* turnaround = nullptr,
                        std::uint64_t stride = 0) {
  const std::uint64_t seq = s.next_seq++;
  // A countdown, not seq % stride: a division per message would cost more than some round trips.
  const bool timed = turnaround != nullptr && stride != 0 && --s.turnaround_countdown == 0;
  if (timed) s.turnaround_countdown = stride;
  // The reply does not depend on the request's bytes, so it is stamped before the request is
  // awaited: the round trip holds the consumer's check and send, not its stamping (as the
  // producer's samples hold no stamping either). A loaning sender writes it when it sends.
  const auto answer = reply ? make_ahead<E>(s, reply_sequence(seq)) : std::span<const std::byte>{};
  std::int64_t t0 = 0;
  if constexpr (in_place_receiver<E>) {
    // The check reads the message in place, inside receive_in_place(): as for a fused receiver.
    in_place_check c{&s.codec, seq};
    const std::ptrdiff_t n = ep.receive_in_place(c);
    if (n < 0) throw_receive_failed(n, seq);
    if (timed) t0 = now_ns();
    s.tally.add(c.result, seq);
  } else if constexpr (fused_receiver<E>) {
    // The check happens during the copy-out, inside receive(): the turnaround starts before it.
    copy_check copier(s.codec.size(), seq);
    const std::ptrdiff_t n = ep.receive(s.rbuf, copier);
    if (n < 0) throw_receive_failed(n, seq);
    if (timed) t0 = now_ns();
    s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq, copier), seq);
  } else {
    const std::ptrdiff_t n = ep.receive(s.rbuf);
    if (n < 0) throw_receive_failed(n, seq);
    if (timed) t0 = now_ns();
    s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq), seq);
  }
  if (reply && send_made(ep, s, reply_sequence(seq), answer) != io_status::ok)
    throw_channel_closed("send", seq);
  if (timed) turnaround->record(now_ns() - t0);
}

// Producer side of `count` round trips; records each RTT when `h` is given: the clock is read
// right before the send and right after the receive, so stamping and checking stay outside
// (where the endpoint copies out itself, the check is part of that copy: fused_receiver).
// With `per_sample` > 1 (round trips too short for one clock read per sample to be negligible)
// each sample is the mean of `per_sample` back-to-back round trips, stamping and checking
// included, from one pair of clock reads; `count` is then a multiple of `per_sample`.
// With `tsc_ns_per_tick` > 0 such short round trips are timed one by one instead: one read of
// the time-stamp counter after each (the previous read starts it), so every sample is one round
// trip, that read and checking included, and the tails are those of round trips. The samples
// tile the time between reads, so what the loop does besides the round trip (recording the last
// sample, stamping the next message) is done right after the send, while the message travels:
// it adds to a round trip only if it outlasts the answer.
template <endpoint E>
inline void ping_pong(E& ep, peer_state& s, std::uint64_t count, histogram* h,
                      std::uint64_t per_sample = 1, double tsc_ns_per_tick = 0) {
  if (h != nullptr && per_sample > 1 && tsc_ns_per_tick > 0) {
    auto msg = make_ahead<E>(s, s.next_seq);
    std::uint64_t prev = read_tsc();
    std::uint64_t ticks = 0;  // the last round trip's, recorded after the next send
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t seq = s.next_seq++;
      if (send_made(ep, s, seq, msg) != io_status::ok) throw_channel_closed("send", seq);
      if (i != 0) h->record(std::llround(static_cast<double>(ticks) * tsc_ns_per_tick));
      // Into the other parity's buffer, sent a round trip ago and answered since.
      msg = make_ahead<E>(s, s.next_seq);
      receive_checked(ep, s, reply_sequence(seq), seq);
      const std::uint64_t now = read_tsc();
      ticks = now - prev;
      prev = now;
    }
    if (count != 0) h->record(std::llround(static_cast<double>(ticks) * tsc_ns_per_tick));
    return;
  }
  if (h != nullptr && per_sample > 1) {
    for (std::uint64_t i = 0; i < count; i += per_sample) {
      const std::uint64_t k = std::min(per_sample, count - i);
      const std::int64_t t0 = now_ns();
      for (std::uint64_t j = 0; j < k; ++j) {
        const std::uint64_t seq = s.next_seq++;
        if (send_seq(ep, s, seq) != io_status::ok) throw_channel_closed("send", seq);
        receive_checked(ep, s, reply_sequence(seq), seq);
      }
      const std::int64_t t1 = now_ns();
      h->record((t1 - t0 + static_cast<std::int64_t>(k / 2)) / static_cast<std::int64_t>(k));
    }
    return;
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seq = s.next_seq++;
    if constexpr (loaning_sender<E> || in_place_receiver<E>) {
      // Zero-copy: the message is made in the lent memory, so making it is part of the send.
      const std::int64_t t0 = now_ns();
      if (send_seq(ep, s, seq) != io_status::ok) throw_channel_closed("send", seq);
      receive_checked(ep, s, reply_sequence(seq), seq);
      const std::int64_t t1 = now_ns();
      if (h != nullptr) h->record(t1 - t0);
      continue;
    }
    const auto msg = s.codec.stamp(seq);
    const std::int64_t t0 = now_ns();
    if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    if constexpr (fused_receiver<E>) {
      receive_checked(ep, s, reply_sequence(seq), seq);
      const std::int64_t t1 = now_ns();
      if (h != nullptr) h->record(t1 - t0);
    } else {
      const std::ptrdiff_t n = ep.receive(s.rbuf);
      const std::int64_t t1 = now_ns();
      if (n < 0) throw_receive_failed(n, seq);
      if (h != nullptr) h->record(t1 - t0);
      s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, reply_sequence(seq)),
                  seq);
    }
  }
}

// Producer of a stream: `count` messages back to back, or each when s.pace says it is due (a
// paced stream; the message is stamped before the wait, so only the send follows the schedule).
template <endpoint E>
inline void stream_out(E& ep, peer_state& s, std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seq = s.next_seq++;
    if constexpr (loaning_sender<E>) {
      s.pace.wait_turn();
      if (send_seq(ep, s, seq) != io_status::ok) throw_channel_closed("send", seq);
    } else {
      const auto msg = s.codec.stamp(seq);
      s.pace.wait_turn();
      if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    }
  }
}

// A stream's barrier after its warm-up (go_order::barrier): says the warm-up is done and waits
// for the coordinator's start, which comes once every peer is warmed. Nothing is then left in
// the channel, so the timed window holds the timed batch alone. No-op without the barrier.
inline void hold_at_barrier(control_link& ctl, const go_order& go) {
  if (!go.barrier) return;
  send_message(ctl, warmed_notice{});
  expect_message<start_order>(ctl, std::chrono::milliseconds(go.barrier_ms));
}

// What a timed batch records besides its messages.
struct batch_timing {
  histogram* rtt = nullptr;         // producer, latency
  std::uint64_t rtt_batch = 1;      // round trips per rtt sample
  double tsc_ns_per_tick = 0;       // producer: time short round trips one by one (ping_pong)
  histogram* turnaround = nullptr;  // consumer, latency
  std::uint64_t turnaround_stride = 0;
};

template <endpoint E>
inline void run_batch(E& ep, peer_state& s, role r, pattern p, std::uint64_t count,
                      const batch_timing& t = {}) {
  if (r == role::producer) {
    if (p == pattern::latency)
      ping_pong(ep, s, count, t.rtt, t.rtt_batch, t.tsc_ns_per_tick);
    else
      stream_out(ep, s, count);
  } else {
    const bool reply = p == pattern::latency;
    for (std::uint64_t i = 0; i < count; ++i)
      consume_one(ep, s, reply, t.turnaround, t.turnaround_stride);
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

// /proc/stat times of `cpus` now (those it can read).
inline std::map<int, cpu_state_times> read_cpu_states(const std::vector<int>& cpus) {
  std::map<int, cpu_state_times> out;
  for (int cpu : cpus)
    if (auto t = read_cpu_state_times(cpu)) out[cpu] = *t;
  return out;
}

// The summed CPU time of helper processes now (process_cpu_ns), or nullopt when one of them
// cannot be read (it has ended: then the run fails anyway).
inline std::optional<std::int64_t> helper_cpu_now(const std::vector<int>& pids) {
  std::int64_t sum = 0;
  for (int pid : pids) {
    const auto ns = process_cpu_ns(pid);
    if (!ns) return std::nullopt;
    sum += *ns;
  }
  return sum;
}

// The sizing run of `sizing` messages, run_batch(n) running n of them: the time it took, ns.
// Only the last three quarters are timed, scaled to the whole: the first messages pay the cold
// start (page faults, a sleeping partner), which would make the batch sizes (and the rtt_batch
// of short round trips) those of a slower channel. Below 8 messages the whole run is timed.
template <class F>
std::int64_t timed_sizing_run(std::uint64_t sizing, F&& run_batch) {
  const std::uint64_t cold = sizing < 8 ? 0 : sizing / 4;
  if (cold != 0) run_batch(cold);
  const std::uint64_t rest = sizing - cold;
  const std::int64_t w0 = now_ns();
  if (rest != 0) run_batch(rest);
  if (rest == 0) return 0;
  const double ns =
      static_cast<double>(now_ns() - w0) * static_cast<double>(sizing) / static_cast<double>(rest);
  return static_cast<std::int64_t>(ns);
}

// The whole life of a peer after its endpoint is open. Returns the exit code.
template <endpoint E>
int run_peer(E endpoint_in, role r, control_link& ctl, const run_request& req) {
  // Declared first: outlives the endpoint (see "exit" below).
  peer_state s(req.message_size, endpoint_headroom<E>);
  std::optional<E> endpoint(std::move(endpoint_in));
  E& ep = *endpoint;
  send_message(ctl, opened_notice{});
  // A paced stream's producer keeps to req.send_rate in every batch, the sizing run included,
  // so the coordinator sizes the timed batch at the paced rate.
  if (r == role::producer && req.pat == pattern::throughput) s.pace = pacer(req.send_rate);
  auto batch = [&](std::uint64_t n, const batch_timing& t) {
    if (req.lossy)
      run_lossy_batch(ep, s, r, req.pat, n, t.rtt);
    else
      run_batch(ep, s, r, req.pat, n, t);
  };

  // The sizing run: untimed, followed by a pause while the coordinator sizes the batch.
  const auto sizing = expect_message<warmup_order>(ctl, req.timeout * 2).count;
  if (req.lossy) s.seqs.extend_to(s.next_seq + sizing);
  s.pace.restart(now_ns());
  // A lossy consumer's sizing run ends at its last arrival too: the receive timeout that ended
  // it would otherwise size the timed batch as if every message took that long.
  const bool lossy_consumer = req.lossy && r == role::consumer;
  if (req.lossy || sizing < 8) {
    const std::int64_t w0 = now_ns();
    batch(sizing, {});
    send_message(ctl, warm_notice{(lossy_consumer ? s.batch_end_ns : now_ns()) - w0});
  } else {
    send_message(ctl,
                 warm_notice{timed_sizing_run(sizing, [&](std::uint64_t n) { batch(n, {}); })});
  }

  const auto go = expect_message<go_order>(ctl, req.timeout * 2);
  // The parts of the timed batch (go_order::sub_batches): a stream's consumer reads the clock at
  // the end of each; ping-pong's producer records each part's round trips in a histogram of its
  // own, merged into the batch's after the clock stops. Made before the warm-up, so that their
  // memory is neither allocated nor first touched between the warm-up and the timed batch.
  const bool split = go.sub_batches > 1 && !req.lossy;
  const bool split_stream = split && r == role::consumer && req.pat == pattern::throughput;
  const bool split_rtt = split && r == role::producer && req.pat == pattern::latency;
  std::vector<histogram> parts(split_rtt ? go.sub_batches : 0);
  std::vector<std::int64_t> part_ends;
  if (split_stream) part_ends.reserve(go.sub_batches);
  // This peer's wait for its CPU (run_delay_reader): its file opened here, before the warm-up (an
  // open and close take about 3.6 us on the development VM), and read with one pread (0.75 us)
  // on either side of the timed batch.
  const run_delay_reader run_delay;
  if (req.lossy) s.seqs.extend_to(s.next_seq + go.warm + go.count);
  // The warm-up, sized to a time, flows straight into a round-trip batch: no pause in which a
  // CPU could go idle, so the first timed message finds both peers as warm as the last (a
  // stream holds at the barrier between them instead, so that nothing is queued). The
  // producer reads /proc/stat halfway through it (the read takes tens of microseconds, which
  // would be a pause right before the clock starts), so the per-CPU window holds the timed batch
  // and the second half of the warm-up.
  const bool read_states = r == role::producer && !go.stat_cpus.empty();
  std::map<int, cpu_state_times> states0;
  std::int64_t states_t0 = 0;
  // Where the library's threads run (harness/library_threads.hpp) is read at the same point by
  // both peers of one pair (a topology's report keeps none), each pinned to one CPU, and again
  // after the timed batch: a read of each thread's two files, about 16 us per thread on the
  // development VM, inside the warm-up.
  const int library_cpu =
      !req.library_cpus.empty() && !req.thread_peers && !req.group_member ? pinned_cpu() : -1;
  std::optional<task_snapshot> library0;
  std::int64_t library_t0 = 0;
  // One schedule over the warm-up and the timed batch: they flow into each other.
  s.pace.restart();
  if (read_states || library_cpu >= 0) {
    batch(go.warm / 2, {});
    if (read_states) {
      states_t0 = now_ns();
      states0 = read_cpu_states(go.stat_cpus);
    }
    if (library_cpu >= 0) {
      library_t0 = now_ns();
      library0 = snapshot_other_threads();
    }
    batch(go.warm - go.warm / 2, {});
  } else {
    batch(go.warm, {});
  }
  if (go.barrier) {
    hold_at_barrier(ctl, go);
    s.pace.restart();  // the timed batch's schedule starts at the start order
  }
  peer_report report;
  histogram rtt, turnaround;
  const bool timed_rtt = r == role::producer && req.pat == pattern::latency;
  const bool timed_turnaround =
      r == role::consumer && req.pat == pattern::latency && go.turnaround_stride != 0;
  batch_timing timing;
  if (timed_rtt) timing.rtt = &rtt;
  timing.rtt_batch = go.rtt_batch;
  timing.tsc_ns_per_tick = req.tsc_ns_per_tick;
  if (timed_turnaround) timing.turnaround = &turnaround;
  timing.turnaround_stride = go.turnaround_stride;
  // The helpers' CPU time is read straight around the timed batch (a read of a process's CPU
  // clock takes microseconds, only for mechanisms that have helpers); a helper whose time cannot
  // be read makes the field absent rather than a guess.
  const bool read_helpers = r == role::producer && !go.helper_pids.empty();
  std::optional<std::int64_t> helpers0;
  if (read_helpers) helpers0 = helper_cpu_now(go.helper_pids);
  const std::optional<std::int64_t> waited0 = run_delay.now();
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  if (split_stream || split_rtt) {
    std::uint64_t done = 0;
    for (std::uint64_t k = 1; k <= go.sub_batches; ++k) {
      const std::uint64_t end = sub_batch_end(go.count, go.sub_batches, go.rtt_batch, k);
      if (split_rtt) timing.rtt = &parts[k - 1];
      batch(end - done, timing);
      done = end;
      if (split_stream) part_ends.push_back(now_ns());
    }
  } else {
    batch(go.count, timing);
  }
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();
  const std::optional<std::int64_t> waited1 = run_delay.now();
  if (waited0 && waited1) report.waited_ns = *waited1 - *waited0;
  for (const histogram& part : parts) {
    report.sub_p50_ns.push_back(part.percentile(50));
    rtt.merge(part);
  }
  report.sub_ends_ns = std::move(part_ends);
  if (read_helpers) {
    const auto helpers1 = helper_cpu_now(go.helper_pids);
    if (helpers0 && helpers1) report.helper_cpu_ns = *helpers1 - *helpers0;
  }
  if (library0) {
    if (const auto library1 = snapshot_other_threads()) {
      report.library = library_time_between(*library0, *library1, library_cpu);
      report.library->window_ns = now_ns() - library_t0;
    }
  }

  if (read_states) {
    const auto states1 = read_cpu_states(go.stat_cpus);
    cpu_window w;
    w.window_ns = now_ns() - states_t0;
    for (const auto& [cpu, t] : states1)
      if (auto it = states0.find(cpu); it != states0.end()) w.cpus[cpu] = t - it->second;
    report.cpu_states = std::move(w);
  }
  report.messages = go.count;
  report.integrity_errors = s.tally.total();
  report.integrity_summary = s.tally.summary();
  report.t0 = t0;
  // A lossy stream ends at its last arrival, not after the receive timeout that ended it.
  report.t1 = lossy_consumer ? s.batch_end_ns : t1;
  report.cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns, c1.total_ns - c0.total_ns};
  if (timed_rtt) report.rtt = std::move(rtt);
  if (timed_turnaround) report.turnaround = std::move(turnaround);
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
