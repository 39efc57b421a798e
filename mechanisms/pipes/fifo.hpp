// FIFOs (named pipes, mkfifo(3)): two in a private directory, one per direction; peers open
// them by path and wait in a blocking read(2). The paths are unlinked as soon as both peers
// have opened them, so a killed run leaves nothing behind. A named channel: forked peers and
// separately launched ones open the same paths the same way.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/named.hpp"

namespace ipcbench {

class fifo_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit fifo_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a forked peer.
  stream_endpoint open(role r);
  // Coordinator: {"forward": path, "back": path}.
  nlohmann::json rendezvous() const;
  // In a separately launched peer: opens the paths named by rendezvous(). Throws
  // std::system_error naming the path, or nlohmann::json's exceptions on a malformed object.
  static stream_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object forward_;  // producer -> consumer
  named_object back_;     // consumer -> producer
};

}  // namespace ipcbench
