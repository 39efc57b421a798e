#include "child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/error.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>

#include "error.hpp"
#include "retry.hpp"
#include "unique_fd.hpp"

namespace ipcbench {

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(std::exchange(other.status_, std::nullopt)),
      guard_(std::move(other.guard_)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
    guard_ = std::move(other.guard_);
  }
  return *this;
}

child_process::~child_process() {
  kill_and_reap();
}

child_process child_process::fork(const std::function<int()>& body) {
  const pid_t parent = ::getpid();
  std::fflush(nullptr);
  // Fork and registration are one step for the signal handler: Ctrl-C in between would leave a
  // child nobody kills (and reaps) before the coordinator dies.
  cleanup::deferred_signals hold;
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    int rc = 70;
    try {
      cleanup::reset_in_child();
      hold.end();
      check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG)");
      // The parent may have died between fork() and prctl(): then nobody would kill us.
      if (::getppid() != parent) ::_exit(71);
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ipcbench: peer %d: %s\n", static_cast<int>(::getpid()), e.what());
    } catch (...) {
      std::fprintf(stderr, "ipcbench: peer %d: unknown exception\n", static_cast<int>(::getpid()));
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  child_process c;
  c.pid_ = pid;
  c.guard_ = cleanup::guard(cleanup::kind::pid, pid);
  return c;
}

child_process child_process::spawn(const std::string& program, const std::vector<std::string>& args,
                                   int keep_fd, int output_fd) {
  namespace bp = boost::process;
  const pid_t parent = ::getpid();
  std::fflush(nullptr);
  // As in fork(): registered before a held signal can reach the handler.
  cleanup::deferred_signals hold;
  // Runs in the forked child just before execve: async-signal-safe calls only. The held signals
  // go back to their default action first, then the mask, which execve would keep, is restored.
  auto in_child = [keep_fd, output_fd, parent, &hold](auto&) {
    cleanup::reset_in_child();
    hold.end();
    if (keep_fd >= 0 && ::fcntl(keep_fd, F_SETFD, 0) < 0) ::_exit(72);
    if (output_fd >= 0 &&
        (::dup2(output_fd, STDOUT_FILENO) < 0 || ::dup2(output_fd, STDERR_FILENO) < 0))
      ::_exit(72);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) ::_exit(71);
    if (::getppid() != parent) ::_exit(71);
  };
  // Errors come back as a value, so that a child whose execve failed can still be reaped.
  std::error_code ec;
  pid_t failed = -1;
  auto on_error = [&failed](auto& exec, const std::error_code&) { failed = exec.pid; };
  bp::child c(bp::exe = program, bp::args = args, bp::error = ec,
              bp::extend::on_exec_setup = in_child, bp::extend::on_error = on_error);
  if (ec) {
    if (failed > 0) (void)retry_on_eintr([&] { return ::waitpid(failed, nullptr, 0); });
    throw std::system_error(ec, "spawn(" + program + ")");
  }
  const pid_t pid = c.id();
  // From here this handle, not Boost's, waits for and kills the child.
  c.detach();
  child_process p;
  p.pid_ = pid;
  p.guard_ = cleanup::guard(cleanup::kind::pid, pid);
  return p;
}

std::optional<int> child_process::try_wait() {
  if (status_ || pid_ <= 0) return status_;
  int st = 0;
  const pid_t r = retry_on_eintr([&] { return ::waitpid(pid_, &st, WNOHANG); });
  if (r < 0) throw_errno("waitpid");
  if (r == pid_) {
    status_ = st;
    guard_.release();
  }
  return status_;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  if (auto st = try_wait()) return st;
  // A pidfd becomes readable the moment the child exits, so the wait ends then: the floors beside
  // every repetition wait on two children each, and a sleep-poll added up to a millisecond to
  // each wait. Where the kernel has no pidfd_open (before 5.3), the short sleep-poll.
  const unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  auto left = [&] {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 1 << 30));
  };
  for (;;) {
    if (left() == 0) return try_wait();
    if (pidfd) {
      pollfd p{.fd = pidfd.get(), .events = POLLIN, .revents = 0};
      if (retry_on_eintr([&] { return ::poll(&p, 1, left()); }) < 0) throw_errno("poll(pidfd)");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (auto st = try_wait()) return st;
  }
}

int child_process::kill_and_reap() noexcept {
  if (pid_ <= 0) return -1;
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    const pid_t r = retry_on_eintr([&] { return ::waitpid(pid_, &st, 0); });
    if (r == pid_) status_ = st;
    guard_.release();
  }
  return status_.value_or(-1);
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* abbrev = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") +
           (abbrev ? abbrev : std::to_string(WTERMSIG(status)).c_str());
  }
  return "wait status " + std::to_string(status);
}

}  // namespace ipcbench
