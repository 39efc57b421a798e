// Signals between forked peers, two variants.
// `signal`: real-time signals queued with sigqueue(3), the payload in the signal's value
// (sizeof(union sigval) = 8 bytes) and its length in the signal number (SIGRTMIN + length);
// the signals are blocked and the receiver waits in sigwaitinfo(2), untimed (a peer left waiting
// by a dead partner is ended by the coordinator, which kills both as soon as one dies). It runs
// at 0 bytes (a notification) and 8 bytes (the whole sigval, checked like any message). Latency
// only: sigqueue cannot block when RLIMIT_SIGPENDING signals are queued (EAGAIN), so a stream
// would need a spin.
// `signal.handler`: classic SIGUSR1 caught by a handler while the receiver sleeps in
// sigsuspend(2). Standard signals coalesce, so it carries no payload: a notification at size 0,
// latency only. sigsuspend has no timeout: a peer left waiting by a dead partner is ended by the
// coordinator, which kills both as soon as one dies.
// The peers learn each other's pid through a shared page made before fork; each blocks its
// signals before it publishes its pid, so nothing can arrive unblocked.
#pragma once

#include <signal.h>

#include <span>

#include "mechanisms/adapter.hpp"
#include "mechanisms/notify/peer_watch.hpp"
#include "sys/io.hpp"

namespace ipcbench {

// One side of the real-time signal channel, in a peer. A partner gone reads as closed on send.
// Throws std::system_error naming the call and the pid, std::length_error for a message that
// does not fit the receive buffer.
class rt_signal_endpoint {
 public:
  rt_signal_endpoint(partner p, const sigset_t& waits_for) noexcept
      : partner_(std::move(p)), set_(waits_for) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  partner partner_;
  sigset_t set_;
};

class rt_signal_channel {
 public:
  static constexpr const char* kNoThreadPeers =
      "a signal is sent to a process, and both peers would be one process";
  static mechanism_traits describe();
  explicit rt_signal_channel(const channel_config& cfg);
  void opened() noexcept {}
  // Blocks SIGRTMIN .. SIGRTMIN + 8 in the calling peer, then meets the partner.
  rt_signal_endpoint open(role r) const;

 private:
  pid_exchange pids_;
};

// One side of the SIGUSR1 channel, in a peer: its handler only counts arrivals.
class handler_signal_endpoint {
 public:
  handler_signal_endpoint(partner p, const sigset_t& suspend_mask) noexcept
      : partner_(std::move(p)), suspend_mask_(suspend_mask) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  partner partner_;
  sigset_t suspend_mask_;  // the peer's mask without SIGUSR1
};

class handler_signal_channel {
 public:
  static constexpr const char* kNoThreadPeers =
      "a signal is sent to a process, and both peers would be one process";
  static mechanism_traits describe();
  explicit handler_signal_channel(const channel_config& cfg);
  void opened() noexcept {}
  // Installs the SIGUSR1 handler and blocks SIGUSR1 in the calling peer, then meets the partner.
  handler_signal_endpoint open(role r) const;

 private:
  pid_exchange pids_;
};

}  // namespace ipcbench
