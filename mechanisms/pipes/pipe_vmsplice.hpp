// Zero-copy on the sending side: anonymous pipes (one per direction, default capacity) whose
// sender hands its message pages to the pipe with vmsplice(2) instead of copying them in with
// write(2); the receiver waits in a blocking read(2), which copies every byte out of those pages
// into its own buffer. No SPLICE_F_GIFT: the pages stay the sender's, only referenced.
//
// Latency only (supports_throughput = false). The pipe references the sender's pages until the
// reader has consumed them, so the sender must not write to them before then. The harness stamps
// each message in place in one of two buffers chosen by the sequence's parity: in ping-pong the
// reply to message k proves that k was read before k+2 is stamped into the same buffer, but in a
// one-way stream nothing does, and message k+2's stamp would rewrite message k while it still
// sits in the pipe (the integrity check sees it). Copying into a ring larger than the pipe would
// make streaming safe but would put back the very copy vmsplice removes.
#pragma once

#include <cstddef>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One peer's end: vmsplice(2) out, read(2) in. In a forked peer only; owns its descriptors.
class vmsplice_endpoint {
 public:
  vmsplice_endpoint(unique_fd in, unique_fd out) noexcept
      : in_(std::move(in)), out_(std::move(out)) {}
  // Hands over every page of `msg`; `msg` must stay unchanged until the peer has read it.
  // Returns closed when the reader is gone (EPIPE); throws std::system_error otherwise.
  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    return read_exact(in_.get(), buf) == io_status::ok ? static_cast<std::ptrdiff_t>(buf.size())
                                                       : kPeerGone;
  }

 private:
  unique_fd in_;
  unique_fd out_;
};

class pipe_vmsplice_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator, before fork. Throws std::system_error.
  explicit pipe_vmsplice_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a forked peer.
  vmsplice_endpoint open(role r);

 private:
  fd_pair forward_;  // producer -> consumer
  fd_pair back_;     // consumer -> producer
  bool threads_;     // the peers are threads: open() leaves the partner's ends alone
};

}  // namespace ipcbench
