// Message integrity: every message carries its sequence number and length and a payload
// pattern, so the receiver detects a lost, duplicated, reordered, truncated or corrupted message.
//
// Layout of an n-byte message (little-endian, each field cut short when n is small):
//   [0, 8)      sequence number
//   [8, 16)     n
//   [16, n-8)   the pattern: 8-byte word j of the message (bytes [8j, 8j+8)) holds
//               pattern_word(j, parity) = (j + 1) * kPatternStep ^ key[parity], little-endian,
//               with one of two keys chosen by the sequence's parity (so stale data left from
//               the previous message in a shared slot does not pass); data shifted by any number
//               of bytes does not match it
//   [n-8, n)    sequence number again, when n >= 32 (catches a torn or stale tail)
// The sender's two stamped buffers are built once; stamping a message writes at most 24 bytes.
// The receiver checks in one fused pass: it reads each received word once and compares it with
// the pattern word computed on the fly (an add and an xor per word, vectorised), so no second
// buffer is read and the check costs one read of the message, at memory speed.
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

// Word j of the pattern for a message of the given parity (see the layout above).
std::uint64_t pattern_word(std::size_t j, int parity) noexcept;

// The salt a codec of `stream` xors into every pattern word: 0 for stream 0; for streams 1..254
// every byte differs from every other stream's, so the bodies of several producers on one
// stream channel (fan-in) never match each other at the same offset, and a reassembler can tell
// whose bytes it sees.
std::uint64_t stream_salt(std::uint64_t stream) noexcept;

class message_codec {
 public:
  // `headroom`: writable bytes kept in front of every stamped message and of the receive buffer
  // (an endpoint's kHeadroom, mechanisms/adapter.hpp), which the endpoint may overwrite.
  // `stream`: the body pattern is salted with stream_salt(stream) (0: the plain pattern, which
  // copy_check assumes).
  explicit message_codec(std::size_t size, std::size_t headroom = 0, std::uint64_t stream = 0);

  std::size_t size() const noexcept { return size_; }
  std::size_t headroom() const noexcept { return headroom_; }
  // The message for `seq`, stamped in place in one of two prebuilt buffers, with headroom()
  // writable bytes before it. The span stays valid until the next stamp() of the same parity.
  std::span<const std::byte> stamp(std::uint64_t seq) noexcept;
  // Writes the whole message `seq` (the same bytes stamp() gives) into `dst`, which holds size()
  // bytes: for endpoints that lend the sender the channel's own memory (loaning_sender in
  // harness/peer.hpp), so the message is made where the receiver will read it. Every byte is
  // written, the pattern computed on the fly: one write pass, no read of a prebuilt buffer.
  void write(std::span<std::byte> dst, std::uint64_t seq) const noexcept;
  // Checks `got` (the bytes received for one message) against message `seq`.
  integrity_error check(std::span<const std::byte> got, std::uint64_t seq) const noexcept;
  // Header only, for endpoints that leave the payload alone (the "header only" payload mode,
  // never a measure of moving data): write_header() writes the sequence number, the length and
  // the trailing sequence number of message `seq` into `dst` (size() bytes; at most 24 written),
  // and check_header() checks those and the length of `got`, not a byte of the body.
  void write_header(std::span<std::byte> dst, std::uint64_t seq) const noexcept;
  integrity_error check_header(std::span<const std::byte> got, std::uint64_t seq) const noexcept;
  // The same, for a message whose body `copier` already checked while copying it out.
  integrity_error check(std::span<const std::byte> got, std::uint64_t seq,
                        const class copy_check& copier) const noexcept;
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
  std::uint64_t salt_;
  std::vector<std::byte> buf_[2];
};

// Copies a message out of a channel piece by piece and checks its body against the pattern in
// the same pass: each word is read once, stored and compared. An endpoint that copies out of
// shared memory itself (the shared-memory rings) calls it in place of memcpy, so the receiver's
// copy and the check are one pass; message_codec::check(got, seq, copier) then checks the rest.
class copy_check {
 public:
  // For the message of `size` bytes with sequence number `seq`.
  copy_check(std::size_t size, std::uint64_t seq) noexcept;
  // Copies n bytes that sit at offset `at` of the message from src to dst, checking the body
  // bytes among them. Pieces may come in any size and at any offset, each byte once.
  void operator()(std::byte* dst, const std::byte* src, std::size_t n, std::size_t at) noexcept;
  // Every body byte copied so far matched (and all of them were copied: see check()).
  bool body_ok() const noexcept { return diff_ == 0; }
  std::size_t body_bytes_seen() const noexcept { return seen_; }

 private:
  std::size_t from_, to_;  // the body: message offsets [from_, to_)
  int parity_;
  std::uint64_t diff_ = 0;
  std::size_t seen_ = 0;
};

// What an endpoint that lends the sender memory of the channel calls to have message `seq`
// written into it (message_codec::write).
struct message_writer {
  const message_codec* codec;
  std::uint64_t seq;
  void operator()(std::span<std::byte> dst) const noexcept { codec->write(dst, seq); }
  // The header alone (a header-only endpoint: message_codec::write_header).
  void header(std::span<std::byte> dst) const noexcept { codec->write_header(dst, seq); }
};

// What an endpoint that lets the receiver read a message where it lies (in shared memory, before
// it gives the memory back) calls with that message: the check reads every byte once, in place,
// and keeps the result.
struct in_place_check {
  const message_codec* codec;
  std::uint64_t seq;
  integrity_error result = integrity_error::truncated;  // until called
  void operator()(std::span<const std::byte> got) noexcept { result = codec->check(got, seq); }
  // The header alone (a header-only endpoint: message_codec::check_header).
  void header(std::span<const std::byte> got) noexcept { result = codec->check_header(got, seq); }
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

// Loss accounting for lossy channels (UDP), exact per batch: which sequence numbers arrived, so
// that a gap counts its missing numbers as lost, a number seen before as duplicated, and a
// missing number that arrives after a later one as reordered (taken back from lost). Numbers are
// those of message_codec, counting on from the warm-up into the timed batch. Every count is of
// the current batch [begin, end) only: a number below it is stale (left over from an earlier
// batch, e.g. a warm-up datagram still queued) and counted apart, never as this batch's
// duplicate or reordering; a number of a later batch is `ahead` and is held over as the first
// arrival of the next start_batch(). extend_to() allocates and is called before a batch,
// outside the timed loop; the rest does not allocate.
class sequence_tracker {
 public:
  enum class arrival { in_order, after_gap, duplicated, late, stale, ahead, stray };

  // Messages [0, end) may arrive from now on.
  void extend_to(std::uint64_t end);
  // Starts the batch [begin, end), every count from zero (extend_to(end) first, or it
  // allocates). A number that arrived `ahead` in the batch before is recorded now.
  void start_batch(std::uint64_t begin, std::uint64_t end);
  // Records message `seq`. `stray`: beyond every batch (a corrupted number); not counted here.
  arrival arrived(std::uint64_t seq) noexcept;
  // Ends a batch at `end`: every number below `end` not seen yet is lost (taken back as
  // reordered if it arrives later).
  void close_batch(std::uint64_t end) noexcept;
  // Ends a batch early at `end` without counting the numbers never sent: a latency batch stops
  // at its first lost round trip. A skipped number that arrives later in this batch counts as
  // duplicated; in a later batch it is stale.
  void skip_to(std::uint64_t end) noexcept;

  // One past the highest number seen (or closed/skipped): the next one expected in order.
  std::uint64_t next() const noexcept { return next_; }
  std::uint64_t expected() const noexcept { return end_ - begin_; }  // the batch's messages
  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t duplicated() const noexcept { return duplicated_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  std::uint64_t stale() const noexcept { return stale_; }
  // Distinct numbers of the batch that arrived (in order, after a gap or late).
  std::uint64_t delivered() const noexcept { return delivered_; }

 private:
  std::vector<bool> seen_;
  std::uint64_t begin_ = 0, end_ = 0;
  std::uint64_t next_ = 0;
  std::uint64_t lost_ = 0, duplicated_ = 0, reordered_ = 0, stale_ = 0, delivered_ = 0;
  bool has_ahead_ = false;
  std::uint64_t ahead_ = 0;
};

// "lost 37 of 10000 messages (0.37%), 0 duplicated, 2 reordered"; `unit` names what `of` counts.
std::string loss_summary(std::uint64_t lost, std::uint64_t of, std::uint64_t duplicated,
                         std::uint64_t reordered, const char* unit);

const char* to_string(integrity_error e) noexcept;

}  // namespace ipcbench
