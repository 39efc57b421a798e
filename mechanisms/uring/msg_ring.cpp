#include "mechanisms/uring/msg_ring.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "mechanisms/notify/notification_traits.hpp"
#include "mechanisms/uring/uring_ring.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"

namespace ipcbench {
namespace {

// user_data of the CQEs a peer's ring can hold.
constexpr std::uint64_t kNotify = 0x6e6f74696679;  // posted by the partner's MSG_RING
constexpr std::uint64_t kSent = 0x73656e74;        // our MSG_RING failed (success is skipped)
constexpr std::uint64_t kWatch = 0x7761746368;     // the link hung up: the partner is gone
constexpr std::uint64_t kCancel = 0x63616e63656c;  // the watch's cancellation

int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_getfd(int pidfd, int fd) {
  return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
}

struct ring_address {
  std::int32_t pid;
  std::int32_t fd;
};

void write_exact(int fd, const void* p, std::size_t n, const char* what) {
  if (write_all(fd, {static_cast<const std::byte*>(p), n}) != io_status::ok)
    throw std::runtime_error(std::string("io_uring.msg_ring: the partner closed the link (") +
                             what + ")");
}

void read_exact_or_throw(int fd, void* p, std::size_t n, const char* what) {
  if (read_exact(fd, {static_cast<std::byte*>(p), n}) != io_status::ok)
    throw std::runtime_error(std::string("io_uring.msg_ring: the partner closed the link (") +
                             what + ")");
}

// Both peers write `what`, then read the partner's: a barrier over the link.
void barrier(int link, char tag) {
  write_exact(link, &tag, 1, "barrier");
  char got = 0;
  read_exact_or_throw(link, &got, 1, "barrier");
  if (got != tag) throw std::runtime_error("io_uring.msg_ring: the exchange went out of step");
}

// A copy of the partner's ring descriptor, taken from the partner process with pidfd_getfd(2).
unique_fd partner_ring(int link, const uring_ring& own, bool threads) {
  const ring_address mine{static_cast<std::int32_t>(::getpid()), own.fd()};
  write_exact(link, &mine, sizeof mine, "ring address");
  ring_address theirs{};
  read_exact_or_throw(link, &theirs, sizeof theirs, "ring address");
  // Yama ptrace_scope 1 allows ptrace (and pidfd_getfd) of descendants only; the peers are
  // siblings, so each names the partner as its tracer for the exchange. EINVAL: no Yama.
  if (!threads) (void)::prctl(PR_SET_PTRACER, static_cast<unsigned long>(theirs.pid), 0, 0, 0);
  barrier(link, 'a');
  const std::string whose =
      "pid " + std::to_string(theirs.pid) + ", fd " + std::to_string(theirs.fd);
  unique_fd pidfd(check(pidfd_open(theirs.pid), "pidfd_open(partner " + whose + ")"));
  unique_fd ring(
      check(pidfd_getfd(pidfd.get(), theirs.fd), "pidfd_getfd(partner's ring, " + whose + ")"));
  barrier(link, 'b');
  if (!threads) (void)::prctl(PR_SET_PTRACER, 0UL, 0, 0, 0);
  return ring;
}

unique_fd copy_of(const unique_fd& fd) {
  return unique_fd(check(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)"));
}

}  // namespace

msg_ring_endpoint::msg_ring_endpoint(std::unique_ptr<uring_ring> own, unique_fd partner_ring,
                                     unique_fd link, bool watch_partner)
    : partner_ring_(std::move(partner_ring)), link_(std::move(link)), ring_(std::move(own)) {
  if (!watch_partner) return;
  io_uring_sqe* sqe = ring_->sqe();
  io_uring_prep_poll_add(sqe, link_.get(), POLLIN | POLLRDHUP);
  io_uring_sqe_set_data64(sqe, kWatch);
  const int rc = io_uring_submit(ring_->get());
  if (rc < 0) throw_errno("io_uring_submit(POLL_ADD link)", -rc);
  watching_ = true;
}

msg_ring_endpoint::msg_ring_endpoint(msg_ring_endpoint&& o) noexcept
    : partner_ring_(std::move(o.partner_ring_)),
      link_(std::move(o.link_)),
      ring_(std::move(o.ring_)),
      watching_(std::exchange(o.watching_, false)) {}

msg_ring_endpoint& msg_ring_endpoint::operator=(msg_ring_endpoint&& o) noexcept {
  partner_ring_ = std::move(o.partner_ring_);
  link_ = std::move(o.link_);
  ring_ = std::move(o.ring_);
  watching_ = std::exchange(o.watching_, false);
  return *this;
}

msg_ring_endpoint::~msg_ring_endpoint() {
  // The partner holds a copy of this ring, so closing ours does not end it: a poll still armed
  // would hold the link open (and hide this end's close from the partner) until this process
  // exits. Cancel it first, and wait a little for it to go.
  if (ring_ && watching_) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(ring_->get())) {
      io_uring_prep_cancel64(sqe, kWatch, 0);
      io_uring_sqe_set_data64(sqe, kCancel);
      if (io_uring_submit(ring_->get()) >= 0) {
        for (int i = 0; i < 4; ++i) {
          io_uring_cqe* cqe = nullptr;
          __kernel_timespec ts{0, 100'000'000};
          if (io_uring_wait_cqe_timeout(ring_->get(), &cqe, &ts) < 0) break;
          const bool gone = cqe->user_data == kWatch;
          io_uring_cqe_seen(ring_->get(), cqe);
          if (gone) break;
        }
      }
    }
  }
  ring_.reset();
}

io_status msg_ring_endpoint::send(std::span<const std::byte>) {
  io_uring_sqe* sqe = ring_->sqe();
  // The partner's CQE: res 0, user_data kNotify.
  io_uring_prep_msg_ring(sqe, partner_ring_.get(), 0, kNotify, 0);
  io_uring_sqe_set_data64(sqe, kSent);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  int rc;
  do rc = io_uring_submit(ring_->get());
  while (rc == -EINTR);
  if (rc < 0) throw_errno("io_uring_submit(MSG_RING)", -rc);
  return io_status::ok;
}

std::ptrdiff_t msg_ring_endpoint::receive(std::span<std::byte>) {
  for (;;) {
    const uring_ring::completion c = ring_->wait_one();
    if (c.user_data == kNotify) return 0;
    if (c.user_data == kWatch) {
      watching_ = false;
      return kPeerGone;
    }
    if (c.user_data == kSent && c.res < 0) throw_errno("IORING_OP_MSG_RING", -c.res);
  }
}

mechanism_traits msg_ring_channel::describe() {
  if (const std::string& why = uring_unavailable(false); !why.empty())
    throw std::runtime_error(why);
  mechanism_traits t = notification_traits(
      "io_uring.msg_ring", "io_uring_wait_cqe (io_uring_enter(2) GETEVENTS) on its own ring",
      "IORING_OP_MSG_RING from the sender's ring posts a CQE into the partner's ring");
  t.mechanism = "io_uring";
  t.variant = "msg_ring";
  t.family = "io_uring";
  {
    uring_ring r(uring_options{});
    io_uring_probe* probe = io_uring_get_probe_ring(r.get());
    if (probe == nullptr) throw std::runtime_error("io_uring_get_probe_ring failed");
    const bool ok = io_uring_opcode_supported(probe, IORING_OP_MSG_RING);
    io_uring_free_probe(probe);
    if (!ok) throw std::runtime_error("IORING_OP_MSG_RING not supported by this kernel (5.18+)");
    // The descriptor exchange: pidfd_getfd(2) of a ring (5.6+), tried on this process.
    unique_fd self(check(pidfd_open(::getpid()), "pidfd_open(self)"));
    unique_fd copy(check(pidfd_getfd(self.get(), r.fd()), "pidfd_getfd(own ring)"));
  }
  t.notes["flags"] =
      "IORING_OP_MSG_RING with IOSQE_CQE_SKIP_SUCCESS (no CQE on the sender's ring), one ring per "
      "peer, no SQPOLL, no DEFER_TASKRUN";
  t.notes["ring_exchange"] =
      "pid and ring fd sent over a socketpair made before fork; the partner's ring copied with "
      "pidfd_getfd(2) (needs ptrace access; SCM_RIGHTS refuses io_uring files)";
  t.notes["partner_watch"] = "IORING_OP_POLL_ADD on the socketpair end, armed once after setup";
  return t;
}

msg_ring_channel::msg_ring_channel(const channel_config& cfg) : threads_(cfg.peers_are_threads) {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  producer_link_ = std::move(a);
  consumer_link_ = std::move(b);
}

void msg_ring_channel::opened() noexcept {
  producer_link_.reset();
  consumer_link_.reset();
}

msg_ring_endpoint msg_ring_channel::open(role r) {
  unique_fd& mine = r == role::producer ? producer_link_ : consumer_link_;
  unique_fd& theirs = r == role::producer ? consumer_link_ : producer_link_;
  unique_fd link;
  if (threads_) {
    link = copy_of(mine);
  } else {
    theirs.reset();  // so the partner's exit hangs up this end
    link = std::move(mine);
  }
  auto ring = std::make_unique<uring_ring>(uring_options{});
  unique_fd partner = partner_ring(link.get(), *ring, threads_);
  return msg_ring_endpoint(std::move(ring), std::move(partner), std::move(link), !threads_);
}

}  // namespace ipcbench
