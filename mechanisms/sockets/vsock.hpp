// AF_VSOCK stream sockets over the loopback transport (vsock_loopback, Linux 5.6): both peers
// on this host's VMADDR_CID_LOCAL (1), as two processes of one guest or host would talk to a
// vsock service. The coordinator listens on CID 1 at a port the kernel picks before fork; the
// consumer accepts one connection, the producer connects; both wait in a blocking read(2). Where
// the loopback transport is absent (no vsock_loopback module: a VM guest that has only the
// virtio transport, or no AF_VSOCK at all) the mechanism is unavailable with the errno.
#pragma once

#include <linux/vm_sockets.h>

#include <string>

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class vsock_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws std::system_error when this kernel has no vsock loopback transport.
  static mechanism_traits describe();
  // Coordinator: listens on VMADDR_CID_LOCAL, any port. Throws std::system_error.
  explicit vsock_channel(const channel_config& cfg);
  // The peers hold their ends: the coordinator's listener goes.
  void opened() noexcept { listener_.reset(); }
  // In a forked peer: the consumer accepts, the producer connects.
  stream_endpoint open(role r);

 private:
  sockaddr_vm address_{};
  std::string where_;
  unique_fd listener_;
  bool threads_;
};

}  // namespace ipcbench
