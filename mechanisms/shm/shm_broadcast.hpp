// Fan-out over shared memory: one producer, N consumers, one broadcast ring in a POSIX shared
// memory segment (shm_open + mmap) that every consumer reads. The segment's first ring area
// carries the bytes (messages framed as in shm_ring.hpp: a 64-byte length line, then the payload,
// the next message at the next 64-byte boundary); its second ring area, unused here, holds the
// control words: the head the producer publishes, and one tail per consumer, each on a line of
// its own. The producer may reuse a byte of the ring only once every consumer has passed it
// (free space = ring - (head - the smallest tail)), so a slow consumer holds the producer back
// and none is overtaken. Messages larger than the ring stream through it in chunks.
//
// Waiting. futex_sync: a consumer short of data counts itself in `data_waiters`, re-reads the
// head and sleeps in FUTEX_WAIT on the head's word; the producer, after publishing the head,
// wakes every sleeper (FUTEX_WAKE, INT_MAX) when the count is not zero. The producer short of
// space waits for min(what it still has to write, a chunk) bytes, not for the first free one
// (hysteresis, as in shm_ring.hpp: without it a full ring moved one message per sleep and wake,
// and fan_out/8 over 2 CPUs slowed 10 to 100 times within a run, past the watchdog): it sets
// `space_wait` to kWaiting | the smallest tail it needs, reads `space_seq`, re-reads the tails
// and sleeps on `space_seq`; a consumer, after publishing its tail, bumps `space_seq` and wakes
// the producer when the word is set and its tail has reached that target (the last consumer to
// reach it finds the producer asleep or about to re-read its tail). Nothing is taken from the
// word, and a stale target only makes a wake-up spurious. Sequentially consistent stores and
// loads on both sides make one of them see the other, so no wake-up is lost. spin_sync: both sides
// spin on the words (pause, or sched_yield after 1024 when the peers may share a CPU). Sleeps are
// untimed: a dead member is the group coordinator's to handle (it kills the others). In a peer
// only; throws std::system_error when a futex call fails, std::length_error for a message that does
// not fit the receive buffer.
#pragma once

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/shm_segment.hpp"
#include "mechanisms/shm/spin_sync.hpp"
#include "sys/error.hpp"
#include "sys/named.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

namespace shm {

// The most consumers of one broadcast ring.
inline constexpr std::size_t kMaxBroadcastConsumers = 64;

struct broadcast_control {
  alignas(kLineBytes) std::uint32_t head;       // bytes published by the producer
  std::uint32_t data_waiters;                   // consumers (about to be) asleep on head
  std::uint32_t consumers;                      // N, set by the coordinator before fork
  alignas(kLineBytes) std::uint32_t space_seq;  // bumped by a consumer that woke the producer
  std::uint64_t space_wait;  // 0, or kWaiting | the smallest tail the producer waits for
  struct tail_line {
    alignas(kLineBytes) std::uint32_t tail;  // bytes consumer i has read
  } tails[kMaxBroadcastConsumers];
};
static_assert(sizeof(broadcast_control) <= kRingBytes);

}  // namespace shm

template <class Sync>
class shm_broadcast_endpoint {
 public:
  static constexpr int kWakeAll = INT_MAX;

  // `index`: the consumer's number (ignored for the producer).
  shm_broadcast_endpoint(mapping map, Sync sync, role r, std::size_t index)
      : map_(std::move(map)),
        sync_(std::move(sync)),
        ctl_(reinterpret_cast<shm::broadcast_control*>(map_.data() + shm::kHeaderBytes +
                                                       shm::kRingBytes)),
        data_(map_.data() + shm::kHeaderBytes),
        producer_(r == role::producer),
        index_(index) {
    shm::prefault(map_.data(), map_.size());
    consumers_ = word(ctl_->consumers).load(std::memory_order_acquire);
    head_ = word(ctl_->head).load(std::memory_order_acquire);
    if (!producer_) tail_ = word(ctl_->tails[index_].tail).load(std::memory_order_acquire);
  }
  shm_broadcast_endpoint(shm_broadcast_endpoint&&) noexcept = default;
  shm_broadcast_endpoint& operator=(shm_broadcast_endpoint&&) = delete;

  io_status send(std::span<const std::byte> msg) {
    const std::uint64_t len = msg.size();
    alignas(8) std::byte line[shm::kPayloadAlign] = {};
    std::memcpy(line, &len, sizeof len);
    write_bytes(nullptr, pad(head_));
    write_bytes(line, sizeof line);
    write_bytes(msg.data(), msg.size());
    publish_head();
    return io_status::ok;
  }

  std::ptrdiff_t receive(std::span<std::byte> buf) {
    alignas(8) std::byte line[shm::kPayloadAlign];
    read_bytes(nullptr, pad(tail_));
    read_bytes(line, sizeof line);
    std::uint64_t len = 0;
    std::memcpy(&len, line, sizeof len);
    if (len > buf.size())
      throw std::length_error("broadcast ring: message of " + std::to_string(len) +
                              " bytes does not fit the receive buffer of " +
                              std::to_string(buf.size()));
    read_bytes(buf.data(), static_cast<std::size_t>(len));
    publish_tail();
    return static_cast<std::ptrdiff_t>(len);
  }

 private:
  static std::atomic_ref<std::uint32_t> word(std::uint32_t& w) noexcept {
    return std::atomic_ref<std::uint32_t>(w);
  }
  static std::atomic_ref<std::uint64_t> wait_word(std::uint64_t& w) noexcept {
    return std::atomic_ref<std::uint64_t>(w);
  }
  // Whether position `v` has reached `target` (both modulo 2^32, less than 2^31 apart).
  static bool reached(std::uint32_t v, std::uint32_t target) noexcept {
    return static_cast<std::int32_t>(v - target) >= 0;
  }
  static std::size_t pad(std::uint32_t pos) noexcept {
    return (shm::kPayloadAlign - pos % shm::kPayloadAlign) % shm::kPayloadAlign;
  }

  // The smallest tail: how far the slowest consumer has read.
  std::uint32_t min_tail() noexcept {
    std::uint32_t lag = 0;  // head_ - the slowest tail
    for (std::uint32_t i = 0; i < consumers_; ++i)
      lag = std::max(lag, head_ - word(ctl_->tails[i].tail).load(std::memory_order_seq_cst));
    return head_ - lag;
  }

  void write_bytes(const std::byte* src, std::size_t n) {
    while (n != 0) {
      std::uint32_t free = shm::kRingBytes - (head_ - tail_seen_);
      if (free == 0) {
        tail_seen_ = min_tail();
        free = shm::kRingBytes - (head_ - tail_seen_);
        if (free == 0) {
          publish_head();  // the consumers can drain what is already written
          const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(n, shm::kChunkBytes));
          await_space(head_ + want - shm::kRingBytes);
          continue;
        }
      }
      const std::uint32_t at = head_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, free, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      if (src != nullptr) {
        std::memcpy(data_ + at, src, chunk);
        src += chunk;
      }
      head_ += static_cast<std::uint32_t>(chunk);
      n -= chunk;
      if (head_ - published_head_ >= shm::kChunkBytes) publish_head();
    }
  }

  void read_bytes(std::byte* dst, std::size_t n) {
    while (n != 0) {
      std::uint32_t avail = head_ - tail_;
      if (avail == 0) {
        head_ = word(ctl_->head).load(std::memory_order_acquire);
        avail = head_ - tail_;
        if (avail == 0) {
          publish_tail();  // the producer may be waiting for the space already read
          await_data();
          continue;
        }
      }
      const std::uint32_t at = tail_ & (shm::kRingBytes - 1);
      const std::size_t chunk = std::min<std::size_t>(
          {n, avail, std::size_t{shm::kRingBytes - at}, std::size_t{shm::kChunkBytes}});
      if (dst != nullptr) {
        std::memcpy(dst, data_ + at, chunk);
        dst += chunk;
      }
      tail_ += static_cast<std::uint32_t>(chunk);
      n -= chunk;
      if (tail_ - published_tail_ >= shm::kChunkBytes) publish_tail();
    }
  }

  void publish_head() {
    if (head_ == published_head_) return;
    published_head_ = head_;
    if constexpr (Sync::kSpins) {
      word(ctl_->head).store(head_, std::memory_order_release);
    } else {
      word(ctl_->head).store(head_, std::memory_order_seq_cst);
      if (word(ctl_->data_waiters).load(std::memory_order_seq_cst) != 0)
        futex(&ctl_->head, FUTEX_WAKE, kWakeAll);
    }
  }

  void publish_tail() {
    if (tail_ == published_tail_) return;
    published_tail_ = tail_;
    if constexpr (Sync::kSpins) {
      word(ctl_->tails[index_].tail).store(tail_, std::memory_order_release);
    } else {
      word(ctl_->tails[index_].tail).store(tail_, std::memory_order_seq_cst);
      const std::uint64_t w = wait_word(ctl_->space_wait).load(std::memory_order_seq_cst);
      if (w != 0 && reached(tail_, static_cast<std::uint32_t>(w))) {
        word(ctl_->space_seq).fetch_add(1, std::memory_order_seq_cst);
        futex(&ctl_->space_seq, FUTEX_WAKE, 1);
      }
    }
  }

  // Until the head moves past tail_.
  void await_data() {
    for (std::uint32_t i = 0;; ++i) {
      if constexpr (Sync::kSpins) {
        head_ = word(ctl_->head).load(std::memory_order_acquire);
        if (head_ != tail_) return;
        sync_.relax(i);
      } else {
        word(ctl_->data_waiters).fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t v = word(ctl_->head).load(std::memory_order_seq_cst);
        if (v == tail_) futex(&ctl_->head, FUTEX_WAIT, static_cast<int>(v));
        word(ctl_->data_waiters).fetch_sub(1, std::memory_order_seq_cst);
        head_ = word(ctl_->head).load(std::memory_order_acquire);
        if (head_ != tail_) return;
      }
    }
  }

  // Until the slowest consumer's tail has reached `target` (modulo 2^32).
  void await_space(std::uint32_t target) {
    for (std::uint32_t i = 0;; ++i) {
      if constexpr (Sync::kSpins) {
        tail_seen_ = min_tail();
        if (reached(tail_seen_, target)) return;
        sync_.relax(i);
      } else {
        wait_word(ctl_->space_wait).store(shm::kWaiting | target, std::memory_order_seq_cst);
        const std::uint32_t seq = word(ctl_->space_seq).load(std::memory_order_seq_cst);
        tail_seen_ = min_tail();
        if (reached(tail_seen_, target)) {
          wait_word(ctl_->space_wait).store(0, std::memory_order_relaxed);
          return;
        }
        futex(&ctl_->space_seq, FUTEX_WAIT, static_cast<int>(seq));
      }
    }
  }

  // FUTEX_WAIT returns on a wake, a changed word (EAGAIN) or a signal (EINTR): the caller
  // re-checks either way.
  static void futex(std::uint32_t* w, int op, int val) {
    if (::syscall(SYS_futex, w, op, val, nullptr, nullptr, 0) < 0 && errno != EAGAIN &&
        errno != EINTR)
      throw_errno(op == FUTEX_WAIT ? "futex(FUTEX_WAIT, broadcast ring)"
                                   : "futex(FUTEX_WAKE, broadcast ring)");
  }

  mapping map_;
  Sync sync_;
  shm::broadcast_control* ctl_;
  std::byte* data_;
  bool producer_;
  std::size_t index_;
  std::uint32_t consumers_ = 0;
  std::uint32_t head_ = 0, published_head_ = 0, tail_seen_ = 0;  // producer
  std::uint32_t tail_ = 0, published_tail_ = 0;                  // consumer (head_: seen)
};

// The broadcast ring's channel: a POSIX shared memory segment created O_CREAT | O_EXCL, mode
// 0600, under a unique name, unlinked once every member has mapped it (opened()). The
// coordinator writes the number of consumers into it before fork. Throws std::system_error, and
// std::invalid_argument for more than kMaxBroadcastConsumers consumers.
template <class Sync>
class posix_shm_broadcast_channel {
 public:
  using endpoint = shm_broadcast_endpoint<Sync>;

  posix_shm_broadcast_channel(const channel_config& cfg, std::size_t consumers)
      : sync_(make_sync(cfg)) {
    if (consumers == 0 || consumers > shm::kMaxBroadcastConsumers)
      throw std::invalid_argument("broadcast ring of " + std::to_string(consumers) +
                                  " consumers, outside 1.." +
                                  std::to_string(shm::kMaxBroadcastConsumers));
    name_ = named_object(named_object::kind::posix_shm, names::unique_posix_name());
    const int fd = ::shm_open(name_.name().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("shm_open(" + name_.name() + ", O_CREAT | O_EXCL)");
    unique_fd owned(fd);
    name_.created();
    check(::ftruncate(fd, static_cast<off_t>(shm::kSegmentBytes)),
          "ftruncate(" + name_.name() + ", " + std::to_string(shm::kSegmentBytes) + ")");
    mapping m = shm::map_segment(fd, name_.name());
    auto* ctl =
        reinterpret_cast<shm::broadcast_control*>(m.data() + shm::kHeaderBytes + shm::kRingBytes);
    std::atomic_ref<std::uint32_t>(ctl->consumers)
        .store(static_cast<std::uint32_t>(consumers), std::memory_order_release);
  }
  void opened() noexcept { name_.unlink(); }
  // In a forked member: consumer `index`, or the producer.
  endpoint open(role r, std::size_t index) {
    const int fd = ::shm_open(name_.name().c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) throw_errno("shm_open(" + name_.name() + ")");
    unique_fd owned(fd);
    return endpoint(shm::map_segment(fd, name_.name()), sync_, r, index);
  }

 private:
  static Sync make_sync(const channel_config& cfg) {
    if constexpr (Sync::kSpins)
      return Sync(cfg.peers_share_cpu);
    else
      return Sync();
  }

  named_object name_;
  Sync sync_;
};

}  // namespace ipcbench
