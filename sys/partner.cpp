#include "partner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.hpp"
#include "retry.hpp"

namespace ipcbench {

partner::partner(pid_t pid) : pid_(pid) {
  // Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not link from C++.
  const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
  if (fd >= 0) {
    pidfd_.reset(fd);
  } else if (errno == ESRCH) {
    exited_ = true;  // it died and was reaped already (it published its pid first)
  } else if (errno != ENOSYS && errno != EPERM) {
    throw_errno("pidfd_open(pid " + std::to_string(pid) + ")");
  }
}

bool partner::gone() const {
  if (exited_) return true;
  if (pid_ <= 0) return false;
  if (!pidfd_) return ::kill(pid_, 0) != 0 && errno == ESRCH;  // no pidfd: zombies look alive
  pollfd p{pidfd_.get(), POLLIN, 0};
  const int rc = retry_on_eintr([&] { return ::poll(&p, 1, 0); });
  if (rc < 0) throw_errno("poll(pidfd of pid " + std::to_string(pid_) + ")");
  return rc > 0;
}

}  // namespace ipcbench
