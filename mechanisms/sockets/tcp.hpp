// TCP over loopback (127.0.0.1, an ephemeral port) with TCP_NODELAY on both ends, so small
// messages are not held back by Nagle's algorithm; both peers wait in a blocking read(2).
// A named channel (address and port): the coordinator reserves the port with a bound, never
// listening SO_REUSEPORT socket; the consumer binds the same port (SO_REUSEPORT, same user),
// listens and accepts; the producer connects, retrying until the consumer listens. Forked and
// separately launched peers rendezvous the same way.
#pragma once

#include <netinet/in.h>

#include <cstddef>

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/stream_server.hpp"
#include "mechanisms/stream_endpoint.hpp"

namespace ipcbench {

class tcp_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: reserves an ephemeral port on 127.0.0.1. Throws std::system_error.
  explicit tcp_channel(const channel_config& cfg);
  // Drops the reservation: the consumer's listener holds the port from here on.
  void opened() noexcept;
  // In a forked peer.
  stream_endpoint open(role r);
  // The same, giving the connected socket itself: tcp.zerocopy's endpoint.
  unique_fd open_socket(role r);
  // Coordinator: {"address": "127.0.0.1", "port": N}.
  nlohmann::json rendezvous() const;
  // In any peer: the consumer binds the port and accepts one connection, the producer
  // connects. Throws std::system_error naming the call and the address.
  static stream_endpoint attach(const nlohmann::json& where, role r);
  // The same, giving the connected socket (TCP_NODELAY set) itself: tcp.zerocopy's endpoint.
  static unique_fd attach_socket(const nlohmann::json& where, role r);

 private:
  sockaddr_in address_{};
  unique_fd reservation_;  // bound, not listening: no connection can land on it
  bool threads_;           // the peers are threads: open() leaves the reservation alone
};

// fan_in/N over TCP, a server and its clients (mechanisms/sockets/stream_server.hpp): the
// coordinator listens on 127.0.0.1 at an ephemeral port (backlog N) before fork, so there is no
// port to reserve; each producer connects a client of its own; the consumer accepts the N
// connections and waits in epoll_wait(2) over them, reading each record whole from one
// connection. TCP_NODELAY on every connection, both ends, as the one-pair adapter sets it.
// Fan-in only (registry with_fan_in).
class tcp_server_channel {
 public:
  static constexpr const char* kFanInNote =
      "one listening socket on 127.0.0.1 (ephemeral port) made before fork, a connection per "
      "producer, TCP_NODELAY on both ends of each; the consumer accepts the N connections and "
      "waits in epoll_wait(2) (level-triggered) over them, then reads one whole record from one "
      "ready connection (looping over partial reads) before serving the next ready one";
  // Coordinator: binds 127.0.0.1:0 and listens. Throws std::system_error naming the call.
  tcp_server_channel(const channel_config& cfg, std::size_t producers);
  // Coordinator: closes its copy of the listener.
  void opened() noexcept;
  // In a forked member: a producer connects, the consumer accepts all N (blocking).
  stream_server_endpoint open(role r);

 private:
  sockaddr_in address_{};
  stream_server server_;
};

}  // namespace ipcbench
