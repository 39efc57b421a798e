// helper_daemon owns a third process a mechanism needs besides its two peers (a message bus
// daemon, a shared-memory broker): launched by the coordinator as a child_process, so it dies with
// the coordinator (PR_SET_PDEATHSIG), is killed on SIGINT/SIGTERM/SIGHUP (the emergency cleanup
// table), is journalled with its pid and start time (the next run's sweep kills it when this run
// was SIGKILLed), and is killed and reaped when the handle goes. Coordinator side only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "child.hpp"

namespace ipcbench {

class helper_daemon {
 public:
  helper_daemon() noexcept = default;
  // Launches `program` (a path) with `args`. When `ready_fd_arg` is set, a pipe's write end is
  // passed to the daemon as `ready_fd_arg` followed by its descriptor number ("--print-address="
  // → "--print-address=5"), and the constructor waits up to `timeout` for the daemon to write a
  // line there, which it returns by ready_line(). Throws std::system_error when the program cannot
  // be started and std::runtime_error (naming the daemon and how it ended) when it exits or stays
  // silent before it is ready. With `log_path`, the daemon's standard output and error are
  // appended to that file (created 0600) instead of the terminal; its last line is quoted when
  // the daemon fails (here, or later in failure()), and nothing of it is shown otherwise.
  helper_daemon(std::string name, const std::string& program, std::vector<std::string> args,
                const std::optional<std::string>& ready_fd_arg, std::chrono::milliseconds timeout,
                const std::optional<std::string>& log_path = std::nullopt);

  // For daemons that say they are ready only on their output (iox-roudi): launches `program`
  // with `args`, its standard output and error appended to the file `log_path` (created 0600),
  // and waits up to `timeout` until a line of it contains `ready_text`. Throws like the
  // constructor above; the reason then quotes the log's last line (without terminal colours).
  static helper_daemon launch_logged(std::string name, const std::string& program,
                                     const std::vector<std::string>& args,
                                     const std::string& log_path, const std::string& ready_text,
                                     std::chrono::milliseconds timeout);

  pid_t pid() const noexcept { return proc_.pid(); }
  const std::string& name() const noexcept { return name_; }
  const std::string& ready_line() const noexcept { return ready_line_; }
  // Empty while the daemon runs; "dbus-daemon (pid 12) killed by SIGKILL" once it has ended,
  // with the last line of its log where it has one.
  // Waits up to `patience` for it to end: a killed daemon's sockets close (its peers fail) a
  // moment before it can be reaped. Failure path only.
  std::string failure(std::chrono::milliseconds patience = std::chrono::milliseconds(0));
  // Kills the daemon (SIGKILL) and reaps it, for daemons whose objects the caller removes itself.
  // Returns the wait status.
  int kill() noexcept;

 private:
  std::string name_;
  std::string ready_line_;
  std::string log_path_;  // where its output goes; empty: inherited
  child_process proc_;
};

// The last non-empty line of the text file at `path` with terminal colour sequences removed
// (empty when there is none).
std::string last_log_line(const std::string& path);

// `name` looked up in $PATH (as execvp would), or nullopt when no executable file is found.
std::optional<std::string> find_in_path(const std::string& name);

// The CPU time of any process, nanoseconds: the time all its threads have run, those that have
// ended included, from its CPU clock (clock_getcpuclockid), counted in nanoseconds (a helper's
// share of a 0.2 s batch is a few milliseconds); where that clock cannot be read, user plus
// system time from fields 14 and 15 of /proc/<pid>/stat, counted in clock ticks
// (sysconf(_SC_CLK_TCK), usually 10 ms each). nullopt when the process is gone. Never throws;
// works on both sides of a fork.
std::optional<std::int64_t> process_cpu_ns(pid_t pid);

}  // namespace ipcbench
