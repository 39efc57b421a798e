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

enum class integrity_error { none, truncated, sequence, length, corrupted };

class message_codec {
 public:
  explicit message_codec(std::size_t size);

  std::size_t size() const noexcept { return size_; }
  // The message for `seq`, stamped in place in one of two prebuilt buffers. The span stays
  // valid until the next stamp() of the same parity.
  std::span<const std::byte> stamp(std::uint64_t seq) noexcept;
  // Checks `got` (the bytes received for one message) against message `seq`.
  integrity_error check(std::span<const std::byte> got, std::uint64_t seq) const noexcept;
  // Touches a receive buffer of the message size so no page fault lands in the timed loop.
  std::vector<std::byte> make_receive_buffer() const;

 private:
  std::size_t size_;
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

const char* to_string(integrity_error e) noexcept;

}  // namespace ipcbench
