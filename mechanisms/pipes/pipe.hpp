// Anonymous pipes (pipe2(2)): one pipe per direction between forked peers; the receiver waits in
// a blocking read(2). A byte stream, so any message size moves by looping over partial transfers.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class pipe_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit pipe_channel(const channel_config& cfg);
  void opened() noexcept;
  stream_endpoint open(role r);
  // Coordinator, before fork: sets both pipes' capacity with F_SETPIPE_SZ and returns what the
  // kernel set (it rounds up to a power-of-two number of pages). Throws std::system_error naming
  // fcntl(F_SETPIPE_SZ <bytes>) when it refuses.
  int set_capacity(int bytes);

 private:
  fd_pair forward_;  // producer -> consumer
  fd_pair back_;     // consumer -> producer
  bool threads_;     // the peers are threads: open() leaves the partner's ends alone
};

}  // namespace ipcbench
