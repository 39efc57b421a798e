// Unix-domain stream socket (AF_UNIX, SOCK_STREAM) on a path in a private directory: the
// consumer binds, listens and accepts, the producer connects (retrying until the consumer
// listens), and both wait in a blocking read(2). The path is unlinked once both ends are
// connected. A named channel: forked and separately launched peers rendezvous the same way.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/named.hpp"

namespace ipcbench {

class unix_stream_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: chooses the path (the consumer creates the socket file) and owns it as a
  // named_object. Throws std::invalid_argument without a private directory.
  explicit unix_stream_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a forked peer.
  stream_endpoint open(role r);
  // Coordinator: {"path": socket path}.
  nlohmann::json rendezvous() const;
  // In any peer: the consumer binds `path` and accepts one connection, the producer connects.
  // Throws std::system_error naming the call and the path.
  static stream_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object path_;
};

}  // namespace ipcbench
