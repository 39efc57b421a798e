// One copy per message over anonymous pipes (one per direction, default capacity): the sender
// moves its message into the pipe with vmsplice(2) (no SPLICE_F_GIFT), so the pipe holds
// references to the sender's own pages instead of a copy; the receiver reads it with read(2),
// which copies the bytes out of those pages into its buffer: the one copy. A message larger than
// the pipe (64 KiB by default) goes in parts: vmsplice blocks while the pipe is full and returns
// the count it took, and send() goes on from there.
//
// The drain wait. The pipe references the sender's pages until the reader has consumed them, so
// a change to the buffer before then is what the reader reads (the harness stamps the next
// message but one into the same buffer). send() therefore returns only once the partner has
// read the whole message: after its read(2) the receiver writes a one-byte ack into the reverse
// pipe, and the sender reads it before it returns. One message is in flight per direction (a
// stream is stop-and-wait), and a round trip has up to four wake-ups instead of two: that is
// what using vmsplice safely costs, and pipe.vmsplice (latency only, no wait: the reply proves
// the read) beside it measures it. Each pipe carries one side's messages and the other side's
// acks, in an order both sides know, so an ack is never taken for message bytes; a byte other
// than the ack where one is due throws.
//
// A dead partner reads as EOF (receive returns kPeerGone, send closed); a vmsplice or an ack to
// it fails with EPIPE (closed) or, as write(2) to a pipe does, raises SIGPIPE.
#pragma once

#include <cstddef>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One peer's end: vmsplice(2) out and an ack in, read(2) in and an ack out. In a peer (or a
// thread peer) only; owns its descriptors. Throws std::system_error naming the call, or
// std::runtime_error when a byte other than the ack comes where one is due.
class splice_endpoint {
 public:
  // The byte a receiver writes back once it has read a whole message.
  static constexpr std::byte kAck{0x06};

  splice_endpoint(unique_fd in, unique_fd out) noexcept
      : in_(std::move(in)), out_(std::move(out)) {}
  // Splices every byte of `msg` into the pipe and waits for the partner's ack: when it returns
  // ok, the pipe no longer references `msg` and the caller may change it. closed when the
  // partner is gone.
  io_status send(std::span<const std::byte> msg);
  // Reads exactly buf.size() bytes, then acks them. Returns the length, or kPeerGone.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  unique_fd in_;
  unique_fd out_;
};

class pipe_splice_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator, before fork. Throws std::system_error.
  explicit pipe_splice_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a forked peer, or a thread peer (then the partner's ends are left alone).
  splice_endpoint open(role r);

 private:
  fd_pair forward_;  // producer -> consumer: the producer's messages and its acks of replies
  fd_pair back_;     // consumer -> producer: the consumer's acks and its replies
  bool threads_;     // the peers are threads: open() leaves the partner's ends alone
};

}  // namespace ipcbench
