// TCP over loopback (127.0.0.1, an ephemeral port) with TCP_NODELAY on both ends, so small
// messages are not held back by Nagle's algorithm; both peers wait in a blocking read(2).
#pragma once

#include <netinet/in.h>

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"

namespace ipcbench {

class tcp_channel {
 public:
  static mechanism_traits describe();
  explicit tcp_channel(const channel_config& cfg);
  void opened() noexcept;
  stream_endpoint open(role r);

 private:
  sockaddr_in address_{};
  unique_fd listener_;
};

}  // namespace ipcbench
