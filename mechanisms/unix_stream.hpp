// Unix-domain stream socket (AF_UNIX, SOCK_STREAM) bound to a path in a private directory: the
// consumer accepts, the producer connects, and both wait in a blocking read(2). The path is
// unlinked once both ends are connected.
#pragma once

#include <filesystem>

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {

class unix_stream_channel {
 public:
  static mechanism_traits describe();
  explicit unix_stream_channel(const channel_config& cfg);
  ~unix_stream_channel();
  void opened() noexcept;
  stream_endpoint open(role r);

 private:
  void unlink_path() noexcept;

  std::filesystem::path path_;
  unique_fd listener_;
  cleanup::guard guard_;
};

}  // namespace ipcbench
