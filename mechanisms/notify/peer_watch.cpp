#include "mechanisms/notify/peer_watch.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "sys/error.hpp"

namespace ipcbench {

namespace {

// Glibc 2.36's <sys/pidfd.h> lacks the C linkage for C++, so the call goes through syscall(2).
int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
}

}  // namespace

partner::partner(pid_t pid) : pid_(pid) {
  const int fd = pidfd_open(pid);
  // ESRCH: the partner died and was reaped already (it published its pid first).
  if (fd < 0 && errno != ESRCH) throw_errno("pidfd_open(pid " + std::to_string(pid) + ")");
  pidfd_.reset(fd);
}

bool partner::gone() const noexcept {
  if (!pidfd_) return true;
  pollfd p{pidfd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

pid_exchange::pid_exchange() {
  void* page = ::mmap(nullptr, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)),
                      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) throw_errno("mmap(MAP_SHARED | MAP_ANONYMOUS, pid exchange)");
  static_assert(std::atomic<pid_t>::is_always_lock_free, "pids are shared between processes");
  pids_ = static_cast<std::atomic<pid_t>*>(page);
  for (int i = 0; i < 2; ++i) new (&pids_[i]) std::atomic<pid_t>(0);
}

pid_exchange::~pid_exchange() {
  ::munmap(pids_, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
}

partner pid_exchange::meet(role r, std::chrono::milliseconds limit) const {
  const int me = r == role::producer ? 0 : 1;
  pids_[me].store(::getpid());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // Setup, not the timed loop: a short sleep between looks is enough.
    if (const pid_t other = pids_[1 - me].load(); other != 0) return partner(other);
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(std::string("the ") + (me == 0 ? "consumer" : "producer") +
                               " never published its pid");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace ipcbench
