// fan_in/N: N producers stream records into one consumer over one channel (a FIFO server's
// clients, a job queue). The peers follow the usual conversation (harness/protocol.hpp), with
// counts per producer: the consumer receives N times each count.
//
// Records come in one of two forms. Record mode, where every record arrives whole (a message
// channel, or a stream whose writes of this size are atomic, at most PIPE_BUF): producer p
// stamps its records with message_codec(size, headroom, p + 1) and the sequence numbers
// fan_in_tag(p, 0), fan_in_tag(p, 1), ... (harness/reassembler.hpp), so every record says whose
// it is and where it stands in that producer's sequence, and the bodies of different producers
// differ; a record out of its producer's sequence is lost or duplicated data, one that fails the
// check is damaged. Tagged mode, for a stream whose writes of this size may be torn (larger than
// `tear_above`, PIPE_BUF for pipes and FIFOs): every byte carries its producer in its high bits
// and a check of its offset and its record's number in the rest (tagged_layout), so the consumer
// attributes and checks every byte as it comes, however the kernel split and interleaved the
// writes, and counts the records that arrived in more than one run as torn. Peer side.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/delay.hpp"
#include "harness/peer.hpp"
#include "harness/reassembler.hpp"

namespace ipcbench {

// What a fan-in peer needs besides the run request.
struct fan_in_setup {
  std::size_t producers = 1;
  int index = 0;  // producer's number (0 for the consumer)
  // Records above this size may arrive torn (a stream channel); nullopt: records arrive whole
  // (message channels), and one that does not is an integrity error.
  std::optional<std::size_t> tear_above;
};

// The smallest record that carries the producer's number (the sequence field, 8 bytes).
inline constexpr std::size_t kFanInMinSize = 8;

// Whether records of `size` bytes go tagged (every byte names its producer) on this channel.
inline bool fan_in_tagged(std::size_t size, const fan_in_setup& setup) noexcept {
  return setup.tear_above && size > *setup.tear_above;
}

// The consumer's view of the producers' sequences.
class fan_in_receiver {
 public:
  fan_in_receiver(std::size_t size, std::size_t headroom, const fan_in_setup& setup);

  // Checks one received record (record mode) or feeds its bytes to the reassembler.
  void take(std::span<const std::byte> got);
  // Every producer has sent `per_producer` records by now and all of them have been taken:
  // those that did not arrive whole (or reassembled) and in sequence are integrity errors.
  void expect(std::uint64_t per_producer);
  bool tagged() const noexcept { return reasm_.has_value(); }
  std::uint64_t torn() const noexcept { return reasm_ ? reasm_->torn() : 0; }
  integrity_tally& tally() noexcept { return tally_; }
  // Why the stream could not be reassembled, or empty.
  std::string error() const { return reasm_ ? reasm_->error() : std::string(); }
  // Samples the delay of the records numbered from `first`, `count` per producer (delay.hpp).
  void sample_delay(std::uint64_t first, std::uint64_t count);
  // Notes the time for every sampled record the last take() completed (reading the clock only
  // when one did: this runs for every record).
  void note_delay();
  std::vector<std::vector<std::int64_t>> delay_notes() const;

 private:
  std::size_t size_;
  fan_in_setup setup_;
  std::vector<message_codec> codecs_;        // per producer, to check whole records
  std::vector<std::uint64_t> next_;          // per producer, the next record expected (record mode)
  std::optional<stream_reassembler> reasm_;  // tagged mode
  bool reasm_reported_ = false;
  integrity_tally tally_;
  std::uint64_t checked_ = 0;
  std::vector<delay_sampler> delay_;  // per producer, once sample_delay() was called
  std::vector<std::uint64_t> noted_;  // tagged mode: per producer, records seen complete
  std::pair<std::uint64_t, std::uint64_t> last_;  // record mode: producer, record last taken
};

// Producer `setup.index` or the consumer of a fan-in run. Returns the exit code.
template <endpoint E>
int run_fan_in_peer(E endpoint_in, role r, control_link& ctl, const run_request& req,
                    const fan_in_setup& setup) {
  const std::size_t headroom = endpoint_headroom<E>;
  peer_state s(req.message_size, headroom);
  std::optional<fan_in_receiver> rx;
  std::optional<tagged_layout> layout;
  std::optional<tagged_record_writer> tagged;
  if (r == role::producer) {
    s.pace = pacer(req.send_rate);
    s.codec =
        message_codec(req.message_size, headroom, static_cast<std::uint64_t>(setup.index) + 1);
    if (fan_in_tagged(req.message_size, setup)) {
      layout.emplace(req.message_size, setup.producers);
      tagged.emplace(*layout, static_cast<std::size_t>(setup.index), headroom);
    }
  } else {
    rx.emplace(req.message_size, headroom, setup);
  }
  std::optional<E> endpoint(std::move(endpoint_in));
  E& ep = *endpoint;
  send_message(ctl, opened_notice{});
  std::uint64_t sent_each = 0;  // per producer, so far
  delay_sampler delay;          // the producer's own records
  // A batch whose end every producer waits at (the sizing run, the warm-up before the barrier,
  // the timed batch) ends with every producer's records in; a warm-up that flows into the timed
  // batch (no barrier) may end with a fast producer's timed records before a slow one's last
  // warm-up records.
  auto batch = [&](std::uint64_t n, bool all_in) {
    if (r == role::producer) {
      const auto me = static_cast<std::uint64_t>(setup.index);
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t k = s.next_seq++;
        const auto msg = tagged ? tagged->stamp(k) : s.codec.stamp(fan_in_tag(me, k));
        s.pace.wait_turn();
        if (delay.due(k)) delay.note(k, sent_at(s.pace));
        if (ep.send(msg) != io_status::ok) throw_channel_closed("send", k);
      }
      return;
    }
    const std::uint64_t total = n * setup.producers;
    for (std::uint64_t i = 0; i < total; ++i) {
      const std::ptrdiff_t got = ep.receive(s.rbuf);
      if (got < 0) throw_receive_failed(got, s.next_seq);
      ++s.next_seq;
      rx->take({s.rbuf.data(), static_cast<std::size_t>(got)});
      rx->note_delay();
    }
    sent_each += n;
    if (all_in) rx->expect(sent_each);
  };

  const auto sizing = expect_message<warmup_order>(ctl, req.timeout * 2).count;
  s.pace.restart();
  // The sizing run ends with every producer's records in (each waits for the go order), but its
  // cold start and the rest flow into each other: only the end is checked as complete.
  std::uint64_t sized = 0;
  send_message(ctl, warm_notice{timed_sizing_run(sizing, [&](std::uint64_t n) {
                 sized += n;
                 batch(n, sized == sizing);
               })});
  const auto go = expect_message<go_order>(ctl, req.timeout * 2);
  // Records are numbered from 0 per producer: the sizing run's, the warm-up's, then the timed.
  if (rx)
    rx->sample_delay(sizing + go.warm, go.count);
  else
    delay = delay_sampler(sizing + go.warm, go.count);
  // With the barrier every producer's warm-up records are in when it is passed.
  s.pace.restart();
  batch(go.warm, go.barrier);
  if (go.barrier) {
    hold_at_barrier(ctl, go);
    s.pace.restart();
  }
  const std::uint64_t torn0 = rx ? rx->torn() : 0;
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  batch(go.count, true);
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();

  peer_report report;
  report.messages = r == role::producer ? go.count : go.count * setup.producers;
  const integrity_tally& tally = rx ? rx->tally() : s.tally;
  report.integrity_errors = tally.total();
  report.integrity_summary = tally.summary();
  if (rx && !rx->error().empty()) report.integrity_summary += " (" + rx->error() + ")";
  report.t0 = t0;
  report.t1 = t1;
  report.cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns, c1.total_ns - c0.total_ns};
  if (rx && setup.tear_above) report.torn = rx->torn() - torn0;
  if (rx)
    report.delay_ns = rx->delay_notes();
  else
    report.delay_ns.push_back(delay.notes());
  send_message(ctl, report);
  endpoint.reset();
  expect_message<exit_order>(ctl, req.timeout * 2);
  return 0;
}

// The coordinator's side: N producers into one consumer: the aggregate of the consumer's
// messages over the window from the earliest producer's start to the consumer's end; fairness
// from each producer's rate over its own window; the consumer's torn records; each producer's
// one-way delay paired with the consumer's notes.
run_result assemble_fan_in(const run_request& req, const group_program& program,
                           const group_reports& b);

}  // namespace ipcbench
