// Synchronisation by unnamed POSIX semaphores (sem_init(3)), one per bell (ring and direction of
// waiting), in a sync_object of the policy's own: sem_init(&s, 1, 0) (process-shared) between
// processes, sem_init(&s, 0, 0) between thread peers. The protocol is posix_sem_sync's: a waiter
// with nothing to do sets its flag and sleeps in sem_wait(3), untimed (a dead partner is the
// coordinator's to handle: it kills the survivor); the other side sem_post(3)s only when it
// takes a set flag, so every post is taken exactly once and the counts never drift. What differs
// from posix_sem_sync is only where the semaphores live and how they are reached: no sem_open,
// no name per semaphore. A peer calls sleep() and wake().
#pragma once

#include <semaphore.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "mechanisms/shm/shm_segment.hpp"
#include "mechanisms/shm/sync_object.hpp"
#include "sys/error.hpp"

namespace ipcbench {

class unnamed_sem_sync {
 public:
  static constexpr const char* kName = "unnamed_sem";
  static constexpr const char* kSynchronised =
      "unnamed POSIX semaphores (sem_init, process-shared) in shared memory";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = true;
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "sem_wait(3) on an unnamed process-shared POSIX semaphore in shared memory, untimed; "
      "sem_post(3) only when the waiter's flag is set and its target is reached";

  struct alignas(shm::kLineBytes) bell {
    sem_t sem;
  };
  struct state {
    bell bells[shm::kBells];
  };
  static void init(state& s, bool pshared) {
    for (bell& b : s.bells)
      if (::sem_init(&b.sem, pshared ? 1 : 0, 0) != 0) throw_errno("sem_init");
  }
  static void add_notes(mechanism_traits& t) {
    t.notes["pshared"] =
        "sem_init(pshared = 1) when the peers are processes; sem_init(pshared = 0) when they are "
        "threads of one process (--peers threads)";
    t.notes["sync_object"] =
        "the semaphores live in a POSIX shared-memory object of their own (one per ring and "
        "direction of waiting, 128 bytes apart), initialised once by the coordinator, unlinked "
        "once both peers mapped it, never destroyed";
  }
  using resources = shm::object_resources<unnamed_sem_sync>;

  explicit unnamed_sem_sync(shm::sync_view v) noexcept
      : map_(std::move(v.map)), state_(shm::state_in<state>(*map_)) {}

  // Throw std::system_error on anything but EINTR.
  shm::sleep_result sleep(int b, std::uint32_t*, std::uint32_t) {
    if (::sem_wait(&state_->bells[b].sem) == 0) return shm::sleep_result::posted;
    if (errno == EINTR) return shm::sleep_result::interrupted;
    throw_errno("sem_wait");
  }
  void wake(int b, std::uint32_t*) {
    if (::sem_post(&state_->bells[b].sem) != 0) throw_errno("sem_post");
  }

 private:
  std::shared_ptr<const mapping> map_;
  state* state_;
};

}  // namespace ipcbench
