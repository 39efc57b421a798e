// UDP over loopback (127.0.0.1): one socket per peer, each bound to an ephemeral port and
// connected to the other's; the receiver waits in recv(2) with a 200 ms receive timeout
// (SO_RCVTIMEO), so a datagram that never comes ends the wait as kTimedOut instead of hanging.
// Lossy: datagrams can be dropped (a full receive buffer), and the harness counts lost,
// duplicated and reordered messages. Every socket's receive and send buffers are raised as far
// as the kernel lets this process (SO_RCVBUFFORCE/SO_SNDBUFFORCE with CAP_NET_ADMIN, else up to
// net.core.rmem_max/wmem_max), the granted sizes recorded in the traits' notes, and SO_RXQ_OVFL
// is on, so a receiver can read the kernel's drop count. A message is one datagram, at most
// 65507 bytes on IPv4 (65535 - 20 IP - 8 UDP), confirmed at run time.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/datagram_endpoint.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

inline constexpr std::chrono::milliseconds kUdpReceiveTimeout{200};

// Owns both peers' sockets, bound and connected by the coordinator before fork; each peer
// keeps its own in open(). Unrelated peers: rendezvous() names the two ports and hands them
// over (it closes the coordinator's sockets, so open() is no longer possible; until the peers
// bind them in attach() another process could take a port, and attach then fails with
// EADDRINUSE). Throws std::system_error naming the call and the address.
class udp_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit udp_channel(const channel_config& cfg);
  void opened() noexcept;
  datagram_endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"address", "producer_port", "consumer_port"}
  static datagram_endpoint attach(const nlohmann::json& where, role r);

 private:
  std::uint16_t producer_port_ = 0, consumer_port_ = 0;
  mutable unique_fd producer_, consumer_;
  bool threads_;  // the peers are threads: open() leaves the partner's socket alone
};

}  // namespace ipcbench
