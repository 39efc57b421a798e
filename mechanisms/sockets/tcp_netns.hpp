// TCP between two network namespaces joined by a veth pair (sys/netns.hpp): the container tax,
// as two containers on one host talk over their veth pair. The coordinator makes the two
// namespaces before fork, held only by descriptors, so the kernel removes them and the veth
// pair on every exit path, SIGKILL included. The producer enters namespace A (10.250.0.1), the
// consumer namespace B (10.250.0.2), each with setns(2) on its own thread; the consumer listens
// on 10.250.0.2 at a fixed port (nothing else lives in its namespace), the producer connects,
// retrying until it listens. TCP_NODELAY on both ends, as `tcp`. Unavailable, with the errno,
// without the capabilities to make namespaces and a veth pair (CAP_SYS_ADMIN, CAP_NET_ADMIN).
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/netns.hpp"

namespace ipcbench {

class tcp_netns_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static constexpr int kPort = 5201;
  // Throws std::system_error when the namespaces cannot be made here.
  static mechanism_traits describe();
  // Coordinator: makes the namespaces and the veth pair. Throws std::system_error.
  explicit tcp_netns_channel(const channel_config& cfg);
  // The coordinator's references go; the peers hold their namespaces from here on.
  void opened() noexcept { ns_ = {}; }
  // In a peer (a process or a thread): enters its namespace, then listens or connects.
  stream_endpoint open(role r);

 private:
  veth_namespaces ns_;
  bool threads_;
};

}  // namespace ipcbench
