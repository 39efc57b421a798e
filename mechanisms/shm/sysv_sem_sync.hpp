// Synchronisation by a System V semaphore set (semget(2)), one semaphore per ring and direction of
// waiting (data, space): a waiter with nothing to do sets its flag and sleeps in semop(2) -1,
// untimed (a dead partner is the coordinator's to handle: it kills the survivor); the other side
// semop(2)s +1 only when it takes a set flag, so every post is taken exactly once and the counts
// never reach SEMVMX.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {

class sysv_sem_sync {
 public:
  static constexpr int kBells = 4;  // ring 0 data, ring 0 space, ring 1 data, ring 1 space
  static constexpr const char* kName = "sysv_sem";
  static constexpr const char* kSynchronised = "a System V semaphore set";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = true;
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "semop(2) -1 on a System V semaphore, untimed; semop(2) +1 only when the waiter's flag is "
      "set and its target is reached";

  // Coordinator side: creates the set (unique key, IPC_CREAT | IPC_EXCL, mode 0600, all zero),
  // registered with the emergency cleanup. IPC_RMID of a set takes effect at once, even for
  // processes that use it, so it is removed only on destruction, after the peers are gone.
  // Throws std::system_error.
  class resources {
   public:
    resources();
    ~resources();
    resources(const resources&) = delete;
    resources& operator=(const resources&) = delete;
    nlohmann::json rendezvous() const { return {{"semid", semid_}}; }
    void opened() noexcept {}
    sysv_sem_sync open() const { return sysv_sem_sync(semid_); }
    static sysv_sem_sync attach(const nlohmann::json& j) {
      return sysv_sem_sync(j.at("semid").get<int>());
    }
    int id() const noexcept { return semid_; }

   private:
    int semid_ = -1;
    cleanup::guard guard_;
  };

  // A peer's view of the set; owns nothing. sleep() and wake() throw std::system_error on
  // anything but EINTR (EIDRM when the set was removed under it).
  shm::sleep_result sleep(int bell, std::uint32_t* word, std::uint32_t seen);
  void wake(int bell, std::uint32_t* word);

 private:
  explicit sysv_sem_sync(int semid) noexcept : semid_(semid) {}
  int semid_;
};

}  // namespace ipcbench
