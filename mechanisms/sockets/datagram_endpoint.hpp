// The endpoint of every message socket (AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET, UDP): one
// connected socket, one send(2) and one recv(2) per message, boundaries kept by the kernel.
// receive() returns the datagram's real length (MSG_TRUNC), so a longer one than the buffer is
// reported, not cut short unseen; EOF (seqpacket) and a refused or reset peer are kPeerGone,
// and a receive timeout (SO_RCVTIMEO, set by the mechanism) is kTimedOut. With `count_drops`
// (the mechanism has set SO_RXQ_OVFL on the socket) receive() reads the kernel's count of
// datagrams dropped on the socket before the one received (recvmsg(2) ancillary data; absent
// while none was dropped), which drops_before_last() returns. In a peer only; owns its
// descriptor.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class datagram_endpoint {
 public:
  explicit datagram_endpoint(unique_fd fd, bool count_drops = false) noexcept
      : fd_(std::move(fd)), count_drops_(count_drops) {}

  io_status send(std::span<const std::byte> msg) {
    // A datagram goes whole or not at all: no partial sends to loop over.
    if (retry_on_eintr([&] { return ::send(fd_.get(), msg.data(), msg.size(), MSG_NOSIGNAL); }) >=
        0)
      return io_status::ok;
    if (errno == EPIPE || errno == ECONNRESET || errno == ECONNREFUSED) return io_status::closed;
    throw_errno("send");
  }

  std::ptrdiff_t receive(std::span<std::byte> buf) {
    const ssize_t n = retry_on_eintr([&] {
      return count_drops_ ? receive_counting(buf)
                          : ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
    });
    if (n > 0 || (n == 0 && buf.empty())) return n;
    if (n == 0) return kPeerGone;  // seqpacket EOF: messages are never empty here
    if (errno == EAGAIN || errno == EWOULDBLOCK) return kTimedOut;
    if (errno == ECONNRESET || errno == ECONNREFUSED) return kPeerGone;
    throw_errno("recv");
  }

  // Datagrams the kernel dropped on this socket since it was made, as of when the datagram last
  // received was queued (SO_RXQ_OVFL; a 32-bit counter); 0 without `count_drops`.
  std::uint64_t drops_before_last() const noexcept { return drops_; }

 private:
  ssize_t receive_counting(std::span<std::byte> buf) {
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint32_t))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_TRUNC);
    if (n < 0) return n;
    std::uint32_t drops = 0;  // the kernel adds the count only once it is not zero
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
        std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
    drops_ = drops;
    return n;
  }

  unique_fd fd_;
  bool count_drops_ = false;
  std::uint64_t drops_ = 0;
};

}  // namespace ipcbench
