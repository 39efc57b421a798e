// Unix-domain sequenced-packet socket (AF_UNIX, SOCK_SEQPACKET) on a path in a private
// directory: connection-oriented like a stream socket (the consumer accepts, the producer
// connects; a closed peer reads as EOF) but with message boundaries; the receiver waits in a
// blocking recv(2). A message is one packet, at most what send(2) accepts (bounded by SO_SNDBUF,
// probed at run time). The path is unlinked once both ends are connected.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/datagram_endpoint.hpp"
#include "sys/named.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// Owns the listening socket and its path (coordinator, before fork). Throws std::system_error.
class unix_seqpacket_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit unix_seqpacket_channel(const channel_config& cfg);
  unix_seqpacket_channel(const unix_seqpacket_channel&) = delete;
  unix_seqpacket_channel& operator=(const unix_seqpacket_channel&) = delete;

  void opened() noexcept;
  datagram_endpoint open(role r);

 private:
  named_object path_;
  unique_fd listener_;
  bool threads_ = false;  // the peers are threads: the producer leaves the listener alone
};

}  // namespace ipcbench
