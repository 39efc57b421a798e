// Unix-domain datagram sockets (AF_UNIX, SOCK_DGRAM): one socket per peer, bound to a path in a
// private directory and connected to the other's; the receiver waits in a blocking recv(2). A
// message is one datagram, at most what send(2) accepts (bounded by SO_SNDBUF, probed at run
// time). A full receive queue blocks the sender, so nothing is lost.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/datagram_endpoint.hpp"
#include "sys/named.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// Owns both sockets and their paths: bound by the coordinator before fork, connected by each
// peer to its partner's path in open(), unlinked (and the coordinator's copies closed) once both
// are connected. Throws std::system_error naming the call and the path.
class unix_dgram_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit unix_dgram_channel(const channel_config& cfg);
  unix_dgram_channel(const unix_dgram_channel&) = delete;
  unix_dgram_channel& operator=(const unix_dgram_channel&) = delete;

  void opened() noexcept;
  datagram_endpoint open(role r);

 private:
  named_object producer_path_, consumer_path_;
  unique_fd producer_, consumer_;
  bool threads_ = false;  // the peers are threads: open() leaves the partner's socket alone
};

}  // namespace ipcbench
