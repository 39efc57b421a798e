#include "helper_daemon.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "error.hpp"
#include "io.hpp"
#include "retry.hpp"
#include "system.hpp"
#include "unique_fd.hpp"

namespace ipcbench {

helper_daemon::helper_daemon(std::string name, const std::string& program,
                             std::vector<std::string> args,
                             const std::optional<std::string>& ready_fd_arg,
                             std::chrono::milliseconds timeout,
                             const std::optional<std::string>& log_path)
    : name_(std::move(name)), log_path_(log_path.value_or("")) {
  unique_fd log;
  if (log_path) {
    log = unique_fd(::open(log_path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) throw_errno("open(" + *log_path + ")");
  }
  if (!ready_fd_arg) {
    proc_ = child_process::spawn(program, args, -1, log ? log.get() : -1);
    return;
  }
  auto [rd, wr] = make_pipe();
  args.push_back(*ready_fd_arg + std::to_string(wr.get()));
  proc_ = child_process::spawn(program, args, wr.get(), log ? log.get() : -1);
  wr.reset();  // EOF on rd once the daemon exits
  log.reset();
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  std::string line;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0 || !wait_readable(rd.get(), left)) {
      proc_.kill_and_reap();
      throw std::runtime_error(name_ + " did not become ready within " +
                               std::to_string(timeout.count()) + " ms");
    }
    char buf[512];
    const ssize_t n = retry_on_eintr([&] { return ::read(rd.get(), buf, sizeof buf); });
    if (n < 0) throw_errno("read(" + name_ + " ready pipe)");
    if (n == 0) {
      const auto st = proc_.wait_for(std::chrono::milliseconds(2000));
      const std::string last = log_path_.empty() ? "" : last_log_line(log_path_);
      throw std::runtime_error(name_ + " " + (st ? describe_wait_status(*st) : "closed its pipe") +
                               " before it was ready" +
                               (last.empty() ? "" : " (its last words: \"" + last + "\")"));
    }
    line.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = line.find('\n'); nl != std::string::npos) {
      ready_line_ = line.substr(0, nl);
      return;
    }
  }
}

helper_daemon helper_daemon::launch_logged(std::string name, const std::string& program,
                                           const std::vector<std::string>& args,
                                           const std::string& log_path,
                                           const std::string& ready_text,
                                           std::chrono::milliseconds timeout) {
  helper_daemon d;
  d.name_ = std::move(name);
  d.log_path_ = log_path;
  {
    unique_fd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) throw_errno("open(" + log_path + ")");
    d.proc_ = child_process::spawn(program, args, -1, log.get());
  }
  // The daemon prints its ready line once (an untimed start-up, polled).
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    {
      std::ifstream in(log_path);
      std::string line;
      while (std::getline(in, line))
        if (line.find(ready_text) != std::string::npos) return d;
    }
    if (auto st = d.proc_.try_wait()) {
      const std::string last = last_log_line(log_path);
      throw std::runtime_error(d.name_ + " " + describe_wait_status(*st) + " before it was ready" +
                               (last.empty() ? "" : " (its last words: \"" + last + "\")"));
    }
    if (clock::now() >= deadline) {
      d.proc_.kill_and_reap();
      throw std::runtime_error(d.name_ + " did not say \"" + ready_text + "\" within " +
                               std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string last_log_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    std::string clean;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\x1b') {  // ESC [ ... m
        while (i < line.size() && line[i] != 'm') ++i;
        continue;
      }
      clean += line[i];
    }
    if (clean.find_first_not_of(" \t\r") != std::string::npos) last = clean;
  }
  return last;
}

std::string helper_daemon::failure(std::chrono::milliseconds patience) {
  if (proc_.pid() <= 0) return {};
  std::optional<int> st;
  try {
    st = patience.count() > 0 ? proc_.wait_for(patience) : proc_.try_wait();
  } catch (const std::exception& e) {
    return name_ + ": " + e.what();
  }
  if (!st) return {};
  const std::string last = log_path_.empty() ? "" : last_log_line(log_path_);
  return name_ + " (pid " + std::to_string(proc_.pid()) + ") " + describe_wait_status(*st) +
         (last.empty() ? "" : " (its last words: \"" + last + "\")");
}

int helper_daemon::kill() noexcept {
  if (proc_.pid() <= 0) return -1;
  return proc_.kill_and_reap();
}

std::optional<std::string> find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? std::optional(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

namespace {

// The process's CPU clock (its CLOCK_PROCESS_CPUTIME_ID, read from outside): the time all its
// threads have run, those that have ended included, in nanoseconds; nullopt when it is gone.
// A sum over the live threads' schedstat lost a thread's time when it ended: a thread that ended
// between two readings made the second one lower by its run time (3 ms of CPU read as 0.6-0.9 ms
// in 63 of 10,220 runs of the test beside a full ctest -j2).
std::optional<std::int64_t> cpu_clock_ns(pid_t pid) {
  clockid_t clock{};
  if (::clock_getcpuclockid(pid, &clock) != 0) return std::nullopt;
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return std::nullopt;
  return timespec_ns(ts);
}

// User plus system time from fields 14 and 15 of /proc/<pid>/stat, in clock ticks.
std::optional<std::int64_t> stat_cpu_ns(pid_t pid) {
  const auto stat = read_proc_stat(pid);
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  if (!stat || ticks <= 0) return std::nullopt;
  return static_cast<std::int64_t>(stat->utime + stat->stime) * (1'000'000'000LL / ticks);
}

}  // namespace

std::optional<std::int64_t> process_cpu_ns(pid_t pid) {
  if (auto ns = cpu_clock_ns(pid)) return ns;
  return stat_cpu_ns(pid);
}

}  // namespace ipcbench
