// TCP over loopback with MSG_ZEROCOPY (msg_zerocopy.rst in the kernel's networking docs): the
// same connection as `tcp` (127.0.0.1, TCP_NODELAY, the same rendezvous), with SO_ZEROCOPY set
// and every send made with MSG_ZEROCOPY, so the kernel pins the sender's pages instead of
// copying them into socket buffers. The pages may not change until the kernel says it is done
// with them: a completion notification on the socket's error queue, read with
// recvmsg(MSG_ERRQUEUE).
//
// The harness stamps each message in one of two buffers chosen by the sequence's parity, and
// stamps message k+1 as soon as send(k) returns, in the buffer of message k-1. So send(k) returns
// only once every notification of message k-1 (and all before it) has come. In ping-pong the
// reply to k-1 carries the ACK that releases its pages, so that wait costs one recvmsg. In a
// one-way stream the ACK of k-1 comes when the receiver's TCP sends it, delayed ACKs included,
// which would price the harness's two buffers rather than MSG_ZEROCOPY: latency only, like
// pipe.vmsplice. The throughput question (the kernel's "no gain on loopback, a loss below about
// 10 KB") is the probe `tcp_zerocopy_loopback`, which streams from a pool of buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "mechanisms/adapter.hpp"
#include "mechanisms/sockets/tcp.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"
#include "sys/zerocopy.hpp"

namespace ipcbench {

// Sends with MSG_ZEROCOPY; receives as `tcp` does. In a peer only; owns its socket.
class zerocopy_endpoint {
 public:
  explicit zerocopy_endpoint(unique_fd s) noexcept : s_(std::move(s)) {}
  // Sends the whole message, then waits for the notifications of every earlier message (see
  // the top of this file). Returns closed when the peer is gone.
  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    return read_exact(s_.get(), buf) == io_status::ok ? static_cast<std::ptrdiff_t>(buf.size())
                                                      : -1;
  }

 private:
  // Waits until every id below `upto` has completed; closed when the peer goes first.
  io_status await(std::uint32_t upto);

  unique_fd s_;
  zerocopy_completions done_;
  std::uint32_t previous_end_ = 0;  // ids below this belong to earlier messages
};

class tcp_zerocopy_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws std::system_error when this kernel refuses SO_ZEROCOPY (the mechanism is then
  // unavailable with the reason).
  static mechanism_traits describe();
  explicit tcp_zerocopy_channel(const channel_config& cfg) : tcp_(cfg) {}
  void opened() noexcept { tcp_.opened(); }
  zerocopy_endpoint open(role r);
  nlohmann::json rendezvous() const { return tcp_.rendezvous(); }
  static zerocopy_endpoint attach(const nlohmann::json& where, role r);

 private:
  tcp_channel tcp_;
};

}  // namespace ipcbench
