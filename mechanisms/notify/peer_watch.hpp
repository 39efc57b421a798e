// For the signal mechanisms, which address their partner by pid: the two forked peers learn each
// other's pid through a page of shared memory made before fork. A send to a partner that has
// exited fails (ESRCH); waits are untimed, so a peer left waiting by a dead partner is ended by
// the coordinator.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>

#include "mechanisms/adapter.hpp"
#include "sys/mapping.hpp"
#include "sys/partner.hpp"

namespace ipcbench {

// One page of anonymous MAP_SHARED memory where the two peers publish their pids. Made by the
// coordinator before fork (throws std::system_error), unmapped in its destructor; the peers
// call meet().
class pid_exchange {
 public:
  // In a peer: publishes getpid() for role `r` and waits until the other role has published
  // its pid (both open at about the same time; the coordinator's watchdog bounds the wait, and
  // after `limit` it throws std::runtime_error).
  partner meet(role r, std::chrono::milliseconds limit = std::chrono::seconds(60)) const;

 private:
  static_assert(std::atomic<pid_t>::is_always_lock_free, "pids are shared between processes");
  shared_page<std::array<std::atomic<pid_t>, 2>> pids_;  // [producer, consumer], 0 until met
};

}  // namespace ipcbench
