// The peers' loops, one template instance per endpoint type so the timed loop calls the
// mechanism directly. Runs in a forked peer (or in one process for the null calibration).
//
// Protocol with the coordinator (control_link): peer sends "opened"; coordinator sends
// "warmup" {count}; peer runs the untimed warm-up and sends "warm" {ns}; coordinator sends "go"
// {count}; peer runs the timed batch and sends "result". Sequence numbers run on from the
// warm-up into the timed batch, so the two cannot be confused.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/control.hpp"
#include "harness/histogram.hpp"
#include "harness/message.hpp"
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
  std::uint64_t next_seq = 0;
};

// Consumer side of one round trip / one streamed message: receive, check, (reply).
template <endpoint E>
inline void consume_one(E& ep, peer_state& s, bool reply) {
  const std::uint64_t seq = s.next_seq++;
  const std::ptrdiff_t n = ep.receive(s.rbuf);
  if (n < 0) throw_receive_failed(n, seq);
  s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq), seq);
  if (reply && ep.send(s.codec.stamp(seq)) != io_status::ok) throw_channel_closed("send", seq);
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
    s.tally.add(s.codec.check({s.rbuf.data(), static_cast<std::size_t>(n)}, seq), seq);
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

// The whole life of a peer after its endpoint is open. Returns the exit code.
template <endpoint E>
int run_peer(E& ep, role r, control_link& ctl, const run_request& req) {
  peer_state s(req.message_size);
  ctl.send({{"type", "opened"}});

  const auto warm = ctl.expect("warmup", req.timeout * 2);
  const std::int64_t w0 = now_ns();
  run_batch(ep, s, r, req.pat, warm.at("count").get<std::uint64_t>(), nullptr);
  ctl.send({{"type", "warm"}, {"ns", now_ns() - w0}});

  const auto go = ctl.expect("go", req.timeout * 2);
  const auto count = go.at("count").get<std::uint64_t>();
  histogram h;
  const bool timed_rtt = r == role::producer && req.pat == pattern::latency;
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  run_batch(ep, s, r, req.pat, count, timed_rtt ? &h : nullptr);
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();

  nlohmann::json result = {{"type", "result"},
                           {"messages", count},
                           {"integrity_errors", s.tally.total()},
                           {"integrity_summary", s.tally.summary()},
                           {"t0", t0},
                           {"t1", t1},
                           {"user_ns", c1.user_ns - c0.user_ns},
                           {"sys_ns", c1.sys_ns - c0.sys_ns}};
  if (timed_rtt) result["rtt"] = h.to_json();
  ctl.send(result);
  return 0;
}

}  // namespace ipcbench
