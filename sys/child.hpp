// child_process owns a child, forked or launched as a separate program: the destructor kills
// (SIGKILL) and reaps a child that is still running, so no peer outlives its benchmark; either
// kind dies with its parent (PR_SET_PDEATHSIG) and is in the emergency cleanup table while it
// runs. Coordinator side only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cleanup.hpp"

namespace ipcbench {

class child_process {
 public:
  child_process() noexcept = default;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  // Forks. The child dies with the parent (PR_SET_PDEATHSIG), drops the parent's emergency
  // cleanup table, runs `body` and _exit()s with its result; an exception escaping `body` is
  // printed to stderr and the child exits with 70. Nothing unwinds into the parent's code.
  static child_process fork(const std::function<int()>& body);
  // Launches `program` with `args` (Boost.Process: fork and execve, nothing else of this
  // program runs in the child). Descriptors are not inherited (ours are all O_CLOEXEC) except
  // `keep_fd`, whose FD_CLOEXEC is cleared in the child only, so no other child gets it. The
  // child sets PR_SET_PDEATHSIG before execve, which keeps it across execve, and exits with 71
  // when the parent is already gone. With `output_fd` >= 0, the child's standard output and
  // error go there (a log file). Throws std::system_error naming the program when it cannot be
  // started.
  static child_process spawn(const std::string& program, const std::vector<std::string>& args,
                             int keep_fd, int output_fd = -1);

  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0 && !status_; }

  // Reaps the child if it has exited, without blocking; returns its wait status.
  std::optional<int> try_wait();
  // Blocks until the child exits, at most `timeout`; returns nullopt on timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // Kills with SIGKILL (if running) and reaps.
  int kill_and_reap() noexcept;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  cleanup::guard guard_;
};

// "exited with 3", "killed by SIGKILL", "stopped by SIGSTOP".
std::string describe_wait_status(int status);

}  // namespace ipcbench
