// Synchronisation by futex(2) on the ring's own position words in the segment: a waiter sleeps in
// FUTEX_WAIT, untimed, while the word still holds the value it last saw; the other side calls
// FUTEX_WAKE only when the waiting flag was set and the waiter's target is reached, so the
// uncontended path makes no system call. A partner that dies leaves the waiter asleep: the
// coordinator sees the dead peer's control channel close and kills the survivor. Shared futexes
// (no FUTEX_PRIVATE_FLAG): the words are shared between processes. Nothing to create or remove.
// A peer calls sleep() and wake().
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/error.hpp"

namespace ipcbench {

class futex_sync {
 public:
  static constexpr const char* kName = "futex";
  static constexpr const char* kSynchronised = "futex(2) waits on the ring positions";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = false;     // a wake with no sleeper is not remembered
  static constexpr std::int64_t kSpinNs = 0;  // sleeps at once
  static constexpr const char* kWait =
      "futex(2) FUTEX_WAIT on the ring position in the segment, untimed; FUTEX_WAKE only when "
      "the waiter's flag is set and its target is reached";

  // Coordinator side: the futex words live in the segment, so there is nothing to create.
  struct resources {
    nlohmann::json rendezvous() const { return nlohmann::json::object(); }
    void opened() noexcept {}
    futex_sync open() const { return {}; }
    static futex_sync attach(const nlohmann::json&) { return {}; }
  };

  static shm::sleep_result sleep(int /*bell*/, std::uint32_t* word, std::uint32_t seen) {
    if (::syscall(SYS_futex, word, FUTEX_WAIT, seen, nullptr, nullptr, 0) == 0)
      return shm::sleep_result::posted;
    switch (errno) {
      case EAGAIN:  // the word had already moved
      case EINTR:
        return shm::sleep_result::interrupted;
      default:
        throw_errno("futex(FUTEX_WAIT)");
    }
  }

  static void wake(int /*bell*/, std::uint32_t* word) {
    if (::syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0)
      throw_errno("futex(FUTEX_WAKE)");
  }
};

}  // namespace ipcbench
