// Synchronisation by pthread rwlocks used as gates, two per bell (ring and direction of waiting),
// in a sync_object of the policy's own, process-shared (PTHREAD_PROCESS_SHARED) between processes
// and process-private between thread peers. An rwlock has no wait-for-a-condition of its own (no
// condition variable takes one), and a lock may be unlocked only by its holder, so a gate is
// held shut by the side that wakes: that side write-locks both gates of each bell it rings when
// it opens its end. A waiter blocks in pthread_rwlock_rdlock(3) on the bell's current gate and,
// let through, unlocks it at once; the waker opens that gate (pthread_rwlock_unlock) for the
// waiter, having first write-locked the other gate again, which the waiter went through the
// time before. Wake-ups are counted, as a semaphore's posts are (the ring's flag protocol for
// counted policies, posix_sem_sync): each flag the waker takes is followed by exactly one
// opening, and the waiter takes that opening before it sets the flag again. So when the waker
// re-locks a gate, the waiter has already left it (no wait there), and a gate the waiter comes
// to is shut until its opening, which is never lost: an opening that comes before the waiter
// stays open for it. Each side counts the openings of its bells; the n-th goes through gate
// n % 2. A waiter that comes before its partner has opened its end waits (futex(2) on a word of
// the object) until the partner has shut its gates. Untimed: a partner that dies leaves the
// waiter blocked, and the coordinator, which sees the dead peer's control channel close, kills
// it. The opening thread must be the one that wakes (glibc knows a write lock's holder by its
// thread id), as in every peer of this suite. A peer calls sleep() and wake().
#pragma once

#include <pthread.h>

#include <array>
#include <cstdint>
#include <memory>

#include "mechanisms/shm/shm_segment.hpp"
#include "mechanisms/shm/sync_object.hpp"

namespace ipcbench {

class rwlock_sync {
 public:
  static constexpr const char* kName = "rwlock";
  static constexpr const char* kSynchronised =
      "pthread rwlocks as gates, two per waiting direction (process-shared): the waiter "
      "read-locks a gate the waker holds write-locked";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = true;
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "pthread_rwlock_rdlock(3) on a gate the other side holds write-locked, untimed, then "
      "pthread_rwlock_unlock(3); the other side, only when the waiter's flag is set and its "
      "target is reached, pthread_rwlock_wrlock(3)s the other gate again and unlocks this one";

  struct alignas(shm::kLineBytes) gate {
    pthread_rwlock_t lock;
  };
  struct state {
    gate gates[shm::kBells][2];
    // 1 once the waker of the bell holds both its gates shut (a futex word).
    alignas(shm::kLineBytes) std::uint32_t shut[shm::kBells];
  };
  // Coordinator, once: initialises every gate (unlocked; the wakers shut them). Throws
  // std::system_error.
  static void init(state& s, bool pshared);
  static void add_notes(mechanism_traits& t);
  using resources = shm::object_resources<rwlock_sync>;

  // Write-locks both gates of the bells that v.r rings. Throws std::system_error.
  explicit rwlock_sync(shm::sync_view v);

  // Throw std::system_error when a pthread or futex call fails.
  shm::sleep_result sleep(int b, std::uint32_t* word, std::uint32_t seen);
  void wake(int b, std::uint32_t* word);

 private:
  void await_shut(int b);

  std::shared_ptr<const mapping> map_;
  state* state_;
  // Per bell, the openings so far: taken (a bell this side waits on) or given (one it rings).
  std::array<std::uint64_t, shm::kBells> openings_{};
};

}  // namespace ipcbench
