// Fan-in records that a stream may tear: several producers write records of one size into one
// stream (a pipe or FIFO), and a write above PIPE_BUF may be split by the kernel and interleaved
// with another producer's bytes, down to a single byte. So that every piece, even one byte, says
// whose it is, such records are tagged byte by byte: each byte carries its producer's number in
// its high tag_bits(N) bits (N <= kMaxTaggedProducers), and in the rest a check value that
// depends on the byte's offset in the record and on the record's number in that producer's
// sequence (a key of 32 bytes derived from producer and number, xored onto the low bits of the
// message pattern). The consumer attributes every byte by its tag, with no search, checks it
// against the byte that producer's stream must have at that position, and so verifies every
// byte and every record's sequence number (a lost, duplicated or reordered piece shifts the
// stream, and the following bytes fail their check). Both sides of a fork may use it; not
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "harness/message.hpp"

namespace ipcbench {

// The sequence number record k of producer p carries in record mode (whole records, checked by
// message_codec): the producer in the top 16 bits, and k xored with the low 48 bits of its
// stream_salt(p + 1), so that the header bytes of two producers' records of the same number
// differ too, while the parity still alternates from one record to the next.
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

// The most producers a tagged stream tells apart: six tag bits, two check bits per byte.
inline constexpr std::size_t kMaxTaggedProducers = 64;
// ceil(log2 producers): 0 for one producer (every bit is a check bit), 6 for 33..64.
int tag_bits(std::size_t producers) noexcept;

// The layout of tagged records of `size` bytes from `producers` producers. Throws
// std::invalid_argument for 0 or more than kMaxTaggedProducers producers, or size 0.
class tagged_layout {
 public:
  static constexpr std::size_t kKeyBytes = 32;  // the record key's period in the record

  tagged_layout(std::size_t size, std::size_t producers);

  std::size_t size() const noexcept { return size_; }
  std::size_t producers() const noexcept { return producers_; }
  int shift() const noexcept { return shift_; }  // the tag's position: 8 - tag_bits
  std::uint8_t check_mask() const noexcept { return mask_; }
  // The key of record k of producer p, masked to the check bits, kKeyBytes long plus its first
  // 8 bytes again (so an 8-byte load at any offset below kKeyBytes stays inside).
  using key = std::array<std::uint8_t, kKeyBytes + 8>;
  key key_of(std::size_t p, std::uint64_t k) const noexcept;
  // The low (check) bits of the pattern at every offset of a record, plus 8 zero bytes.
  const std::uint8_t* base() const noexcept { return base_.data(); }
  // The byte producer p's record with key `kk` has at offset i.
  std::uint8_t byte_at(std::size_t p, const key& kk, std::size_t i) const noexcept {
    return static_cast<std::uint8_t>((p << shift_) | (base_[i] ^ kk[i % kKeyBytes]));
  }
  // p's tag in every byte of a word.
  std::uint64_t tag_word(std::size_t p) const noexcept;
  std::uint64_t tag_mask_word() const noexcept { return tag_mask_word_; }

 private:
  std::size_t size_;
  std::size_t producers_;
  int shift_;
  std::uint8_t mask_;
  std::uint64_t tag_mask_word_;
  std::vector<std::uint8_t> base_;
};

// Producer p's tagged records, stamped into one prebuilt buffer with `headroom` writable bytes
// in front (an endpoint's kHeadroom). The span stays valid until the next stamp().
class tagged_record_writer {
 public:
  tagged_record_writer(const tagged_layout& layout, std::size_t p, std::size_t headroom);
  std::span<const std::byte> stamp(std::uint64_t k) noexcept;

 private:
  const tagged_layout* layout_;
  std::size_t p_;
  std::size_t headroom_;
  std::vector<std::byte> buf_;
};

// The consumer of a tagged stream: takes the channel's bytes in any pieces, attributes each byte
// by its tag and checks it against that producer's stream, counts each producer's complete
// records and the records whose bytes arrived in more than one run (interleaved with another
// producer's: torn).
class stream_reassembler {
 public:
  // `layout.producers()` streams, each starting at record `first[p]` (the records before
  // arrived otherwise, or none: all zero).
  stream_reassembler(const tagged_layout& layout, const std::vector<std::uint64_t>& first);

  // Takes the next bytes of the channel. False once a byte failed its check (then error() says
  // where and what); later calls do nothing.
  bool feed(std::span<const std::byte> bytes);

  // Records of producer p whose every byte has been attributed and checked, counting `first`.
  std::uint64_t records(std::size_t p) const noexcept;
  // Records that arrived in more than one run.
  std::uint64_t torn() const noexcept { return torn_; }
  const std::string& error() const noexcept { return error_; }
  bool failed() const noexcept { return !error_.empty(); }

 private:
  struct stream {
    std::uint64_t pos = 0;  // bytes of this producer's stream attributed
    tagged_layout::key key{};
    bool torn_open = false;  // its current record has been interrupted
  };
  void start_record(std::size_t p);
  void end_record(std::size_t p);  // p's record is complete: count it if torn, key the next
  void fail(std::size_t p, std::size_t at, std::uint8_t got, std::uint8_t want);

  tagged_layout layout_;
  std::vector<stream> streams_;
  std::vector<std::uint64_t> tag_words_;
  std::uint64_t fed_ = 0;  // bytes fed before the current piece
  std::size_t last_ = SIZE_MAX;
  std::uint64_t torn_ = 0;
  std::string error_;
};

}  // namespace ipcbench
