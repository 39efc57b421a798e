// The io_uring family's byte streams: a pipe pair (pipe.io_uring) and a Unix stream socketpair
// (unix_stream.io_uring), each made by the coordinator before fork, where every transfer is an
// IORING_OP_WRITE_FIXED / IORING_OP_READ_FIXED on a registered file (IOSQE_FIXED_FILE) and a
// registered buffer, submitted on the peer's own ring, and the peer waits for its completion
// in io_uring_enter(2) (io_uring_submit_and_wait). Short transfers are resubmitted for the rest.
// The .sqpoll variants set the ring up with IORING_SETUP_SQPOLL: a kernel thread per ring
// polls the submission queue (idle after 50 ms), the peer enters only to wait.
//
// Registered buffers: the harness owns the message buffers (the sender's two stamped buffers
// and the receive buffer), so an endpoint registers each buffer it is handed the first time it
// sees it (io_uring_register_buffers, pinning its pages) and uses it by index from then on: no
// staging copy, the kernel copies user pages to the pipe or socket and back as read(2)/write(2)
// do (two copies per message). Pinned pages count against RLIMIT_MEMLOCK (per user, both
// peers' rings), unless the process has CAP_IPC_LOCK; describe() reads the limit and sets
// max_message so that larger sizes are skipped with the reason. The caller keeps every buffer
// it hands send() or receive() mapped for the endpoint's life, as the harness's peer_state
// does: the ring reads and writes the pages pinned at registration, so memory freed and mapped
// anew at the same address would not be what it transfers (the integrity check would fail).
//
// Rings are created in open(), in the peer (after fork) or in the thread that uses them; the
// coordinator only holds the pipes or the socketpair until both peers opened. A dead partner
// reads as EOF (receive returns kPeerGone), a write to it fails with EPIPE (closed) or, as
// with write(2), SIGPIPE.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "mechanisms/adapter.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class uring_ring;

enum class uring_submit { enter, sqpoll };

// A peer's end: its own ring, its descriptors registered in the ring's file table. In a peer
// only. Throws std::system_error naming the liburing call.
class uring_stream_endpoint {
 public:
  // Separate directions (pipes).
  uring_stream_endpoint(unique_fd in, unique_fd out, uring_submit how);
  // One bidirectional descriptor (a socket).
  uring_stream_endpoint(unique_fd both, uring_submit how);
  uring_stream_endpoint(uring_stream_endpoint&&) noexcept;
  uring_stream_endpoint& operator=(uring_stream_endpoint&&) noexcept;
  ~uring_stream_endpoint();

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

  // The number of buffers registered now and how many times the table was registered (for
  // tests: a buffer is registered on its first use, again only when a larger span of it comes).
  std::size_t registered_buffers() const noexcept { return buffers_.size(); }
  std::size_t registrations() const noexcept { return registrations_; }

 private:
  void register_files();
  // The index of the registered buffer holding [p, p + n), registering it first when none does.
  unsigned buffer_index(const std::byte* p, std::size_t n);
  // One READ_FIXED (write == false) or WRITE_FIXED on file index `file`; the CQE's res.
  int transfer(bool write, unsigned file, std::byte* p, std::size_t n);

  unique_fd in_;
  unique_fd out_;
  std::unique_ptr<uring_ring> ring_;
  unsigned in_index_ = 0;
  unsigned out_index_ = 0;
  std::vector<iovec> buffers_;
  std::size_t registrations_ = 0;
};

// The traits of the four stream variants; unavailable (throws) when a ring of that kind cannot
// be set up on this machine.
mechanism_traits uring_stream_traits(const char* id, const char* mechanism, const char* variant,
                                     const char* family, uring_submit how);

// pipe.io_uring, pipe.io_uring.sqpoll: one pipe per direction, made before fork.
template <uring_submit How>
class uring_pipe_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit uring_pipe_channel(const channel_config& cfg)
      : forward_(make_pipe()), back_(make_pipe()), threads_(cfg.peers_are_threads) {}
  // Coordinator: drops its copies, so a dead peer reads as EOF.
  void opened() noexcept {
    forward_ = {};
    back_ = {};
  }
  // In a peer: closes its copies of the partner's ends (a forked peer; threads leave them) and
  // sets up its ring.
  uring_stream_endpoint open(role r);

 private:
  fd_pair forward_;  // producer -> consumer
  fd_pair back_;     // consumer -> producer
  bool threads_;
};

// unix_stream.io_uring, unix_stream.io_uring.sqpoll: a connected AF_UNIX SOCK_STREAM
// socketpair made before fork, one end per peer.
template <uring_submit How>
class uring_socket_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit uring_socket_channel(const channel_config& cfg);
  void opened() noexcept {
    producer_.reset();
    consumer_.reset();
  }
  uring_stream_endpoint open(role r);

 private:
  unique_fd producer_;
  unique_fd consumer_;
  bool threads_;
};

extern template class uring_pipe_channel<uring_submit::enter>;
extern template class uring_pipe_channel<uring_submit::sqpoll>;
extern template class uring_socket_channel<uring_submit::enter>;
extern template class uring_socket_channel<uring_submit::sqpoll>;

using pipe_uring_channel = uring_pipe_channel<uring_submit::enter>;
using pipe_uring_sqpoll_channel = uring_pipe_channel<uring_submit::sqpoll>;
using unix_stream_uring_channel = uring_socket_channel<uring_submit::enter>;
using unix_stream_uring_sqpoll_channel = uring_socket_channel<uring_submit::sqpoll>;

}  // namespace ipcbench
