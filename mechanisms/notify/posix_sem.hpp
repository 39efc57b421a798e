// POSIX named semaphores (sem_open(3), sem_post(3), sem_wait(3)): two, one per direction, opened
// by name in each peer; the receiver waits in sem_wait, untimed. A semaphore cannot show a dead
// partner: a peer left waiting is the coordinator's to end (it sees the dead peer's control
// channel close and kills the survivor). No payload: measured at size 0, latency only.
#pragma once

#include <semaphore.h>

#include <span>
#include <string>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// One open named semaphore, closed (sem_close) on destruction. Move-only.
class sem_handle {
 public:
  sem_handle() noexcept = default;
  explicit sem_handle(sem_t* s) noexcept : s_(s) {}
  sem_handle(sem_handle&& o) noexcept : s_(o.s_) { o.s_ = SEM_FAILED; }
  sem_handle& operator=(sem_handle&& o) noexcept;
  sem_handle(const sem_handle&) = delete;
  sem_handle& operator=(const sem_handle&) = delete;
  ~sem_handle();
  sem_t* get() const noexcept { return s_; }

 private:
  sem_t* s_ = SEM_FAILED;
};

// A peer's two semaphores: it posts one and waits on the other. Throws std::system_error naming
// the call.
class posix_sem_endpoint {
 public:
  posix_sem_endpoint(sem_handle post, sem_handle wait) noexcept
      : post_(std::move(post)), wait_(std::move(wait)) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  sem_handle post_, wait_;
};

// Owns the names "/ipcbench-<pid>-<random>-fwd" and "-back" (files sem.* in /dev/shm): created
// by the coordinator before fork (O_CREAT | O_EXCL, mode 0600, value 0) as named_objects, opened
// by name in each peer, unlinked as soon as both peers have opened them. Throws
// std::system_error.
class posix_sem_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit posix_sem_channel(const channel_config& cfg);
  posix_sem_channel(const posix_sem_channel&) = delete;
  posix_sem_channel& operator=(const posix_sem_channel&) = delete;

  void opened() noexcept;
  posix_sem_endpoint open(role r) const;

 private:
  named_object forward_, back_;
};

}  // namespace ipcbench
