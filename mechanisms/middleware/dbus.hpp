// D-Bus through sd-bus (libsystemd). The message is a method call whose one argument is a byte
// array ("ay"); in ping-pong the consumer answers it with a method return carrying the reply's
// bytes, and in a stream the producer flags its calls NO_REPLY_EXPECTED and the consumer
// answers none. Both peers wait in sd_bus_wait(3) (poll(2) on the connection) and copy the
// array out of the received message into the caller's buffer.
//   dbus.bus: through a private dbus-daemon the channel starts for the benchmark (generated
//     minimal configuration, a listening socket in the run's private directory) and stops when it
//     goes; each peer connects after fork, the producer owns org.ipcbench.Producer and the
//     consumer org.ipcbench.Consumer, the producer addresses its calls to the consumer's name,
//     and each watches the other's name (NameOwnerChanged) to see it go. Two socket hops and
//     the daemon's routing per message; the daemon's CPU time is counted.
//   dbus.p2p: the same marshalling over a socketpair, without a daemon (sd_bus_set_fd, the
//     consumer the server, anonymous authentication), to separate the broker hop.
// sd-bus owns its socket and state, so connections are made after fork, in the peer.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mechanisms/adapter.hpp"
#include "sys/helper_daemon.hpp"
#include "sys/named.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One peer's sd-bus connection. Move-only; in a peer, after fork.
class dbus_endpoint {
 public:
  struct state;
  explicit dbus_endpoint(std::unique_ptr<state> s) noexcept;
  dbus_endpoint(dbus_endpoint&&) noexcept;
  dbus_endpoint& operator=(dbus_endpoint&&) noexcept;
  ~dbus_endpoint();
  // The producer sends a method call, the consumer the return of the call it received last.
  // Returns closed when the connection (p2p: the partner) is gone. Throws std::system_error
  // naming the sd-bus call.
  io_status send(std::span<const std::byte> message);
  // One call (consumer) or return (producer): its array's length, or kPeerGone when the partner
  // went away. Throws when the message is an error, or larger than `buffer`, or the bus
  // connection (the daemon) is lost.
  std::ptrdiff_t receive(std::span<std::byte> buffer);

 private:
  std::unique_ptr<state> s_;
};

// Limits of D-Bus and sd-bus shared by both variants, as trait notes.
void describe_dbus_limits(mechanism_traits& t);

class dbus_bus_channel {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  // Throws (the mechanism is unavailable) when dbus-daemon is not in $PATH.
  static mechanism_traits describe();
  // Coordinator: writes the daemon's configuration into the private directory and starts the
  // daemon, waiting until it listens. Throws std::invalid_argument without a private directory,
  // and what helper_daemon throws.
  explicit dbus_bus_channel(const channel_config& cfg);
  void opened() noexcept {}
  dbus_endpoint open(role r);
  // {"address": "unix:path=..."}
  nlohmann::json rendezvous() const;
  static dbus_endpoint attach(const nlohmann::json& where, role r);
  std::vector<pid_t> helper_pids() const { return {daemon_.pid()}; }
  std::string helper_failure(std::chrono::milliseconds patience) {
    return daemon_.failure(patience);
  }

 private:
  pattern pat_;
  std::string address_;
  // The configuration file, the daemon's socket and its log (its output), in the private
  // directory: registered with the emergency cleanup (its directory can go only once they have),
  // removed after the daemon (declared first, destroyed last).
  named_object config_, socket_, log_;
  helper_daemon daemon_;
};

class dbus_p2p_channel {
 public:
  // open(role) takes its own end and, between threads, leaves the partner's alone: two threads
  // of one process may both open their ends.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: the socketpair. Throws std::system_error.
  explicit dbus_p2p_channel(const channel_config& cfg);
  void opened() noexcept;
  dbus_endpoint open(role r);

 private:
  pattern pat_;
  unique_fd producer_end_, consumer_end_;
  bool threads_;  // the peers are threads: open() leaves the partner's end alone
};

}  // namespace ipcbench
