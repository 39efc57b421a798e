// Anonymous pipes resized with fcntl(F_SETPIPE_SZ) to /proc/sys/fs/pipe-max-size (read at run
// time), one per direction between forked peers; the receiver waits in a blocking read(2).
// Same byte stream as `pipe`, so the difference is the capacity alone: a message up to the
// capacity moves in one write(2) without the writer blocking halfway.
//
// Refusal is never silent: describe() resizes a probe pipe and throws when the kernel refuses
// (EPERM for an unprivileged user over /proc/sys/fs/pipe-user-pages-soft, EBUSY), which makes
// the id unavailable with that reason; a refusal at run time fails the benchmark's setup with
// the call named. Requested and obtained capacity are in the notes.
#pragma once

#include <cstddef>

#include "mechanisms/adapter.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class pipe_resized_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws std::system_error naming fcntl(F_SETPIPE_SZ <bytes>) when the kernel refuses.
  static mechanism_traits describe();
  // Coordinator, before fork: both pipes, resized. Throws std::system_error.
  explicit pipe_resized_channel(const channel_config& cfg);
  void opened() noexcept { pipes_.opened(); }
  // In a forked peer.
  stream_endpoint open(role r) { return pipes_.open(r); }

 private:
  pipe_channel pipes_;  // the plain pipes, resized
};

}  // namespace ipcbench
