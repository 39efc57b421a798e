// The endpoint of every shared-memory mechanism: one byte ring per direction in a segment (layout
// in shm_segment.hpp), shared by all of them, with the synchronisation as a template parameter
// (sysv_sem_sync, posix_sem_sync, futex_sync, adaptive_sync, spin_sync, and the pthread and
// unnamed-semaphore policies mutex_cond_sync, spinlock_sync, rwlock_sync, unnamed_sem_sync), so
// the variants differ only in how a peer waits and no call in the timed loop is virtual.
//
// A message is a 64-byte line holding its length (8 bytes, then padding) followed by its bytes,
// streamed through the ring; the next message starts at the next 64-byte boundary
// (shm::kPayloadAlign), so every length line and every payload starts on a cache line of the
// ring (the spinning policy puts a message of up to 48 bytes in its length line instead, after
// a tag: send_tagged()). The sender copies into free space and publishes its head (release), the
// receiver copies every byte out into its buffer and publishes its tail; padding is skipped,
// never copied. Both copies move at most shm::kChunkBytes before publishing, so a message larger
// than the ring is drained while it is being written.
//
// Waiting (blocking policies): a waiter sets its wait word (a flag and the target position in
// one word, shm_segment.hpp), re-reads the position and sleeps only if it has not reached the
// target; the other side publishes, then, when the word is set and its target is reached, takes
// that very word (compare-and-swap to 0) and wakes the waiter. Sequentially consistent
// store/load on both sides makes one of them see the other: the waiter sees the position that
// reaches its target, or the publisher sees the word, so no wake-up is lost; a publish that falls
// short leaves the word set for the next one. The targets give hysteresis: a sender blocked for
// space waits for min(what it still has to write, a chunk) free bytes, a receiver blocked for data
// for min(the rest of what it is reading, a chunk), so a large message does not ping-pong a wake-up
// per small step. Neither can wait for ever on the other: each side publishes everything it has
// before it waits, the sender publishes the whole message when its send ends, and since a chunk
// is at most half the ring, a sender short of a chunk of space and a receiver short of a chunk
// of data cannot both be waiting. The uncontended path makes no system call. Sleeps are untimed:
// a partner that dies leaves the waiter asleep, and the coordinator, which sees the dead peer's
// control channel close, kills it. The spinning policy checks its partner every shm::kPollMs
// (shm::partner_watch): receive() returns kPeerGone, send() io_status::closed.
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
    if constexpr (Sync::kSpins) return send_tagged(msg);
    const std::uint64_t len = msg.size();
    alignas(8) std::byte line[shm::kPayloadAlign] = {};
    std::memcpy(line, &len, sizeof len);
    if (!write_bytes(nullptr, pad(head_)) || !write_bytes(line, sizeof line) ||
        !write_bytes(msg.data(), msg.size()))
      return io_status::closed;
    publish_head();
    return io_status::ok;
  }

  // Several senders on one ring (fan-in), called by the one that holds the producer lock:
  // takes the ring's published head and its tail as this side's own, since another sender may
  // have moved them since this one last sent.
  void adopt_shared_head() noexcept {
    head_ = published_head_ = word(out_ctl_->head).load(std::memory_order_acquire);
    tail_seen_ = word(out_ctl_->tail).load(std::memory_order_acquire);
  }
  shm::segment_header& header() noexcept { return *hdr_; }
  Sync& sync() noexcept { return sync_; }

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
    if constexpr (Sync::kSpins) {
      if (!await_tag(len)) return kPeerGone;
    } else {
      alignas(8) std::byte line[shm::kPayloadAlign];
      auto plain = [](std::byte* dst, const std::byte* src, std::size_t n, std::size_t) {
        std::memcpy(dst, src, n);
      };
      if (!read_bytes(nullptr, pad(tail_), plain) || !read_bytes(line, sizeof line, plain))
        return kPeerGone;
      std::memcpy(&len, line, sizeof len);
    }
    if (len > buf.size()) throw_too_long(len, buf.size());
    if (Sync::kSpins && len <= kInlineBytes) {  // in its tag line, just taken (await_tag)
      const std::uint32_t line_pos = tail_ - shm::kPayloadAlign;
      if (len != 0)
        copy(buf.data(), in_data_ + (line_pos & (shm::kRingBytes - 1)) + kInlineAt,
             static_cast<std::size_t>(len), 0);
    } else if (!read_bytes(buf.data(), static_cast<std::size_t>(len), copy)) {
      return kPeerGone;
    }
    publish_tail();
    return static_cast<std::ptrdiff_t>(len);
  }

 protected:
  // For the in-place layout over the same segment and waits (shm_inplace_ring.hpp).
  enum bell_kind { kData = 0, kSpace = 1 };
  static int bell(int ring, bell_kind k) noexcept {
    return k == kData ? shm::data_bell(ring) : shm::space_bell(ring);
  }
  static std::atomic_ref<std::uint32_t> word(std::uint32_t& w) noexcept {
    return std::atomic_ref<std::uint32_t>(w);
  }
  static std::atomic_ref<std::uint64_t> wait_word(std::uint64_t& w) noexcept {
    return std::atomic_ref<std::uint64_t>(w);
  }
  // Bytes from `pos` to the next payload boundary.
  static std::size_t pad(std::uint32_t pos) noexcept {
    return (shm::kPayloadAlign - pos % shm::kPayloadAlign) % shm::kPayloadAlign;
  }
  // Whether position `v` has reached `target` (both modulo 2^32, less than 2^31 apart).
  static bool reached(std::uint32_t v, std::uint32_t target) noexcept {
    return static_cast<std::int32_t>(v - target) >= 0;
  }

  // The spinning policy does not make the receiver poll the head: the length line carries a tag,
  // its own ring position plus 2^32 (never 0, so the zeroed ring holds no valid tag, and a line
  // left from an earlier lap holds another position), stored with release after the length
  // and, for a message of at most a chunk, after the whole payload. The receiver spins on the
  // tag of the line where the next message starts: one cache line to wait on instead of the head
  // and then the length line, and for such a message the payload is known to be there. A longer
  // message's tag is stored before its payload, which then streams under the head as usual.
  // A message of at most kInlineBytes lies in its length line itself, after the tag (at
  // kInlineAt), and the next message starts at the next line: one cache line moves per message
  // instead of two. On the development VM that took posix_shm.spin's 1 B round trip from 190 to
  // 150-160 ns with the host fast, and from 1.17-1.22x to 1.08-1.12x the cache-line floor with it
  // slow (the floor of the time, one pair of lines at a fixed address; against the cheapest of
  // eight pages no ring comes within 1.2x in that state: docs/methodology.md).
  static constexpr std::size_t kInlineAt = 16;
  static constexpr std::size_t kInlineBytes = shm::kPayloadAlign - kInlineAt;
  static std::uint64_t tag_of(std::uint32_t line_pos) noexcept {
    return std::uint64_t{line_pos} + (std::uint64_t{1} << 32);
  }
  static std::atomic_ref<std::uint64_t> tag_word(std::byte* line) noexcept {
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(line + 8));
  }

  io_status send_tagged(std::span<const std::byte> msg) {
    const std::uint64_t len = msg.size();
    if (!write_bytes(nullptr, pad(head_))) return io_status::closed;
    const std::uint32_t line_pos = head_;
    const bool in_line = len <= kInlineBytes;
    const bool whole = len <= shm::kChunkBytes;
    // The payload of a short message that does not lie in the tag line follows it.
    const std::uint32_t after = whole && !in_line ? static_cast<std::uint32_t>(len) : 0;
    // Space for the length line, and for a short message its payload too, before anything.
    const std::size_t need = shm::kPayloadAlign + after;
    while (shm::kRingBytes - (head_ - tail_seen_) < need) {
      tail_seen_ = word(out_ctl_->tail).load(std::memory_order_acquire);
      if (shm::kRingBytes - (head_ - tail_seen_) >= need) break;
      publish_head();
      if (!spin_until_change(out_ctl_->tail, tail_seen_)) return io_status::closed;
    }
    std::byte* line = out_data_ + (line_pos & (shm::kRingBytes - 1));  // a line never wraps
    if (in_line) {
      if (len != 0) std::memcpy(line + kInlineAt, msg.data(), len);  // data() may be null
    } else if (whole) {
      // A payload of one line: the tag line is taken for writing before the payload is copied,
      // so its ownership is fetched beside the payload line's instead of after it (the receiver
      // holds both: it spins on the tag and prefetches the payload, await_tag). No speed-up is
      // shown. On the development VM (2026-11-30, runs alternated ABBA) the 64 B round trip over
      // the cache-line floor beside it read 2.5 % shorter with the host fast (17 sets) and 1.1 %
      // with it slow (8), but the same ABBA of one build against itself read 0.3 % (95 % interval
      // -1.1 to +1.8 %, 21 sets) and 3.0 % (2 sets); default runs read 1.24-1.28x the floor with
      // it and 1.25-1.27x without.
      if (len <= shm::kPayloadAlign) __builtin_prefetch(line, 1);
      const std::uint32_t at = (line_pos + shm::kPayloadAlign) & (shm::kRingBytes - 1);
      const std::size_t first = std::min<std::size_t>(len, shm::kRingBytes - at);
      std::memcpy(out_data_ + at, msg.data(), first);
      std::memcpy(out_data_, msg.data() + first, len - first);
    }
    std::memcpy(line, &len, sizeof len);
    tag_word(line).store(tag_of(line_pos), std::memory_order_release);
    head_ = line_pos + shm::kPayloadAlign + after;
    if (!whole && !write_bytes(msg.data(), msg.size())) return io_status::closed;
    publish_head();
    return io_status::ok;
  }

  // Receiver side of send_tagged(): waits for the next message's tag, reads its length, and
  // takes the line (and, for a whole message, the knowledge that its payload is there).
  //
  // While it waits for a small message (longer than kInlineBytes, at most a line) it also
  // prefetches the line after the tag's, where the payload lies. The sender writes both lines,
  // so each arrives by its own cache miss; read one after the other, the payload's miss only
  // starts once the tag's has ended. Prefetched on every spin, the payload line is fetched again
  // as soon as the sender's write takes it, beside the tag line, so the two misses overlap. On
  // the development VM, with the host in its slow state, it took posix_shm.spin's 64 B round
  // trip from 1.46-1.50x to 1.27-1.29x the cache-line floor beside it (the floor of the time; 1.39-
  // 1.49x the cheapest of eight pages since 2026-11-29); in the fast state it
  // changed nothing, nor did it change a stream's throughput. The size is not known before the
  // tag, so the previous message's decides. After one that lay in its tag line there is no
  // payload line to fetch. After one longer than a line there is no prefetch either: a large
  // payload is written for longer, and the spinning prefetches take its first lines back from
  // the writer (a 64 KiB round trip 2.3-2.7 % slower in two A/B sets, a small effect: two runs
  // of one build differed by up to 1.8 % there). A prefetch never faults and changes no data:
  // the payload is read only after the tag, with acquire.
  bool await_tag(std::uint64_t& len) {
    const std::uint32_t line_pos = tail_ + static_cast<std::uint32_t>(pad(tail_));
    std::byte* line = in_data_ + (line_pos & (shm::kRingBytes - 1));
    const std::byte* payload = in_data_ + ((line_pos + shm::kPayloadAlign) & (shm::kRingBytes - 1));
    const std::uint64_t want = tag_of(line_pos);
    const bool prefetch = last_len_ > kInlineBytes && last_len_ <= shm::kPayloadAlign;
    auto arrived = [&] {
      if (prefetch) __builtin_prefetch(payload);
      return tag_word(line).load(std::memory_order_acquire) == want;
    };
    if (!arrived()) {
      publish_tail();  // the sender may be waiting for the space already read
      if (!spin_until(arrived)) return false;
    }
    std::memcpy(&len, line, sizeof len);
    tail_ = line_pos + shm::kPayloadAlign;
    const std::uint32_t end = tail_ + (len <= kInlineBytes ? 0 : static_cast<std::uint32_t>(len));
    if (len <= shm::kChunkBytes && !reached(head_seen_, end)) head_seen_ = end;
    last_len_ = len;
    if (!reached(head_seen_, tail_)) head_seen_ = tail_;
    return true;
  }

  // Copies n bytes into the outgoing ring (src null: skips them), waiting for space as needed.
  // False: partner gone.
  bool write_bytes(const std::byte* src, std::size_t n) {
    while (n != 0) {
      std::uint32_t free = shm::kRingBytes - (head_ - tail_seen_);
      if (free < n && free < shm::kChunkBytes) {
        tail_seen_ = word(out_ctl_->tail).load(std::memory_order_acquire);
        free = shm::kRingBytes - (head_ - tail_seen_);
        if (free == 0) {
          publish_head();  // the receiver can drain what is already written
          const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(n, shm::kChunkBytes));
          if (!await(out_ctl_->tail, out_ctl_->space_wait, bell(out_, kSpace), tail_seen_,
                     head_ + want - shm::kRingBytes))
            return false;
          continue;
        }
      }
      const std::uint32_t at = head_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, free, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      if (src != nullptr) {
        std::memcpy(out_data_ + at, src, chunk);
        src += chunk;
      }
      head_ += static_cast<std::uint32_t>(chunk);
      n -= chunk;
      if (head_ - published_head_ >= shm::kChunkBytes) publish_head();
    }
    return true;
  }

  // Copies n bytes out of the incoming ring with `copy` (dst null: skips them), waiting for data
  // as needed. False: partner gone.
  template <class Copier>
  bool read_bytes(std::byte* dst, std::size_t n, Copier& copy) {
    std::size_t done = 0;
    while (n != 0) {
      std::uint32_t avail = head_seen_ - tail_;
      if (avail < n && avail < shm::kChunkBytes) {
        head_seen_ = word(in_ctl_->head).load(std::memory_order_acquire);
        // The spinning receiver takes a length line on its tag, ahead of the head it has seen.
        if (!reached(head_seen_, tail_)) head_seen_ = tail_;
        avail = head_seen_ - tail_;
        if (avail == 0) {
          publish_tail();  // the sender may be waiting for the space already read
          const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(n, shm::kChunkBytes));
          if (!await(in_ctl_->head, in_ctl_->data_wait, bell(in_, kData), head_seen_, tail_ + want))
            return false;
          continue;
        }
      }
      const std::uint32_t at = tail_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, avail, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      if (dst != nullptr) {
        copy(dst, in_data_ + at, chunk, done);
        dst += chunk;
      }
      done += chunk;
      tail_ += static_cast<std::uint32_t>(chunk);
      n -= chunk;
      if (tail_ - published_tail_ >= shm::kChunkBytes) publish_tail();
    }
    return true;
  }

  void publish_head() {
    if (head_ == published_head_) return;
    published_head_ = head_;
    publish(out_ctl_->head, head_, out_ctl_->data_wait, bell(out_, kData));
  }

  void publish_tail() {
    if (tail_ == published_tail_) return;
    published_tail_ = tail_;
    publish(in_ctl_->tail, tail_, in_ctl_->space_wait, bell(in_, kSpace));
  }

  void publish(std::uint32_t& pos, std::uint32_t value, std::uint64_t& wait, int b) {
    if constexpr (Sync::kSpins) {
      word(pos).store(value, std::memory_order_release);
    } else {
      word(pos).store(value, std::memory_order_seq_cst);
      // Takes the word only as it was checked; a failed swap re-reads it (a new wait).
      std::uint64_t w = wait_word(wait).load(std::memory_order_seq_cst);
      while (w != 0 && reached(value, static_cast<std::uint32_t>(w))) {
        if (wait_word(wait).compare_exchange_weak(w, 0, std::memory_order_seq_cst)) {
          sync_.wake(b, &pos);
          break;
        }
      }
    }
  }

  // Waits until `pos` differs from `seen` (spinning) or has reached `target` (blocking; an
  // adaptive policy first spins for Sync::kSpinNs). False when the partner is gone and `pos`
  // never moved (spinning only: blocking waits return only when the target is reached).
  bool await(std::uint32_t& pos, std::uint64_t& wait, int b, std::uint32_t seen,
             std::uint32_t want) {
    if constexpr (Sync::kSpins) {
      return spin_until_change(pos, seen);
    } else {
      if constexpr (Sync::kSpinNs > 0)
        if (spin_briefly(pos, seen)) return true;
      if constexpr (Sync::kCounted)
        sleep_until_posted(pos, wait, b, want);
      else
        sleep_until_reached(pos, wait, b, want);
      return true;
    }
  }

  bool moved(std::uint32_t& pos, std::uint32_t seen) noexcept {
    return word(pos).load(std::memory_order_acquire) != seen;
  }

  bool spin_until_change(std::uint32_t& pos, std::uint32_t seen) {
    return spin_until([&] { return moved(pos, seen); });
  }

  // Spins until done() holds; every shm::kPollMs after the first kPauses spins it checks its
  // partner. False when the partner is gone (and done() still does not hold).
  template <class Done>
  bool spin_until(Done done) {
    std::int64_t next_check = 0;
    for (std::uint32_t i = 0;; ++i) {
      if (done()) return true;
      sync_.relax(i);
      if (i >= Sync::kPauses && i % 256 == 0) {
        const std::int64_t now = now_ns();
        if (next_check == 0) {
          next_check = now + shm::kPollMs * 1'000'000LL;
        } else if (now >= next_check) {
          if (partner_.gone()) return done();
          next_check = now + shm::kPollMs * 1'000'000LL;
        }
      }
    }
  }

  // Adaptive: spins until `pos` moves, for at most Sync::kSpinNs. False: it did not move.
  bool spin_briefly(std::uint32_t& pos, std::uint32_t seen) {
    const std::int64_t until = now_ns() + Sync::kSpinNs;
    for (std::uint32_t i = 1;; ++i) {
      if (moved(pos, seen)) return true;
      sync_.relax(i);
      if (i % Sync::kClockEvery == 0 && now_ns() >= until) return moved(pos, seen);
    }
  }

  // Futex: a wake is not counted, so the flag only saves the other side a system call. Sleeps
  // on the value just read, so a publish between the read and the sleep makes the sleep return.
  void sleep_until_reached(std::uint32_t& pos, std::uint64_t& wait, int b, std::uint32_t want) {
    for (;;) {
      wait_word(wait).store(shm::kWaiting | want, std::memory_order_seq_cst);
      const std::uint32_t v = word(pos).load(std::memory_order_seq_cst);
      if (reached(v, want)) break;
      sync_.sleep(b, &pos, v);
    }
    wait_word(wait).store(0, std::memory_order_relaxed);
  }

  // Semaphores count: every flag the other side takes is followed by exactly one post, which
  // this side must take before it sets the flag again, or the counts drift.
  void sleep_until_posted(std::uint32_t& pos, std::uint64_t& wait, int b, std::uint32_t want) {
    for (;;) {
      wait_word(wait).store(shm::kWaiting | want, std::memory_order_seq_cst);
      if (reached(word(pos).load(std::memory_order_seq_cst), want) &&
          wait_word(wait).exchange(0, std::memory_order_seq_cst) != 0)
        return;  // withdrawn before anyone took it: no post will come
      // The flag was taken (or will be, once the target is reached): take its post.
      while (sync_.sleep(b, &pos, 0) != shm::sleep_result::posted) {
      }
      if (reached(word(pos).load(std::memory_order_acquire), want)) return;
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
  std::uint64_t last_len_ = 0;  // the length of the last message taken by its tag
};

}  // namespace ipcbench
