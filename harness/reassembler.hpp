// Reassembles the byte stream of a fan-in channel whose writes may be torn: several producers
// write records of one size into one stream (a pipe or FIFO), and a write above PIPE_BUF may be
// split by the kernel and interleaved with another producer's bytes. Producer p's stream is its
// records back to back, record k stamped by message_codec(size, 0, p + 1) with sequence number
// fan_in_tag(p, k); the salt makes every producer's bytes differ from every other's at the same
// offset, so a run of bytes belongs to the producer whose stream it continues.
//
// feed() attributes each run of received bytes to the producer whose expected stream it
// continues, checking every byte against that stream, so every byte is verified; a record whose
// bytes arrived in more than one run is counted torn. Where a run could belong to more than one
// producer (a few bytes that match another stream by chance), it tries the longest match first
// and backs out of a choice that leads to bytes no producer can have sent, over at least the
// last kChoices choices. Data that fits no producer is an integrity failure, with the offset.
// Not thread-safe; used by the consumer of a fan-in run, and by tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "harness/message.hpp"

namespace ipcbench {

// The sequence number record k of producer p carries: the producer in the top 16 bits, and k
// xored with the low 48 bits of its stream_salt(p + 1), so that the header bytes of two
// producers' records of the same number differ too (a reassembler tells them apart from the
// first byte) while the parity still alternates from one record to the next.
inline constexpr int kFanInTagShift = 48;
inline constexpr std::uint64_t kFanInRecordMask = (std::uint64_t{1} << kFanInTagShift) - 1;
inline std::uint64_t fan_in_tag(std::uint64_t producer, std::uint64_t k) noexcept {
  return (producer << kFanInTagShift) | ((k ^ stream_salt(producer + 1)) & kFanInRecordMask);
}
constexpr std::uint64_t fan_in_producer(std::uint64_t tag) noexcept {
  return tag >> kFanInTagShift;
}
inline std::uint64_t fan_in_record(std::uint64_t tag) noexcept {
  return (tag ^ stream_salt(fan_in_producer(tag) + 1)) & kFanInRecordMask;
}

class stream_reassembler {
 public:
  static constexpr std::size_t kChoices = 32;  // choices it can surely back out of
  static constexpr std::size_t kMaxChanceMatch = 8;  // bytes a wrong stream may match by chance
  // Choices tried without getting further than before: beyond it the data is bad, not merely
  // ambiguous (damaged data would otherwise have it try every combination of choices).
  static constexpr std::size_t kBacktrackBudget = 4096;

  // `producers` streams of records of `size` bytes, each starting at record `first[p]` (the
  // records before arrived whole).
  stream_reassembler(std::size_t size, std::size_t producers,
                     const std::vector<std::uint64_t>& first);

  // Takes the next bytes of the channel. False once the stream cannot be reassembled (then
  // error() says where); later calls do nothing.
  bool feed(std::span<const std::byte> bytes);

  // Records of producer p whose every byte has been attributed and checked, counting `first`.
  std::uint64_t records(std::size_t p) const noexcept;
  // Records that arrived in more than one piece.
  std::uint64_t torn() const noexcept;
  const std::string& error() const noexcept { return error_; }
  bool failed() const noexcept { return !error_.empty(); }

 private:
  struct state {
    std::vector<std::uint64_t> pos;  // per producer, bytes of its stream attributed
    std::vector<bool> torn_open;     // per producer, its current record is already torn
    std::uint64_t torn = 0;
    std::size_t last = SIZE_MAX;     // producer of the previous run
  };
  struct option {
    std::size_t p;
    std::size_t len;
  };
  struct choice {
    std::size_t at;  // offset in buf_
    state before;
    std::vector<option> options;
    std::size_t next = 0;
  };

  std::size_t match(std::size_t p, std::uint64_t pos, std::size_t at);
  void apply(state& s, const option& o) const;
  bool backtrack();

  std::size_t size_;
  std::vector<message_codec> codecs_;
  std::vector<std::byte> buf_;  // bytes from the oldest choice kept on
  std::uint64_t dropped_ = 0;   // bytes before buf_ (for messages)
  std::size_t at_ = 0;          // next unattributed byte in buf_
  std::uint64_t furthest_ = 0;  // the furthest absolute offset attributed so far
  std::size_t tries_ = 0;       // backtracks since it was last passed
  state s_;
  std::vector<choice> choices_;
  std::string error_;
};

}  // namespace ipcbench
