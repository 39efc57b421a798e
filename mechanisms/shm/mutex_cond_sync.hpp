// Synchronisation by a pthread mutex and condition variable per bell (ring and direction of
// waiting), in a sync_object of the policy's own, process-shared (PTHREAD_PROCESS_SHARED) between
// processes and process-private between thread peers. A waiter with nothing to do sets its flag,
// locks the mutex and waits on the condition variable, untimed, while the ring position still
// holds the value it saw, then unlocks. The other side, once it has published and taken a set
// flag whose target is reached, locks the same mutex, signals and unlocks. No wake-up is lost:
// the position is stored before the signaller locks, so either the waiter's check under the
// mutex comes after the signaller's critical section and sees the new position, or the waiter
// is already inside pthread_cond_wait (it releases the mutex atomically) when the signal comes.
// Not counted: a signal with no waiter is not remembered, and a waiter re-checks the position.
// A partner that dies inside a critical section leaves the mutex locked and the survivor blocked:
// the coordinator sees the dead peer's control channel close and kills it (the mutex is not
// robust, as a program that trusts its peers would not make it). A peer calls sleep() and wake().
#pragma once

#include <pthread.h>

#include <cstdint>
#include <memory>

#include "mechanisms/shm/shm_segment.hpp"
#include "mechanisms/shm/sync_object.hpp"

namespace ipcbench {

class mutex_cond_sync {
 public:
  static constexpr const char* kName = "mutex_cond";
  static constexpr const char* kSynchronised =
      "a pthread mutex and condition variable per waiting direction (process-shared)";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = false;
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "pthread_cond_wait(3) under a process-shared pthread mutex while the ring position still "
      "holds what the waiter saw, untimed; the other side locks the mutex and "
      "pthread_cond_signal(3)s only when the waiter's flag is set and its target is reached";

  // One bell's primitives, on a line of their own (the four bells are used by different pairs
  // of cores at once).
  struct alignas(shm::kLineBytes) bell {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
  };
  struct state {
    bell bells[shm::kBells];
  };
  // Coordinator, once: initialises every mutex and condition variable. Throws std::system_error.
  static void init(state& s, bool pshared);
  static void add_notes(mechanism_traits& t);
  using resources = shm::object_resources<mutex_cond_sync>;

  explicit mutex_cond_sync(shm::sync_view v) noexcept
      : map_(std::move(v.map)), state_(shm::state_in<state>(*map_)) {}

  // Throw std::system_error when a pthread call fails.
  shm::sleep_result sleep(int b, std::uint32_t* word, std::uint32_t seen);
  void wake(int b, std::uint32_t* word);

 private:
  std::shared_ptr<const mapping> map_;
  state* state_;
};

}  // namespace ipcbench
