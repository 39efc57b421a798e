// The in-place endpoint over the shared-memory ring: the same segment, rings, positions and
// waits as shm_endpoint (shm_ring.hpp), but every message lies whole and contiguous in the ring,
// so the receiver checks it where it lies and the sender writes it where it will be read.
//
// Record layout: a 64-byte line holding the length (8 bytes, then padding), then the message's
// bytes, the next record at the next 64-byte boundary, as in shm_ring.hpp; but a record never
// wraps round the ring's end. When the record does not fit between the head and the end, the
// sender writes a wrap line there instead (length kWrapMarker) and the record starts at ring
// offset 0; the receiver that reads a wrap line skips to the start. A message therefore carries
// at most kMaxMessage bytes (the ring less its length line); larger sizes are skipped.
//
// The sender waits for the space of the whole record (and first for the wrap line's, which it
// publishes before waiting for the rest), has the message written into the ring (send_loaned:
// the harness's writer computes it in place; send(): a copy), writes the length line and
// publishes the head once, after the whole record. So a published head always ends a record:
// the receiver, once the head has passed its tail, has a whole record in front of it. It calls
// the check with the message's bytes in the segment and only then advances and publishes its
// tail (waking a sender waiting for space as shm_endpoint does); nothing is copied out.
// Neither side waits for ever on the other: a sender waits only while the ring holds a record
// it has published (a record fits an empty ring once it starts at offset 0), a receiver only
// while the ring holds none.
//
// In a peer only; move-only. Throws std::system_error when a wait or wake call fails,
// std::length_error for a message larger than kMaxMessage (sender), or a length line that
// claims more than the ring holds there (receiver: a damaged record), or a message longer than
// the buffer of receive().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "mechanisms/shm/shm_ring.hpp"

namespace ipcbench {

template <class Sync>
class shm_inplace_endpoint : private shm_endpoint<Sync> {
  using base = shm_endpoint<Sync>;

 public:
  static constexpr std::size_t kMaxMessage = shm::kRingBytes - shm::kPayloadAlign;
  static constexpr std::uint64_t kWrapMarker = ~std::uint64_t{0};

  explicit shm_inplace_endpoint(base&& e) noexcept : base(std::move(e)) {}
  shm_inplace_endpoint(shm_inplace_endpoint&&) noexcept = default;
  shm_inplace_endpoint& operator=(shm_inplace_endpoint&&) = delete;

  // write(span) fills the message's place in the ring (harness/message.hpp message_writer).
  template <class Writer>
  io_status send_loaned(std::size_t n, const Writer& write) {
    if (n > kMaxMessage) throw_too_long(n, kMaxMessage, "the ring's largest record");
    std::byte* line = nullptr;
    if (!reserve(n, line)) return io_status::closed;
    write(std::span<std::byte>(line + shm::kPayloadAlign, n));
    const std::uint64_t len = n;
    std::memcpy(line, &len, sizeof len);
    this->head_ += record_bytes(n);
    this->publish_head();
    return io_status::ok;
  }

  // For callers without the loaning path: copies `msg` into its record.
  io_status send(std::span<const std::byte> msg) {
    return send_loaned(msg.size(), [msg](std::span<std::byte> dst) {
      if (!msg.empty()) std::memcpy(dst.data(), msg.data(), msg.size());
    });
  }

  // check(span) reads the message where it lies (harness/message.hpp in_place_check); the space
  // is released after it returns. Returns the length, or kPeerGone (spinning policy only).
  template <class Check>
  std::ptrdiff_t receive_in_place(Check& check) {
    for (;;) {
      if (this->head_seen_ == this->tail_) {
        this->head_seen_ = base::word(this->in_ctl_->head).load(std::memory_order_acquire);
        if (this->head_seen_ == this->tail_) {
          this->publish_tail();  // a wrap line skipped: the sender may wait for that space
          if (!this->await(this->in_ctl_->head, this->in_ctl_->data_wait,
                           base::bell(this->in_, base::kData), this->head_seen_,
                           this->tail_ + shm::kPayloadAlign))
            return kPeerGone;
          continue;
        }
      }
      const std::uint32_t at = this->tail_ & (shm::kRingBytes - 1);
      const std::byte* line = this->in_data_ + at;
      std::uint64_t len = 0;
      std::memcpy(&len, line, sizeof len);
      if (len == kWrapMarker) {
        this->tail_ += shm::kRingBytes - at;
        continue;
      }
      const std::size_t room = shm::kRingBytes - shm::kPayloadAlign - at;
      if (len > room) throw_too_long(len, room, "the ring after its length line (damaged)");
      check(std::span<const std::byte>(line + shm::kPayloadAlign, static_cast<std::size_t>(len)));
      this->tail_ += record_bytes(static_cast<std::size_t>(len));
      this->publish_tail();
      return static_cast<std::ptrdiff_t>(len);
    }
  }

  // For callers without the in-place path: copies the message out.
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    std::size_t got = 0;
    bool fits = true;
    auto copy_out = [&](std::span<const std::byte> m) {
      got = m.size();
      fits = m.size() <= buf.size();
      if (fits && !m.empty()) std::memcpy(buf.data(), m.data(), m.size());
    };
    const std::ptrdiff_t n = receive_in_place(copy_out);
    if (n >= 0 && !fits) throw_too_long(got, buf.size(), "the receive buffer");
    return n;
  }

 private:
  // The length line and the message, up to the next line boundary.
  static std::uint32_t record_bytes(std::size_t n) noexcept {
    const std::size_t a = shm::kPayloadAlign;
    return static_cast<std::uint32_t>(a + (n + a - 1) / a * a);
  }

  // Makes room for the record of an n-byte message at the head, contiguous (after a wrap line
  // when it does not fit before the ring's end); `line`: where its length line goes. False:
  // partner gone (spinning policy).
  bool reserve(std::size_t n, std::byte*& line) {
    const std::uint32_t need = record_bytes(n);
    const std::uint32_t at = this->head_ & (shm::kRingBytes - 1);
    if (shm::kRingBytes - at < need) {
      const std::uint32_t skip = shm::kRingBytes - at;
      if (!await_space(skip)) return false;
      const std::uint64_t marker = kWrapMarker;
      std::memcpy(this->out_data_ + at, &marker, sizeof marker);
      this->head_ += skip;  // published before any wait below, else with the record
    }
    if (!await_space(need)) return false;
    line = this->out_data_ + (this->head_ & (shm::kRingBytes - 1));
    return true;
  }

  // Waits until `want` bytes from the head are free. Publishes what it has written (a wrap line)
  // before it waits, so the receiver can free the space.
  bool await_space(std::uint32_t want) {
    while (shm::kRingBytes - (this->head_ - this->tail_seen_) < want) {
      this->tail_seen_ = base::word(this->out_ctl_->tail).load(std::memory_order_acquire);
      if (shm::kRingBytes - (this->head_ - this->tail_seen_) >= want) break;
      this->publish_head();
      if (!this->await(this->out_ctl_->tail, this->out_ctl_->space_wait,
                       base::bell(this->out_, base::kSpace), this->tail_seen_,
                       this->head_ + want - shm::kRingBytes))
        return false;
    }
    return true;
  }

  [[noreturn]] static void throw_too_long(std::uint64_t len, std::size_t room, const char* what) {
    throw std::length_error("shared-memory ring (in place): message of " + std::to_string(len) +
                            " bytes does not fit " + what + " of " + std::to_string(room));
  }
};

}  // namespace ipcbench
