// TCP over loopback (127.0.0.1, an ephemeral port) with TCP_NODELAY on both ends, so small
// messages are not held back by Nagle's algorithm; both peers wait in a blocking read(2).
// A named channel (address and port): the coordinator reserves the port with a bound, never
// listening SO_REUSEPORT socket; the consumer binds the same port (SO_REUSEPORT, same user),
// listens and accepts; the producer connects, retrying until the consumer listens. Forked and
// separately launched peers rendezvous the same way.
#pragma once

#include <netinet/in.h>

#include "mechanisms/adapter.hpp"
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
  // Coordinator: {"address": "127.0.0.1", "port": N}.
  nlohmann::json rendezvous() const;
  // In any peer: the consumer binds the port and accepts one connection, the producer
  // connects. Throws std::system_error naming the call and the address.
  static stream_endpoint attach(const nlohmann::json& where, role r);

 private:
  sockaddr_in address_{};
  unique_fd reservation_;  // bound, not listening: no connection can land on it
  bool threads_;           // the peers are threads: open() leaves the reservation alone
};

}  // namespace ipcbench
