// One-way delay in the topologies that stream (fan_in/N, fan_out/N): of every stride-th record
// of the timed batch, the sender notes when it was about to send it and the receiver when it had
// received and checked it, both on CLOCK_MONOTONIC (now_ns(), one clock for every process of a
// machine). The coordinator pairs the two notes of each sampled record (assemble_fan_in and
// assemble_fan_out, pair_delays) into one histogram per member. In a saturated stream the
// delay is mostly the time a record waits in the channel behind the others: what a client of a
// busy server sees, not the wake-up cost the latency pattern measures.
//
// A sampler covers one stream's records numbered first .. first + count - 1 (a producer's own
// numbers in fan-in, the producer's sequence in fan-out); it keeps at most kMaxDelaySamples
// notes, -1 where a record was not seen (a work queue's reader sees only the records it took).
// due() is one comparison per record on the usual path.
//
// A paced stream (run_request::send_rate) notes a sampled record's scheduled send time instead
// (pacer::last_due, sent_at()), so a sender that falls behind its schedule shows as delay too.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "harness/histogram.hpp"
#include "harness/pacer.hpp"
#include "sys/system.hpp"

namespace ipcbench {

inline constexpr std::uint64_t kMaxDelaySamples = 2048;

// Records between two samples, so that a batch of `count` gives at most kMaxDelaySamples.
constexpr std::uint64_t delay_stride(std::uint64_t count) noexcept {
  return std::max<std::uint64_t>(1, (count + kMaxDelaySamples - 1) / kMaxDelaySamples);
}

// The sender's note of a sampled record that it sends now: its scheduled time when paced.
inline std::int64_t sent_at(const pacer& pace) noexcept {
  return pace.paced() ? pace.last_due() : now_ns();
}

class delay_sampler {
 public:
  delay_sampler() = default;
  delay_sampler(std::uint64_t first, std::uint64_t count)
      : first_(first),
        end_(first + count),
        stride_(delay_stride(count)),
        next_(first),
        ns_((count + stride_ - 1) / stride_, -1) {}

  // Whether record k is one of the samples. Records may be skipped (k jumps ahead), never
  // revisited.
  bool due(std::uint64_t k) noexcept {
    if (k == next_) return k < end_;
    if (k < next_ || k >= end_ || ns_.empty()) return false;
    next_ = first_ + (k - first_ + stride_ - 1) / stride_ * stride_;
    return k == next_;
  }
  // Notes when record k (for which due(k) held) was sent or taken.
  void note(std::uint64_t k, std::int64_t ns) noexcept {
    const std::uint64_t j = (k - first_) / stride_;
    if (j < ns_.size()) ns_[j] = ns;
    next_ = k + stride_;
  }
  std::uint64_t stride() const noexcept { return stride_; }
  const std::vector<std::int64_t>& notes() const noexcept { return ns_; }

 private:
  std::uint64_t first_ = 0, end_ = 0, stride_ = 1, next_ = 0;
  std::vector<std::int64_t> ns_;
};

// Pairs the sender's and the receiver's notes of each sampled record (harness/delay.hpp) into
// both members' histograms; a note missing on either side (-1) is no sample.
inline void pair_delays(const std::vector<std::int64_t>& sent,
                        const std::vector<std::int64_t>& taken, histogram& sender,
                        histogram& receiver) {
  for (std::size_t j = 0; j < sent.size() && j < taken.size(); ++j) {
    if (sent[j] < 0 || taken[j] < 0) continue;
    sender.record(taken[j] - sent[j]);
    receiver.record(taken[j] - sent[j]);
  }
}

}  // namespace ipcbench
