// Fan-in over shared memory: N producers into one consumer through one ring (the posix_shm
// segment's producer -> consumer ring). The producers are serialised by a lock in the segment
// (segment_header::producer_lock) that a producer holds for the whole of one message: it takes
// the lock, adopts the ring's published head (another producer moved it), writes its message
// as a lone sender would (waiting for space as usual, publishing the head when it ends) and
// releases the lock, so every message lies whole and contiguous in the ring and the consumer is
// the unchanged single-consumer endpoint. The lock is a futex mutex (Drepper, "Futexes Are
// Tricky", mutex 2: 0 free, 1 held, 2 held with sleepers; the release wakes one sleeper only
// when there may be one) for the blocking policies, a test-and-test-and-set spin lock for the
// spinning one, whose waiters relax as its ring waits do (pause, or sched_yield when the peers
// may share a CPU). A producer that dies holding the lock leaves the others waiting: the
// coordinator sees the dead peer's control channel close and kills them. In a peer only;
// throws what the ring throws, std::system_error when a futex call fails.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <span>
#include <utility>

#include "mechanisms/shm/posix_shm.hpp"
#include "mechanisms/shm/shm_ring.hpp"
#include "sys/error.hpp"

namespace ipcbench {

namespace shm {

// The producer lock of a segment, used by every producer of a fan-in (lock() around each send).
template <class Sync>
class producer_lock {
 public:
  explicit producer_lock(std::uint32_t& word) noexcept : w_(&word) {}

  void lock(const Sync& sync) {
    std::uint32_t c = 0;
    if (word().compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    if constexpr (Sync::kSpins) {
      for (std::uint32_t i = 0;; ++i) {
        c = 0;
        if (word().load(std::memory_order_relaxed) == 0 &&
            word().compare_exchange_weak(c, 1, std::memory_order_acquire))
          return;
        sync.relax(i);
      }
    } else {
      (void)sync;
      if (c != 2) c = word().exchange(2, std::memory_order_acquire);
      while (c != 0) {
        if (::syscall(SYS_futex, w_, FUTEX_WAIT, 2, nullptr, nullptr, 0) != 0 && errno != EAGAIN &&
            errno != EINTR)
          throw_errno("futex(FUTEX_WAIT, producer lock)");
        c = word().exchange(2, std::memory_order_acquire);
      }
    }
  }

  void unlock() {
    if constexpr (Sync::kSpins) {
      word().store(0, std::memory_order_release);
    } else if (word().fetch_sub(1, std::memory_order_release) != 1) {
      word().store(0, std::memory_order_release);
      if (::syscall(SYS_futex, w_, FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0)
        throw_errno("futex(FUTEX_WAKE, producer lock)");
    }
  }

 private:
  std::atomic_ref<std::uint32_t> word() const noexcept {
    return std::atomic_ref<std::uint32_t>(*w_);
  }
  std::uint32_t* w_;
};

}  // namespace shm

// The endpoint of a shared ring: a producer's send() holds the producer lock around the ring's
// send; the consumer's receive() is the ring's.
template <class Sync>
class shm_shared_endpoint {
 public:
  explicit shm_shared_endpoint(shm_endpoint<Sync> ep) : ep_(std::move(ep)) {}

  io_status send(std::span<const std::byte> msg) {
    shm::producer_lock<Sync> lock(ep_.header().producer_lock);
    lock.lock(ep_.sync());
    io_status st;
    try {
      ep_.adopt_shared_head();
      st = ep_.send(msg);
    } catch (...) {
      lock.unlock();
      throw;
    }
    lock.unlock();
    return st;
  }

  std::ptrdiff_t receive(std::span<std::byte> buf) { return ep_.receive(buf); }
  template <class Copier>
  std::ptrdiff_t receive(std::span<std::byte> buf, Copier& copy) {
    return ep_.receive(buf, copy);
  }

 private:
  shm_endpoint<Sync> ep_;
};

// posix_shm with one ring that N producers share (fan_in/N): the segment, names and
// synchronisation of posix_shm_channel<Sync>, the endpoints shm_shared_endpoint<Sync>. Every
// producer's open() maps the segment by name (before opened() unlinks it). Same traits as the
// one-pair channel, whose registry entry runs it as its fan-in. Throws std::system_error.
template <class Sync>
class posix_shm_shared_channel {
 public:
  using endpoint = shm_shared_endpoint<Sync>;
  static mechanism_traits describe() { return posix_shm_channel<Sync>::describe(); }
  explicit posix_shm_shared_channel(const channel_config& cfg) : ch_(cfg) {}
  void opened() noexcept { ch_.opened(); }
  endpoint open(role r) { return endpoint(ch_.open(r)); }

 private:
  posix_shm_channel<Sync> ch_;
};

}  // namespace ipcbench
