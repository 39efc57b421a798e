// child_process owns a forked child: the destructor kills (SIGKILL) and reaps a child that is
// still running, so no peer outlives its benchmark. Coordinator side only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

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
