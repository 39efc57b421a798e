// System V semaphores (semget(2), semop(2)): a set of two, one per direction; a notification is
// semop(+1) on the partner's semaphore and the receiver waits in semop(-1), untimed. A semaphore
// cannot show a dead partner: a peer left waiting is the coordinator's to end (it sees the dead
// peer's control channel close and kills the survivor). No payload: measured at size 0, latency
// only.
#pragma once

#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/cleanup.hpp"
#include "sys/io.hpp"

namespace ipcbench {

// A peer's view of the set: it posts one semaphore and waits on the other. A set removed under
// it (EIDRM) reads as kPeerGone. Throws std::system_error naming the call.
class sysv_sem_endpoint {
 public:
  sysv_sem_endpoint(int semid, unsigned short post, unsigned short wait) noexcept
      : semid_(semid), post_(post), wait_(wait) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  int semid_;
  unsigned short post_, wait_;
};

// Owns the set: created by the coordinator before fork (random key, IPC_CREAT | IPC_EXCL, mode
// 0600, both values 0) and registered with the emergency cleanup. IPC_RMID would fail a waiter
// at once (EIDRM), so the destructor removes the set after the run.
class sysv_sem_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit sysv_sem_channel(const channel_config& cfg);
  ~sysv_sem_channel();
  sysv_sem_channel(const sysv_sem_channel&) = delete;
  sysv_sem_channel& operator=(const sysv_sem_channel&) = delete;

  void opened() noexcept {}
  sysv_sem_endpoint open(role r) const;

 private:
  int semid_ = -1;
  cleanup::guard guard_;
};

}  // namespace ipcbench
