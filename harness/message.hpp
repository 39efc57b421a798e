// Message integrity: every message carries its sequence number and length and a payload
// pattern, so the receiver detects a lost, duplicated, reordered, truncated or corrupted message.
//
// Layout of an n-byte message (little-endian, each field cut short when n is small):
//   [0, 8)      sequence number
//   [8, 16)     n
//   [16, n-8)   pattern byte per position, one of two patterns chosen by the sequence's parity
//               (so stale data left from the previous message in a shared slot does not pass)
//   [n-8, n)    sequence number again, when n >= 32 (catches a torn or stale tail)
// The pattern buffers are built once; stamping a message writes at most 24 bytes, and checking
// one is a few compares and one memcmp, so the check reads every byte at memory speed.
// Both sides of a fork may use it; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ipcbench {

// A reply carries the complement of its request's sequence number, so every header byte differs
// from the request's (even in a 1-byte message) and the other body pattern is used: an endpoint
// that handed a peer back its own message would fail the check instead of passing it.
constexpr std::uint64_t reply_sequence(std::uint64_t seq) noexcept {
  return ~seq;
}

enum class integrity_error { none, truncated, sequence, length, corrupted };

class message_codec {
 public:
  // `headroom`: writable bytes kept in front of every stamped message and of the receive buffer
  // (an endpoint's kHeadroom, mechanisms/adapter.hpp), which the endpoint may overwrite.
  explicit message_codec(std::size_t size, std::size_t headroom = 0);

  std::size_t size() const noexcept { return size_; }
  std::size_t headroom() const noexcept { return headroom_; }
  // The message for `seq`, stamped in place in one of two prebuilt buffers, with headroom()
  // writable bytes before it. The span stays valid until the next stamp() of the same parity.
  std::span<const std::byte> stamp(std::uint64_t seq) noexcept;
  // Checks `got` (the bytes received for one message) against message `seq`.
  integrity_error check(std::span<const std::byte> got, std::uint64_t seq) const noexcept;
  // The sequence number `got` carries in its header, for receivers that resynchronise (lossy
  // channels). A message shorter than 8 bytes carries only the low 8*n bits: the result is the
  // number nearest `expected` with those bits. A message of the wrong length gives `expected`
  // (its check() then reports it) and no byte beyond the message size is read.
  std::uint64_t sequence_of(std::span<const std::byte> got, std::uint64_t expected) const noexcept;
  // Touches a receive buffer of headroom() + the message size so no page fault lands in the
  // timed loop; the message goes after the headroom (receive_span).
  std::vector<std::byte> make_receive_buffer() const;
  std::span<std::byte> receive_span(std::vector<std::byte>& buffer) const noexcept {
    return std::span<std::byte>(buffer).subspan(headroom_, size_);
  }

 private:
  // Prebuilt message of parity p: after the headroom.
  const std::byte* message(int p) const noexcept { return buf_[p].data() + headroom_; }

  std::size_t size_;
  std::size_t headroom_;
  std::vector<std::byte> buf_[2];
};

// Counts errors by kind and keeps the first one's description.
class integrity_tally {
 public:
  void add(integrity_error e, std::uint64_t seq) noexcept;
  std::uint64_t total() const noexcept { return total_; }
  const std::string& first() const noexcept { return first_; }
  std::string summary() const;

 private:
  std::uint64_t total_ = 0;
  std::uint64_t by_kind_[5] = {};
  std::string first_;
};

// Loss accounting for lossy channels (UDP), exact over a run: which sequence numbers arrived,
// so that a gap counts its missing numbers as lost, a number seen before as duplicated, and a
// missing number that arrives after a later one as reordered (taken back from lost). Numbers are
// those of message_codec, counting on from the warm-up into the timed batch. extend_to()
// allocates and is called before a batch, outside the timed loop; the rest does not allocate.
class sequence_tracker {
 public:
  enum class arrival { in_order, after_gap, duplicated, late, stray };

  // Messages [0, end) may arrive from now on.
  void extend_to(std::uint64_t end);
  // Records message `seq`. `stray`: beyond the range (a corrupted number); not counted here.
  arrival arrived(std::uint64_t seq) noexcept;
  // Ends a batch at `end`: every number below `end` not seen yet is lost (taken back as
  // reordered if it arrives later).
  void close_batch(std::uint64_t end) noexcept;
  // Ends a batch early at `end` without counting the numbers never sent: a latency batch stops
  // at its first lost round trip. A skipped number that arrives later counts as duplicated.
  void skip_to(std::uint64_t end) noexcept;

  // One past the highest number seen (or closed/skipped): the next one expected in order.
  std::uint64_t next() const noexcept { return next_; }
  std::uint64_t expected() const noexcept { return seen_.size(); }
  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t duplicated() const noexcept { return duplicated_; }
  std::uint64_t reordered() const noexcept { return reordered_; }

 private:
  std::vector<bool> seen_;
  std::uint64_t next_ = 0;
  std::uint64_t lost_ = 0, duplicated_ = 0, reordered_ = 0;
};

// "lost 37 of 10000 messages (0.37%), 0 duplicated, 2 reordered"; `unit` names what `of` counts.
std::string loss_summary(std::uint64_t lost, std::uint64_t of, std::uint64_t duplicated,
                         std::uint64_t reordered, const char* unit);

const char* to_string(integrity_error e) noexcept;

}  // namespace ipcbench
