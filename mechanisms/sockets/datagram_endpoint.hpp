// The endpoint of every message socket (AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET, UDP): one
// connected socket, one send(2) and one recv(2) per message, boundaries kept by the kernel.
// receive() returns the datagram's real length (MSG_TRUNC), so a longer one than the buffer is
// reported, not cut short unseen; EOF (seqpacket) and a refused or reset peer are kPeerGone,
// and a receive timeout (SO_RCVTIMEO, set by the mechanism) is kTimedOut. In a peer only; owns
// its descriptor.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class datagram_endpoint {
 public:
  explicit datagram_endpoint(unique_fd fd) noexcept : fd_(std::move(fd)) {}

  io_status send(std::span<const std::byte> msg) {
    for (;;) {
      // A datagram goes whole or not at all: no partial sends to loop over.
      if (::send(fd_.get(), msg.data(), msg.size(), MSG_NOSIGNAL) >= 0) return io_status::ok;
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET || errno == ECONNREFUSED) return io_status::closed;
      throw_errno("send");
    }
  }

  std::ptrdiff_t receive(std::span<std::byte> buf) {
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
      if (n > 0 || (n == 0 && buf.empty())) return n;
      if (n == 0) return kPeerGone;  // seqpacket EOF: messages are never empty here
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return kTimedOut;
      if (errno == ECONNRESET || errno == ECONNREFUSED) return kPeerGone;
      throw_errno("recv");
    }
  }

 private:
  unique_fd fd_;
};

}  // namespace ipcbench
