// Synchronisation by a pthread spinlock per bell (ring and direction of waiting), in a
// sync_object of the policy's own, process-shared (PTHREAD_PROCESS_SHARED) between processes and
// process-private between thread peers. The spinlock guards the waiting: a waiter with nothing
// to do sets its flag and polls, each poll taking the lock (pthread_spin_lock), reading the ring
// position and releasing it, until the position differs from what it saw; between polls a pause
// instruction, and when the peers may share a CPU (channel_config::peers_share_cpu) sched_yield()
// after spin_sync::kPauses polls, as spin_sync does. The other side, once it has published and
// taken a set flag whose target is reached, takes and releases the same lock, so the hand-over
// goes through the lock's cache line as the waiter's reads do. No system call unless yielding.
// The waiter polls untimed: a partner that dies leaves it spinning until the coordinator, which
// sees the dead peer's control channel close, kills it. A peer calls sleep() and wake().
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "mechanisms/shm/shm_segment.hpp"
#include "mechanisms/shm/spin_sync.hpp"
#include "mechanisms/shm/sync_object.hpp"
#include "sys/error.hpp"

namespace ipcbench {

class spinlock_sync {
 public:
  static constexpr const char* kName = "spinlock";
  static constexpr const char* kSynchronised =
      "polling the ring positions under a pthread spinlock per waiting direction "
      "(process-shared)";
  static constexpr bool kSpins = false;  // the ring's waiting flags, polled in sleep()
  static constexpr bool kPolls = true;   // but it busy-waits all the same (traits' `spins`)
  static constexpr bool kCounted = false;
  static constexpr std::int64_t kSpinNs = 0;
  static constexpr const char* kWait =
      "busy-wait: pthread_spin_lock(3), read the ring position, pthread_spin_unlock(3), pause; "
      "only when the peers may share a CPU (placement same or none) sched_yield() per poll "
      "after 1024 polls; the other side takes and releases the lock only when the waiter's "
      "flag is set and its target is reached";

  struct alignas(shm::kLineBytes) bell {
    pthread_spinlock_t lock;
  };
  struct state {
    bell bells[shm::kBells];
  };
  static void init(state& s, bool pshared) {
    for (bell& b : s.bells)
      check_rc(
          ::pthread_spin_init(&b.lock, pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE),
          "pthread_spin_init");
  }
  static void add_notes(mechanism_traits& t) {
    t.notes["pshared"] =
        "PTHREAD_PROCESS_SHARED when the peers are processes; PTHREAD_PROCESS_PRIVATE when they "
        "are threads of one process (--peers threads)";
    t.notes["sync_object"] =
        "the spinlocks live in a POSIX shared-memory object of their own (one per ring and "
        "direction of waiting, 128 bytes apart), initialised once by the coordinator, unlinked "
        "once both peers mapped it, never destroyed";
    t.notes["cpu"] =
        "a waiting peer spins and burns its CPU; when the peers may share a CPU (placement same "
        "or none) it yields after 1024 polls, on CPUs of their own never";
  }
  using resources = shm::object_resources<spinlock_sync>;

  explicit spinlock_sync(shm::sync_view v) noexcept
      : map_(std::move(v.map)), state_(shm::state_in<state>(*map_)), yields_(v.share_cpu) {}

  // Polls until the position differs from `seen`. Throws std::system_error when a pthread call
  // fails (glibc's never do).
  shm::sleep_result sleep(int b, std::uint32_t* word, std::uint32_t seen) {
    pthread_spinlock_t* lock = &state_->bells[b].lock;
    for (std::uint32_t i = 0;; ++i) {
      check_rc(::pthread_spin_lock(lock), "pthread_spin_lock");
      const std::uint32_t v = std::atomic_ref<std::uint32_t>(*word).load(std::memory_order_relaxed);
      check_rc(::pthread_spin_unlock(lock), "pthread_spin_unlock");
      if (v != seen) return shm::sleep_result::posted;
      if (i < spin_sync::kPauses || !yields_)
        cpu_pause();
      else
        ::sched_yield();
    }
  }
  void wake(int b, std::uint32_t*) {
    pthread_spinlock_t* lock = &state_->bells[b].lock;
    check_rc(::pthread_spin_lock(lock), "pthread_spin_lock");
    check_rc(::pthread_spin_unlock(lock), "pthread_spin_unlock");
  }

 private:
  std::shared_ptr<const mapping> map_;
  state* state_;
  bool yields_;
};

}  // namespace ipcbench
