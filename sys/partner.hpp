// partner watches another process (a peer's partner) for the slow path of a wait that cannot see
// a dead partner the way a pipe sees EOF: after a timed wait expires, gone() asks a pidfd
// (pidfd_open(2)), which becomes readable when the process exits, before it is reaped, unlike
// kill(pid, 0), which a zombie still passes. Where pidfds are refused (ENOSYS, EPERM) it falls
// back to kill(pid, 0). Move-only; in the process that waits (a peer, after fork).
#pragma once

#include <sys/types.h>

#include "unique_fd.hpp"

namespace ipcbench {

class partner {
 public:
  // Watches nobody: pid() is -1 and gone() is false.
  partner() noexcept = default;
  // Opens a pidfd on `pid`. A process already exited and reaped (ESRCH) is gone() from the
  // start. Throws std::system_error when pidfd_open fails otherwise.
  explicit partner(pid_t pid);

  pid_t pid() const noexcept { return pid_; }
  // True once the process has exited or been killed. Throws std::system_error when poll fails.
  bool gone() const;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  unique_fd pidfd_;
};

}  // namespace ipcbench
