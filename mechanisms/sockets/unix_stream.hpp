// Unix-domain stream socket (AF_UNIX, SOCK_STREAM) on a path in a private directory: the
// consumer binds, listens and accepts, the producer connects (retrying until the consumer
// listens), and both wait in a blocking read(2). The path is unlinked once both ends are
// connected. A named channel: forked and separately launched peers rendezvous the same way.
#pragma once

#include <sys/un.h>

#include <cstddef>

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/stream_server.hpp"
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

// fan_in/N over unix_stream, a server and its clients (mechanisms/sockets/stream_server.hpp):
// the coordinator binds a path in the private directory and listens on it (backlog N) before
// fork; each producer connects a client of its own; the consumer accepts the N connections
// and waits in epoll_wait(2) over them, reading each record whole from one connection. The
// path is unlinked once every member has opened its end. Fan-in only (registry with_fan_in).
class unix_stream_server_channel {
 public:
  static constexpr const char* kFanInNote =
      "one listening socket on a path made before fork, a connection per producer; the consumer "
      "accepts the N connections and waits in epoll_wait(2) (level-triggered) over them, then "
      "reads one whole record from one ready connection (looping over partial reads) before "
      "serving the next ready one";
  // Coordinator: binds and listens on `<dir>/fanin.sock`. Throws std::invalid_argument without a
  // private directory, std::system_error naming the call and the path.
  unix_stream_server_channel(const channel_config& cfg, std::size_t producers);
  // Coordinator: unlinks the path and closes its copy of the listener.
  void opened() noexcept;
  // In a forked member: a producer connects, the consumer accepts all N (blocking).
  stream_server_endpoint open(role r);

 private:
  named_object path_;
  sockaddr_un address_{};
  stream_server server_;
};

}  // namespace ipcbench
