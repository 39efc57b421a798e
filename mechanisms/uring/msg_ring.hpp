// io_uring.msg_ring: notification through IORING_OP_MSG_RING. Each peer sets up its own ring
// in open() (after fork, or in its thread) and waits on it with io_uring_wait_cqe; a
// notification is one MSG_RING SQE on the sender's ring that posts a CQE straight into the
// partner's ring (io_uring_prep_msg_ring, IOSQE_CQE_SKIP_SUCCESS so the sender's own ring gets
// no completion unless it failed): one io_uring_enter(2) to send, one to wait. No payload:
// measured at size 0, latency only.
//
// MSG_RING needs the target ring's descriptor in the sender, and a ring cannot be sent with
// SCM_RIGHTS (the kernel refuses io_uring files on Unix sockets, EINVAL, since 6.7 and in the
// stable series). So the peers exchange their pid and ring descriptor number over a socketpair
// the coordinator made before fork, and each takes a copy of the partner's ring with
// pidfd_getfd(2), which needs ptrace access to the partner (same user, and under Yama's
// ptrace_scope 1 the partner's PR_SET_PTRACER, which each peer grants for the exchange only).
// Where that is refused the run fails at setup with the reason (pidfd_getfd: EPERM).
//
// A dead partner: each forked peer keeps an IORING_OP_POLL_ADD armed on its end of the
// socketpair, so the partner's exit (its end closed) completes on the same ring the peer waits
// on, and receive() returns kPeerGone. Thread peers skip the watch (they end together).
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class uring_ring;

// A peer's end: its own ring, a copy of the partner's ring descriptor, its end of the link.
// Throws std::system_error naming the call.
class msg_ring_endpoint {
 public:
  msg_ring_endpoint(std::unique_ptr<uring_ring> own, unique_fd partner_ring, unique_fd link,
                    bool watch_partner);
  msg_ring_endpoint(msg_ring_endpoint&&) noexcept;
  msg_ring_endpoint& operator=(msg_ring_endpoint&&) noexcept;
  // Cancels the watch on the link, then closes the ring, the partner's ring copy and the link.
  ~msg_ring_endpoint();

  io_status send(std::span<const std::byte>);
  std::ptrdiff_t receive(std::span<std::byte>);

 private:
  unique_fd partner_ring_;
  unique_fd link_;
  std::unique_ptr<uring_ring> ring_;
  bool watching_ = false;
};

class msg_ring_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws when io_uring cannot be set up, lacks IORING_OP_MSG_RING (before 5.18), or
  // pidfd_getfd(2) is missing.
  static mechanism_traits describe();
  // Coordinator, before fork: the socketpair the peers exchange their ring descriptors over.
  explicit msg_ring_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a peer: sets up its ring, exchanges descriptors with the partner (blocking until the
  // partner opens too), arms the watch on the link.
  msg_ring_endpoint open(role r);

 private:
  unique_fd producer_link_;
  unique_fd consumer_link_;
  bool threads_;
};

}  // namespace ipcbench
