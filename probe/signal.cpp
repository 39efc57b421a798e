// Claim 11: signals (signal(7), sigaction(2)). SIGKILL and SIGSTOP cannot be caught, blocked or
// ignored: sigaction(2) refuses to change their action with EINVAL, and signal(2) returns
// SIG_ERR. The attempts are made in a forked child, which the parent then stops and kills.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>

#include "probe/probe.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

void on_signal(int) {}

// The attempts, in the order their results are sent: {signal, action, call}.
struct attempt {
  int sig;
  bool ignore;       // SIG_IGN, else a handler
  bool via_signal;   // signal(2), else sigaction(2)
  const char* text;  // what the value calls it
};
constexpr attempt kAttempts[] = {
    {SIGKILL, false, false, "sigaction(SIGKILL, handler)"},
    {SIGKILL, true, false, "sigaction(SIGKILL, SIG_IGN)"},
    {SIGKILL, true, true, "signal(SIGKILL, SIG_IGN)"},
    {SIGSTOP, false, false, "sigaction(SIGSTOP, handler)"},
    {SIGSTOP, true, false, "sigaction(SIGSTOP, SIG_IGN)"},
    {SIGSTOP, true, true, "signal(SIGSTOP, SIG_IGN)"},
};
constexpr std::size_t kCount = std::size(kAttempts);

// 0 when the call succeeded, else its errno.
int try_attempt(const attempt& a) {
  if (a.via_signal) {
    return ::signal(a.sig, a.ignore ? SIG_IGN : on_signal) == SIG_ERR ? errno : 0;
  }
  struct sigaction sa {};
  sa.sa_handler = a.ignore ? SIG_IGN : on_signal;
  sigemptyset(&sa.sa_mask);
  return ::sigaction(a.sig, &sa, nullptr) == 0 ? 0 : errno;
}

// The state of process `pid` in /proc once it is `want`, looking every 10 ms for up to 2 s (a
// signal is delivered when the process next runs); what it was last when it never is.
char state_after(pid_t pid, char want, const deadline& d) {
  char s = '?';
  for (int i = 0; i < 200 && d.left().count() > 0; ++i) {
    const auto st = read_proc_stat(pid);
    s = st ? st->state : '?';
    if (s == want) break;
    ::usleep(10'000);
  }
  return s;
}

outcome kill_stop_fixed(const deadline& d) {
  auto results = make_pipe();
  child_process child = child_process::fork([&]() -> int {
    results.read_end.reset();
    int errs[kCount];
    for (std::size_t i = 0; i < kCount; ++i) errs[i] = try_attempt(kAttempts[i]);
    if (write_all(results.write_end.get(), std::as_bytes(std::span(errs))) != io_status::ok)
      return 1;
    for (;;) ::pause();  // whatever it set, SIGSTOP and SIGKILL must still act on it
  });
  results.write_end.reset();
  int errs[kCount] = {};
  if (!wait_readable(results.read_end.get(), d.left()))
    throw probe_timeout("waiting for the child's attempts");
  if (read_exact(results.read_end.get(), std::as_writable_bytes(std::span(errs))) != io_status::ok)
    throw std::runtime_error("the child " + describe_wait_status(wait_exit(child, d, "child")) +
                             " before it sent its results");

  check(::kill(child.pid(), SIGSTOP), "kill(SIGSTOP)");
  const char stopped = state_after(child.pid(), 'T', d);
  check(::kill(child.pid(), SIGKILL), "kill(SIGKILL)");
  const int st = wait_exit(child, d, "waiting for the child to die of SIGKILL");
  const bool killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;

  outcome o;
  bool all_refused = true;
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string r = errs[i] == 0 ? std::string("accepted") : errno_name(errs[i]);
    o.value[kAttempts[i].text] = kAttempts[i].via_signal && errs[i] ? "SIG_ERR, " + r : r;
    all_refused &= errs[i] == EINVAL;
  }
  o.value["then sent SIGSTOP"] =
      stopped == 'T' ? std::string("stopped (T)") : std::string("state ") + stopped;
  o.value["then sent SIGKILL"] = describe_wait_status(st);
  o.result = all_refused && stopped == 'T' && killed ? verdict::holds : verdict::does_not_hold;
  o.detail = std::string("sigaction(2) and signal(2) ") +
             (all_refused ? "refused every attempt to catch or ignore SIGKILL and SIGSTOP with "
                            "EINVAL"
                          : "did not refuse every attempt with EINVAL (see the value)") +
             "; the child that tried was " +
             (stopped == 'T' ? "stopped by SIGSTOP" : std::string("not seen stopped by SIGSTOP")) +
             ", then " + describe_wait_status(st);
  return o;
}

}  // namespace

std::vector<probe> signal_probes() {
  return {
      {"signal_kill_stop_fixed",
       "SIGKILL and SIGSTOP cannot be caught or ignored: sigaction(2) fails with EINVAL and "
       "signal(2) returns SIG_ERR",
       "tutorial 000, section '信号' (signals: SIGKILL and SIGSTOP can never be ignored); man 7 "
       "signal; man 2 sigaction (EINVAL)",
       "a forked child tries to install a handler for and to ignore SIGKILL and SIGSTOP, with "
       "sigaction(2) and signal(2), and sends the results; the parent then sends it SIGSTOP "
       "(it must stop) and SIGKILL (it must die of it)",
       kill_stop_fixed},
  };
}

}  // namespace ipcbench::probes
