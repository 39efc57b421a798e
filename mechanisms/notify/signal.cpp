#include "mechanisms/notify/signal.hpp"

#include <sys/resource.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

constexpr std::size_t kMaxPayload = sizeof(sigval);  // 8 bytes on 64-bit Linux

// The signal that carries a message of `len` bytes. SIGRTMIN is a function in glibc (it
// reserves the first real-time signals for itself), so it is read at run time.
int signal_for(std::size_t len) noexcept {
  return SIGRTMIN + static_cast<int>(len);
}

std::string pid_text(pid_t pid) {
  return "pid " + std::to_string(pid);
}

volatile sig_atomic_t g_usr1_arrived = 0;

extern "C" void on_usr1(int) {
  g_usr1_arrived = 1;
}

}  // namespace

io_status rt_signal_endpoint::send(std::span<const std::byte> msg) {
  if (msg.size() > kMaxPayload) throw std::length_error("signal: message larger than a sigval");
  sigval value{};
  if (!msg.empty()) std::memcpy(&value, msg.data(), msg.size());  // size 0: data() may be null
  if (retry_on_eintr([&] { return ::sigqueue(partner_.pid(), signal_for(msg.size()), value); }) ==
      0)
    return io_status::ok;
  if (errno == ESRCH) return io_status::closed;
  throw_errno("sigqueue(" + pid_text(partner_.pid()) + ", SIGRTMIN+" + std::to_string(msg.size()) +
              ")");
}

std::ptrdiff_t rt_signal_endpoint::receive(std::span<std::byte> buf) {
  siginfo_t info;
  const int sig = retry_on_eintr([&] { return ::sigwaitinfo(&set_, &info); });
  if (sig < 0) throw_errno("sigwaitinfo");
  const auto len = static_cast<std::size_t>(sig - SIGRTMIN);
  if (len > buf.size())
    throw std::length_error("signal: message of " + std::to_string(len) +
                            " bytes does not fit the receive buffer of " +
                            std::to_string(buf.size()));
  if (len != 0) std::memcpy(buf.data(), &info.si_value, len);
  return static_cast<std::ptrdiff_t>(len);
}

mechanism_traits rt_signal_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "signal";
  t.variant = "default";
  t.family = "signals & notification";
  t.kind = channel_kind::message;
  t.max_message = kMaxPayload;
  t.max_message_source = "sizeof(union sigval) = " + std::to_string(kMaxPayload) +
                         " bytes: one sigqueue(3) per message";
  t.related_only = true;
  t.supports_throughput = false;
  t.wait = "sigwaitinfo(2) on blocked real-time signals, untimed";
  // A notification like the others (0 bytes) and the full sigval (8 bytes); larger sizes would
  // only be skipped.
  t.sizes = {0, kMaxPayload};
  t.description =
      "real-time signal per message, payload in the sigval, length in the signal number";
  if (signal_for(kMaxPayload) > SIGRTMAX)
    throw std::runtime_error("needs SIGRTMIN+" + std::to_string(kMaxPayload) + " <= SIGRTMAX");
  t.notes["signals"] = "SIGRTMIN (" + std::to_string(SIGRTMIN) + ") + message length";
  rlimit pending{};
  if (::getrlimit(RLIMIT_SIGPENDING, &pending) == 0)
    t.notes["RLIMIT_SIGPENDING"] = pending.rlim_cur == RLIM_INFINITY
                                       ? std::string("unlimited")
                                       : std::to_string(pending.rlim_cur);
  t.notes["waits"] =
      "untimed; a dead partner is found by the coordinator, which kills the survivor";
  t.notes["throughput"] =
      "not measured: sigqueue fails with EAGAIN at RLIMIT_SIGPENDING queued signals (per user) "
      "and cannot block";
  return t;
}

rt_signal_channel::rt_signal_channel(const channel_config&) {}

rt_signal_endpoint rt_signal_channel::open(role r) const {
  sigset_t set;
  sigemptyset(&set);
  for (std::size_t len = 0; len <= kMaxPayload; ++len) sigaddset(&set, signal_for(len));
  check_rc(::sigprocmask(SIG_BLOCK, &set, nullptr) == 0 ? 0 : errno, "sigprocmask(SIG_BLOCK)");
  return rt_signal_endpoint(pids_.meet(r), set);
}

io_status handler_signal_endpoint::send(std::span<const std::byte>) {
  if (::kill(partner_.pid(), SIGUSR1) == 0) return io_status::ok;
  if (errno == ESRCH) return io_status::closed;
  throw_errno("kill(" + pid_text(partner_.pid()) + ", SIGUSR1)");
}

std::ptrdiff_t handler_signal_endpoint::receive(std::span<std::byte>) {
  // SIGUSR1 is blocked outside sigsuspend, so the handler runs only in there: no lost wake-up.
  while (g_usr1_arrived == 0) ::sigsuspend(&suspend_mask_);
  g_usr1_arrived = 0;
  return 0;
}

mechanism_traits handler_signal_channel::describe() {
  mechanism_traits t;
  t.id = "signal.handler";
  t.mechanism = "signal";
  t.variant = "handler";
  t.family = "signals & notification";
  t.kind = channel_kind::notification;
  t.max_message = 0;
  t.max_message_source = "notification: standard signals coalesce and carry no payload";
  t.related_only = true;
  t.supports_throughput = false;
  t.sizes = {0};
  t.wait = "sigsuspend(2) until the SIGUSR1 handler ran";
  t.description = "SIGUSR1 sent with kill(2), caught by a handler, receiver in sigsuspend(2)";
  t.notes["signal"] = "SIGUSR1";
  return t;
}

handler_signal_channel::handler_signal_channel(const channel_config&) {}

handler_signal_endpoint handler_signal_channel::open(role r) const {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  check_rc(::sigprocmask(SIG_BLOCK, &usr1, &old) == 0 ? 0 : errno, "sigprocmask(SIG_BLOCK)");
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  check(::sigaction(SIGUSR1, &sa, nullptr), "sigaction(SIGUSR1)");
  g_usr1_arrived = 0;
  sigdelset(&old, SIGUSR1);
  return handler_signal_endpoint(pids_.meet(r), old);
}

}  // namespace ipcbench
