// fan_out/N: one producer to N consumers. Two shapes, both throughput only (with the one-way
// delay of sampled records, harness/delay.hpp):
//
// - A channel per consumer (pipes, Unix stream sockets): the producer writes every message to
//   every consumer, one channel after the other; consumer i reads and checks all of them on its
//   own channel (the usual message_codec layout and sequence), so each consumer must get every
//   message intact and in order.
// - A work queue (message queues): one channel, N readers; every message goes to exactly one of
//   them, whichever reads first. A batch ends with N stop records (sequence kWorkStop), one per
//   reader, each of which stops reading at its first. A reader checks every record it takes
//   (the codec, with the sequence its header names), and that its sequence numbers rise (no
//   duplicate within one reader); across readers, the coordinator checks that the counts add up
//   to what was sent and that the sums of work_hash(seq) match the producer's, so a record lost
//   and another taken twice cannot cancel out (a collision needs two 64-bit mixes to agree).
//   Since a reader that is done with one batch could take the next batch's stops, every batch
//   (the sizing run, the warm-up, the timed batch) is ended by stops and followed by a barrier
//   of the coordinator's before the producer sends the next. (Without go_order::barrier the
//   warm-up records go ahead of the timed records in one batch, which the readers tell apart by
//   sequence number.)
//
// Peer side, but for assemble_fan_out, the coordinator's side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/delay.hpp"
#include "harness/peer.hpp"

namespace ipcbench {

// The smallest record whose header holds the whole sequence number (a work queue's records).
inline constexpr std::size_t kWorkQueueMinSize = 8;
// The sequence number of a work queue's stop record.
inline constexpr std::uint64_t kWorkStop = ~std::uint64_t{0} - 1;

// A 64-bit mix of a sequence number (splitmix64's finaliser).
constexpr std::uint64_t work_hash(std::uint64_t seq) noexcept {
  std::uint64_t z = seq + 0x9e37'79b9'7f4a'7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
  return z ^ (z >> 31);
}

// The sequence number in a record's header (its first 8 bytes, little-endian).
inline std::uint64_t record_sequence(std::span<const std::byte> got) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < got.size(); ++i)
    v |= static_cast<std::uint64_t>(got[i]) << (8 * i);
  return v;
}

// The peer's report of one batch's timing and CPU, filled in by the callers below.
struct fan_out_window {
  std::int64_t t0 = 0, t1 = 0;
  peer_cpu c0, c1;
};

namespace detail {

inline peer_report fan_out_report(std::uint64_t messages, const integrity_tally& tally,
                                  const fan_out_window& w) {
  peer_report report;
  report.messages = messages;
  report.integrity_errors = tally.total();
  report.integrity_summary = tally.summary();
  report.t0 = w.t0;
  report.t1 = w.t1;
  report.cpu = {w.c1.user_ns - w.c0.user_ns, w.c1.sys_ns - w.c0.sys_ns,
                w.c1.total_ns - w.c0.total_ns};
  return report;
}

// The conversation of a member of a fan-out over a channel per consumer, once its ends are open:
// the sizing run, the warm-up flowing into the timed batch, the report of that batch; then
// `close` drops its ends (a partner still waiting sees them close) and it waits for the exit
// order. `batch(n)` sends or receives n messages.
//
// `delay` samples the timed records (harness/delay.hpp): sequence numbers run on from the sizing
// run through the warm-up, so the timed batch starts at sizing + warm.
//
// A paced producer (s.pace) keeps to its schedule in every batch, restarted at each.
template <class Batch, class Close>
void stream_conversation(control_link& ctl, const run_request& req, peer_state& s, Batch& batch,
                         Close close, delay_sampler& delay) {
  const auto sizing = expect_message<warmup_order>(ctl, req.timeout * 2).count;
  s.pace.restart();
  send_message(ctl, warm_notice{timed_sizing_run(sizing, batch)});
  const auto go = expect_message<go_order>(ctl, req.timeout * 2);
  delay = delay_sampler(sizing + go.warm, go.count);
  s.pace.restart();
  batch(go.warm);
  if (go.barrier) {
    hold_at_barrier(ctl, go);
    s.pace.restart();
  }
  fan_out_window w;
  w.c0 = cpu_now();
  w.t0 = now_ns();
  batch(go.count);
  w.t1 = now_ns();
  w.c1 = cpu_now();
  peer_report report = fan_out_report(go.count, s.tally, w);
  report.delay_ns.push_back(delay.notes());
  send_message(ctl, report);
  close();
  expect_message<exit_order>(ctl, req.timeout * 2);
}

}  // namespace detail

// The producer of a fan-out over a channel per consumer: every message to every endpoint.
template <endpoint E>
int run_fan_out_producer(std::vector<E> eps_in, control_link& ctl, const run_request& req) {
  peer_state s(req.message_size, endpoint_headroom<E>);
  s.pace = pacer(req.send_rate);
  std::optional<std::vector<E>> eps(std::move(eps_in));
  send_message(ctl, opened_notice{});
  delay_sampler delay;
  auto batch = [&](std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t seq = s.next_seq++;
      const auto msg = s.codec.stamp(seq);
      s.pace.wait_turn();
      if (delay.due(seq)) delay.note(seq, sent_at(s.pace));
      for (E& ep : *eps)
        if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    }
  };
  detail::stream_conversation(
      ctl, req, s, batch, [&] { eps.reset(); }, delay);
  return 0;
}

// A consumer of a fan-out over a channel per consumer: the usual stream check on its channel.
template <endpoint E>
int run_fan_out_consumer(E endpoint_in, control_link& ctl, const run_request& req) {
  peer_state s(req.message_size, endpoint_headroom<E>);
  std::optional<E> endpoint(std::move(endpoint_in));
  send_message(ctl, opened_notice{});
  delay_sampler delay;
  auto batch = [&](std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t seq = s.next_seq;
      consume_one(*endpoint, s, false);
      if (delay.due(seq)) delay.note(seq, now_ns());
    }
  };
  detail::stream_conversation(
      ctl, req, s, batch, [&] { endpoint.reset(); }, delay);
  return 0;
}

// Either side of a work queue with `readers` consumers (see the top of this file).
template <endpoint E>
int run_work_queue_peer(E endpoint_in, role r, control_link& ctl, const run_request& req,
                        std::size_t readers) {
  peer_state s(req.message_size, endpoint_headroom<E>);
  if (r == role::producer) s.pace = pacer(req.send_rate);
  std::optional<E> endpoint(std::move(endpoint_in));
  E& ep = *endpoint;
  send_message(ctl, opened_notice{});
  std::uint64_t hash = 0;  // of the timed records
  delay_sampler delay;     // of the timed records, by sequence number
  auto produce = [&](std::uint64_t n, std::uint64_t timed_from) {
    s.pace.restart();  // each batch paced from its start
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t seq = s.next_seq++;
      if (seq >= timed_from) hash += work_hash(seq);
      const auto msg = s.codec.stamp(seq);
      s.pace.wait_turn();
      if (delay.due(seq)) delay.note(seq, sent_at(s.pace));
      if (ep.send(msg) != io_status::ok) throw_channel_closed("send", seq);
    }
  };
  auto stop_all = [&] {
    for (std::size_t i = 0; i < readers; ++i)
      if (ep.send(s.codec.stamp(kWorkStop)) != io_status::ok)
        throw_channel_closed("send", kWorkStop);
  };
  // A reader's batch: until its stop record. Records from `timed_from` on are counted, hashed
  // and, at the first of them, the window starts.
  std::uint64_t taken = 0;
  std::optional<std::uint64_t> last;
  fan_out_window w;
  auto consume = [&](std::uint64_t timed_from) {
    for (std::uint64_t i = 0;; ++i) {
      const std::ptrdiff_t got = ep.receive(s.rbuf);
      if (got < 0) throw_receive_failed(got, i);
      const std::span<const std::byte> rec(s.rbuf.data(), static_cast<std::size_t>(got));
      const std::uint64_t seq = record_sequence(rec);
      const integrity_error e = s.codec.check(rec, seq);
      s.tally.add(e, seq);
      if (e != integrity_error::none) continue;
      if (seq == kWorkStop) return;
      if (last && seq <= *last) s.tally.add(integrity_error::sequence, seq);  // taken twice
      last = seq;
      if (seq < timed_from) continue;
      if (delay.due(seq)) delay.note(seq, now_ns());
      if (taken++ == 0) {
        w.c0 = cpu_now();
        w.t0 = now_ns();
      }
      hash += work_hash(seq);
    }
  };

  const auto sizing = expect_message<warmup_order>(ctl, req.timeout * 2).count;
  const std::int64_t w0 = now_ns();
  if (r == role::producer) {
    produce(sizing, ~std::uint64_t{0});
    stop_all();
  } else {
    consume(~std::uint64_t{0});
  }
  send_message(ctl, warm_notice{now_ns() - w0});
  const auto go = expect_message<go_order>(ctl, req.timeout * 2);
  const std::uint64_t timed_from = sizing + go.warm;
  delay = delay_sampler(timed_from, go.count);
  if (go.barrier) {
    // The warm-up is a batch of its own, ended by stops; the barrier holds every reader until
    // all have taken theirs, so none can take a stop of the timed batch.
    if (r == role::producer) {
      produce(go.warm, timed_from);
      stop_all();
    } else {
      consume(timed_from);
    }
    hold_at_barrier(ctl, go);
  } else if (r == role::producer) {
    produce(go.warm, timed_from);
  }
  if (r == role::producer) {
    w.c0 = cpu_now();
    w.t0 = now_ns();
    produce(go.count, timed_from);
    stop_all();
  } else {
    consume(timed_from);
  }
  w.t1 = now_ns();
  w.c1 = cpu_now();
  if (r == role::consumer && taken == 0) w.c0 = w.c1, w.t0 = w.t1;  // it got none
  peer_report report = detail::fan_out_report(r == role::producer ? go.count : taken, s.tally, w);
  report.work_hash = hash;
  report.delay_ns.push_back(delay.notes());
  send_message(ctl, report);
  endpoint.reset();
  expect_message<exit_order>(ctl, req.timeout * 2);
  return 0;
}

// The coordinator's side: one producer to N consumers: the aggregate of every consumer's
// messages over the window from the producer's start to the last consumer's end; fairness from
// each consumer's rate over its own window. Over a work queue (the reports carry work_hash), the
// consumers' counts must add up to the producer's and their hashes to its hash: a record lost
// or taken twice is an integrity error.
run_result assemble_fan_out(const run_request& req, const group_program& program,
                            const group_reports& b);

}  // namespace ipcbench
