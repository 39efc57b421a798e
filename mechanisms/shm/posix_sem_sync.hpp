// Synchronisation by POSIX named semaphores (sem_open(3)), one per ring and direction of waiting
// (data, space): a waiter with nothing to do sets its flag and sleeps in sem_wait(3), untimed (a
// dead partner is the coordinator's to handle: it kills the survivor); the other side
// sem_post(3)s only when it takes a set flag, so every post is taken exactly once and the counts
// never drift.
#pragma once

#include <semaphore.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/error.hpp"
#include "sys/named.hpp"

namespace ipcbench {

class posix_sem_sync {
 public:
  static constexpr int kBells = 4;  // ring 0 data, ring 0 space, ring 1 data, ring 1 space
  static constexpr const char* kName = "posix_sem";
  static constexpr const char* kSynchronised = "POSIX named semaphores";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = true;
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "sem_wait(3) on a POSIX named semaphore, untimed; sem_post(3) only when the waiter's flag "
      "is set and its target is reached";

  // Coordinator side: creates the semaphores (O_CREAT | O_EXCL, mode 0600, value 0) under unique
  // names (named_object), and unlinks them in opened() or, failing that, on destruction. Throws
  // std::system_error.
  class resources {
   public:
    resources();
    resources(const resources&) = delete;
    resources& operator=(const resources&) = delete;
    nlohmann::json rendezvous() const;  // {"semaphores": [names]}
    void opened() noexcept;             // once both peers have opened them: sem_unlink
    posix_sem_sync open() const;        // in a forked peer
    static posix_sem_sync attach(const nlohmann::json& j);  // in an unrelated peer

   private:
    std::array<std::string, kBells> names() const;

    std::array<named_object, kBells> names_;
  };

  // A peer's handles, closed (sem_close) on destruction. Move-only. sleep() and wake() throw
  // std::system_error on anything but EINTR.
  posix_sem_sync(posix_sem_sync&& o) noexcept : sems_(std::exchange(o.sems_, {})) {}
  posix_sem_sync& operator=(posix_sem_sync&&) = delete;
  posix_sem_sync(const posix_sem_sync&) = delete;
  ~posix_sem_sync();

  shm::sleep_result sleep(int bell, std::uint32_t* word, std::uint32_t seen);
  void wake(int bell, std::uint32_t*) {
    if (::sem_post(sems_[bell]) != 0) throw_errno("sem_post");
  }

 private:
  explicit posix_sem_sync(const std::array<std::string, kBells>& names);
  std::array<sem_t*, kBells> sems_{};
};

}  // namespace ipcbench
