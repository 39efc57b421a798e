// The endpoint of every shared-memory mechanism: one byte ring per direction in a segment (layout
// in shm_segment.hpp), shared by all of them, with the synchronisation as a template parameter
// (sysv_sem_sync, posix_sem_sync, futex_sync, spin_sync), so the variants differ only in how a
// peer waits and no call in the timed loop is virtual.
//
// A message is its length (8 bytes) followed by its bytes, streamed through the ring: the sender
// copies into free space and publishes its head (release), the receiver copies every byte out
// into its buffer and publishes its tail. Both copies move at most shm::kChunkBytes before
// publishing, so a message larger than the ring is drained while it is being written.
//
// Waiting (blocking policies): a waiter sets its flag, re-reads the position and sleeps only if it
// has not moved; the other side publishes, then takes the flag (exchange) and wakes only if it
// was set. Sequentially consistent store/load on both sides makes one of them see the other, so
// no wake-up is lost and the uncontended path makes no system call. Sleeps last 100 ms at most;
// then a waiter checks whether its partner is alive (shm::partner_watch), so a dead partner ends
// the wait: receive() returns kPeerGone, send() io_status::closed.
//
// In a peer only; owns its mapping and the synchronisation handles. Move-only. send()/receive()
// throw std::system_error when a wait or wake call fails, std::length_error for a message that
// does not fit the receive buffer.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/shm_segment.hpp"
#include "sys/system.hpp"

namespace ipcbench {

template <class Sync>
class shm_endpoint {
 public:
  shm_endpoint(mapping map, Sync sync, role r)
      : map_(std::move(map)),
        sync_(std::move(sync)),
        hdr_(reinterpret_cast<shm::segment_header*>(map_.data())),
        out_(r == role::producer ? 0 : 1),
        in_(1 - out_),
        out_ctl_(&hdr_->ring[out_]),
        in_ctl_(&hdr_->ring[in_]),
        out_data_(map_.data() + shm::kHeaderBytes + out_ * std::size_t{shm::kRingBytes}),
        in_data_(map_.data() + shm::kHeaderBytes + in_ * std::size_t{shm::kRingBytes}),
        partner_(&hdr_->pid[in_]) {
    shm::prefault(map_.data(), map_.size());
    head_ = published_head_ = word(out_ctl_->head).load(std::memory_order_acquire);
    tail_seen_ = word(out_ctl_->tail).load(std::memory_order_acquire);
    tail_ = published_tail_ = word(in_ctl_->tail).load(std::memory_order_acquire);
    head_seen_ = word(in_ctl_->head).load(std::memory_order_acquire);
    shm::announce(*hdr_, r);
  }
  shm_endpoint(shm_endpoint&&) noexcept = default;
  shm_endpoint& operator=(shm_endpoint&&) = delete;

  io_status send(std::span<const std::byte> msg) {
    const std::uint64_t len = msg.size();
    std::byte prefix[sizeof len];
    std::memcpy(prefix, &len, sizeof len);
    if (!write_bytes(prefix, sizeof prefix) || !write_bytes(msg.data(), msg.size()))
      return io_status::closed;
    publish_head();
    return io_status::ok;
  }

  std::ptrdiff_t receive(std::span<std::byte> buf) {
    auto copy = [](std::byte* dst, const std::byte* src, std::size_t n, std::size_t) {
      std::memcpy(dst, src, n);
    };
    return receive(buf, copy);
  }

  // receive() that moves each piece of the message with copy(dst, src, n, offset in message)
  // instead of memcpy: the harness copies out and checks in one pass (message.hpp copy_check).
  template <class Copier>
  std::ptrdiff_t receive(std::span<std::byte> buf, Copier& copy) {
    std::uint64_t len = 0;
    std::byte prefix[sizeof len];
    auto plain = [](std::byte* dst, const std::byte* src, std::size_t n, std::size_t) {
      std::memcpy(dst, src, n);
    };
    if (!read_bytes(prefix, sizeof prefix, plain)) return kPeerGone;
    std::memcpy(&len, prefix, sizeof len);
    if (len > buf.size()) throw_too_long(len, buf.size());
    if (!read_bytes(buf.data(), static_cast<std::size_t>(len), copy)) return kPeerGone;
    publish_tail();
    return static_cast<std::ptrdiff_t>(len);
  }

 private:
  enum bell_kind { kData = 0, kSpace = 1 };
  static int bell(int ring, bell_kind k) noexcept { return ring * 2 + k; }
  static std::atomic_ref<std::uint32_t> word(std::uint32_t& w) noexcept {
    return std::atomic_ref<std::uint32_t>(w);
  }

  // Copies n bytes into the outgoing ring, waiting for space as needed. False: partner gone.
  bool write_bytes(const std::byte* src, std::size_t n) {
    while (n != 0) {
      std::uint32_t free = shm::kRingBytes - (head_ - tail_seen_);
      if (free < n && free < shm::kChunkBytes) {
        tail_seen_ = word(out_ctl_->tail).load(std::memory_order_acquire);
        free = shm::kRingBytes - (head_ - tail_seen_);
        if (free == 0) {
          publish_head();  // the receiver can drain what is already written
          if (!await_change(out_ctl_->tail, out_ctl_->space_waiting, bell(out_, kSpace),
                            tail_seen_))
            return false;
          continue;
        }
      }
      const std::uint32_t at = head_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, free, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      std::memcpy(out_data_ + at, src, chunk);
      head_ += static_cast<std::uint32_t>(chunk);
      src += chunk;
      n -= chunk;
      if (head_ - published_head_ >= shm::kChunkBytes) publish_head();
    }
    return true;
  }

  // Copies n bytes out of the incoming ring with `copy`, waiting for data as needed. False:
  // partner gone.
  template <class Copier>
  bool read_bytes(std::byte* dst, std::size_t n, Copier& copy) {
    std::size_t done = 0;
    while (n != 0) {
      std::uint32_t avail = head_seen_ - tail_;
      if (avail < n && avail < shm::kChunkBytes) {
        head_seen_ = word(in_ctl_->head).load(std::memory_order_acquire);
        avail = head_seen_ - tail_;
        if (avail == 0) {
          publish_tail();  // the sender may be waiting for the space already read
          if (!await_change(in_ctl_->head, in_ctl_->data_waiting, bell(in_, kData), head_seen_))
            return false;
          continue;
        }
      }
      const std::uint32_t at = tail_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, avail, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      copy(dst, in_data_ + at, chunk, done);
      done += chunk;
      tail_ += static_cast<std::uint32_t>(chunk);
      dst += chunk;
      n -= chunk;
      if (tail_ - published_tail_ >= shm::kChunkBytes) publish_tail();
    }
    return true;
  }

  void publish_head() {
    if (head_ == published_head_) return;
    published_head_ = head_;
    publish(out_ctl_->head, head_, out_ctl_->data_waiting, bell(out_, kData));
  }

  void publish_tail() {
    if (tail_ == published_tail_) return;
    published_tail_ = tail_;
    publish(in_ctl_->tail, tail_, in_ctl_->space_waiting, bell(in_, kSpace));
  }

  void publish(std::uint32_t& pos, std::uint32_t value, std::uint32_t& waiting, int b) {
    if constexpr (Sync::kSpins) {
      word(pos).store(value, std::memory_order_release);
    } else {
      word(pos).store(value, std::memory_order_seq_cst);
      if (word(waiting).load(std::memory_order_seq_cst) != 0 &&
          word(waiting).exchange(0, std::memory_order_seq_cst) != 0)
        sync_.wake(b, &pos);
    }
  }

  // Waits until `pos` differs from `seen`. False when the partner is gone and `pos` never moved.
  bool await_change(std::uint32_t& pos, std::uint32_t& waiting, int b, std::uint32_t seen) {
    if constexpr (Sync::kSpins)
      return spin_until_change(pos, seen);
    else if constexpr (Sync::kCounted)
      return sleep_until_posted(pos, waiting, b, seen);
    else
      return sleep_until_change(pos, waiting, b, seen);
  }

  bool moved(std::uint32_t& pos, std::uint32_t seen) noexcept {
    return word(pos).load(std::memory_order_acquire) != seen;
  }

  bool spin_until_change(std::uint32_t& pos, std::uint32_t seen) {
    std::int64_t next_check = 0;
    for (std::uint32_t i = 0;; ++i) {
      if (moved(pos, seen)) return true;
      Sync::relax(i);
      if (i >= Sync::kPauses && i % 256 == 0) {
        const std::int64_t now = now_ns();
        if (next_check == 0) {
          next_check = now + shm::kPollMs * 1'000'000LL;
        } else if (now >= next_check) {
          if (partner_.gone()) return moved(pos, seen);
          next_check = now + shm::kPollMs * 1'000'000LL;
        }
      }
    }
  }

  // Futex: a wake is not counted, so the flag only saves the other side a system call.
  bool sleep_until_change(std::uint32_t& pos, std::uint32_t& waiting, int b, std::uint32_t seen) {
    for (;;) {
      word(waiting).store(1, std::memory_order_seq_cst);
      if (word(pos).load(std::memory_order_seq_cst) != seen) break;
      if (sync_.sleep(b, &pos, seen, shm::kPollMs) == shm::sleep_result::timed_out &&
          !moved(pos, seen) && partner_.gone())
        break;
    }
    word(waiting).store(0, std::memory_order_relaxed);
    return moved(pos, seen);
  }

  // Semaphores count: every flag the other side takes is followed by exactly one post, which
  // this side must take before it sets the flag again, or the counts drift.
  bool sleep_until_posted(std::uint32_t& pos, std::uint32_t& waiting, int b, std::uint32_t seen) {
    for (;;) {
      word(waiting).store(1, std::memory_order_seq_cst);
      if (word(pos).load(std::memory_order_seq_cst) != seen &&
          word(waiting).exchange(0, std::memory_order_seq_cst) != 0)
        return true;  // withdrawn before anyone took it: no post will come
      // Asleep until our post; a timeout withdraws the flag if the other side has not taken it.
      bool ours = true;  // the flag is still set, or its post is still to be taken
      while (ours) {
        const shm::sleep_result r = sync_.sleep(b, &pos, seen, shm::kPollMs);
        if (r == shm::sleep_result::posted) break;
        if (r != shm::sleep_result::timed_out) continue;
        const bool withdrawn = word(waiting).exchange(0, std::memory_order_seq_cst) != 0;
        if (withdrawn && moved(pos, seen)) return true;
        if (partner_.gone()) return moved(pos, seen);
        if (withdrawn) ours = false;  // set the flag again and re-check
      }
      if (moved(pos, seen)) return true;
    }
  }

  [[noreturn]] static void throw_too_long(std::uint64_t len, std::size_t room) {
    throw std::length_error("shared-memory ring: message of " + std::to_string(len) +
                            " bytes does not fit the receive buffer of " + std::to_string(room));
  }

  mapping map_;
  Sync sync_;
  shm::segment_header* hdr_;
  int out_;  // ring this side sends on
  int in_;   // ring this side receives from
  shm::ring_control* out_ctl_;
  shm::ring_control* in_ctl_;
  std::byte* out_data_;
  std::byte* in_data_;
  shm::partner_watch partner_;
  // Local copies: the positions this side owns, what it last published, and the other side's
  // position as last read (re-read only when the cached one does not suffice).
  std::uint32_t head_ = 0, published_head_ = 0, tail_seen_ = 0;
  std::uint32_t tail_ = 0, published_tail_ = 0, head_seen_ = 0;
};

}  // namespace ipcbench
