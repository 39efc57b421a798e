#include "mechanisms/single_copy/notify_socket.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench::single_copy {

io_status send_record(int sock, const record& r, int pass_fd) {
  iovec iov{const_cast<record*>(&r), sizeof r};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    std::memset(control, 0, sizeof control);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  const ssize_t n = retry_on_eintr([&] { return ::sendmsg(sock, &m, MSG_NOSIGNAL); });
  if (n < 0) {
    if (errno == EPIPE || errno == ECONNRESET) return io_status::closed;
    throw_errno(pass_fd >= 0 ? "sendmsg(SCM_RIGHTS)" : "sendmsg(notify record)");
  }
  // A SOCK_SEQPACKET send is all or nothing.
  return io_status::ok;
}

std::ptrdiff_t acknowledge(int sock, const record& r) {
  record a;
  a.kind = record_kind::ack;
  a.seq = r.seq;
  (void)send_record(sock, a);
  return static_cast<std::ptrdiff_t>(r.len);
}

io_status receive_record(int sock, record& r, unique_fd* got) {
  iovec iov{&r, sizeof r};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  // Room for more than the one descriptor a partner sends, so that a packet with several is
  // seen whole and every one of them closed, not cut off (MSG_CTRUNC) with some left open.
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  const ssize_t n = retry_on_eintr([&] { return ::recvmsg(sock, &m, MSG_CMSG_CLOEXEC); });
  if (n < 0) {
    if (errno == ECONNRESET) return io_status::closed;
    throw_errno("recvmsg(notify record)");
  }
  unique_fd first;
  int extra = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!first)
        first.reset(fd);
      else {
        unique_fd drop(fd);
        ++extra;
      }
    }
  }
  if (n == 0) return io_status::closed;  // EOF: the partner closed its end (or died)
  if ((m.msg_flags & MSG_CTRUNC) != 0 || extra != 0)
    throw std::runtime_error("recvmsg(notify record): more descriptors than one came with it");
  if ((m.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) != sizeof r)
    throw std::runtime_error("recvmsg(notify record): a packet of " + std::to_string(n) +
                             " bytes, not a record of " + std::to_string(sizeof r));
  if (got != nullptr) *got = std::move(first);
  return io_status::ok;
}

io_status expect_record(int sock, record_kind want, std::uint64_t seq, record& r, const char* what,
                        unique_fd* got) {
  if (receive_record(sock, r, got) != io_status::ok) return io_status::closed;
  if (r.kind != want || (want != record_kind::hello && r.seq != seq)) {
    record w;
    w.kind = want;
    w.seq = seq;
    throw std::runtime_error(std::string(what) + ": expected " + describe(w) + ", got " +
                             describe(r));
  }
  return io_status::ok;
}

std::string describe(const record& r) {
  switch (r.kind) {
    case record_kind::hello:
      return "hello from pid " + std::to_string(r.pid);
    case record_kind::message:
      return "message " + std::to_string(r.seq) + " (" + std::to_string(r.len) + " bytes)";
    case record_kind::ack:
      return "ack " + std::to_string(r.seq);
  }
  return "a record of unknown kind " + std::to_string(static_cast<std::uint32_t>(r.kind));
}

notify_pair::notify_pair(bool peers_are_threads) : threads_(peers_are_threads) {
  auto [p, c] = make_socketpair(SOCK_SEQPACKET);
  ends_[0] = std::move(p);
  ends_[1] = std::move(c);
}

void notify_pair::release() noexcept {
  ends_[0].reset();
  ends_[1].reset();
}

unique_fd notify_pair::take(role r) {
  const int me = r == role::producer ? 0 : 1;
  if (!threads_) ends_[1 - me].reset();
  return std::move(ends_[me]);
}

}  // namespace ipcbench::single_copy
