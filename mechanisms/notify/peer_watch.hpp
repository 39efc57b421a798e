// For mechanisms whose wait cannot see a dead partner the way a pipe sees EOF (semaphores, futex,
// signals): the two forked peers learn each other's pid through a page of shared memory made
// before fork, and a peer whose timed wait expires asks a pidfd whether its partner has exited.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>

#include "mechanisms/adapter.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// How long a peer blocks before it rechecks that its partner is alive. Off the fast path: it
// matters only when a wait expires.
inline constexpr std::chrono::milliseconds kPartnerCheck{100};

// The other peer of a pair, in a peer: its pid and a pidfd (pidfd_open(2)) on it. Move-only.
class partner {
 public:
  partner() noexcept = default;
  // Throws std::system_error when pidfd_open fails, unless the process is gone already (then
  // gone() is true from the start).
  explicit partner(pid_t pid);
  pid_t pid() const noexcept { return pid_; }
  // True once the partner has exited or been killed, even before its parent reaps it (the
  // pidfd becomes readable), unlike kill(pid, 0), which a zombie still passes.
  bool gone() const noexcept;

 private:
  pid_t pid_ = -1;
  unique_fd pidfd_;
};

// One page of anonymous MAP_SHARED memory where the two peers publish their pids. Made by the
// coordinator before fork (throws std::system_error), unmapped in its destructor; the peers
// call meet().
class pid_exchange {
 public:
  pid_exchange();
  ~pid_exchange();
  pid_exchange(const pid_exchange&) = delete;
  pid_exchange& operator=(const pid_exchange&) = delete;

  // In a peer: publishes getpid() for role `r` and waits until the other role has published
  // its pid (both open at about the same time; the coordinator's watchdog bounds the wait, and
  // after `limit` it throws std::runtime_error).
  partner meet(role r, std::chrono::milliseconds limit = std::chrono::seconds(60)) const;

 private:
  std::atomic<pid_t>* pids_ = nullptr;  // [producer, consumer]
};

}  // namespace ipcbench
