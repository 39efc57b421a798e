// pipe.splice's fan_out/N: one producer, N consumers, each message's pages referenced once and
// duplicated to every consumer with tee(2), so the producer copies nothing and each consumer's
// read(2) is its one copy. The producer vmsplices (no SPLICE_F_GIFT) a chunk of the message into
// a staging pipe of its own, tee(2)s it into each consumer's pipe (tee only references the
// staging pipe's pages, without consuming them), discards the staging pipe's references by
// splice(2) to /dev/null (no copy), then waits for every consumer's one-byte ack, written into an
// ack pipe per consumer once it has read the chunk.
//
// Chunks: tee(2) always starts at the head of the staging pipe, so a chunk must go whole into
// every consumer's pipe: a partial tee could not be continued from where it stopped. A chunk is
// kTeeChunk bytes (the last one less), which spans at most 9 pages, so it fits the 16 buffers of
// a default pipe; a consumer's pipe is empty when the next chunk comes, since its ack said so.
// Both sides cut a message into the same chunks. The ack per chunk is also the drain wait: when
// send() returns, no pipe references the message. Its cost is a wake-up of every consumer and of
// the producer per 32 KiB, and the consumers' reads do not overlap the producer's next chunk.
//
// Process members only (groups are): open() closes every descriptor its member does not use, so
// a consumer that dies is EOF on its ack pipe (send() closed; a tee to its pipe fails with EPIPE
// or raises SIGPIPE) and a producer that dies is EOF on every consumer's pipe.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// The chunk a message is cut into: 32 KiB spans at most 9 pages, fewer than a default pipe's 16
// buffers, wherever the message starts in its first page.
inline constexpr std::size_t kTeeChunk = 32 * 1024;

// One member's end. The producer's: the staging pipe, /dev/null, and every consumer's data write
// end and ack read end; a consumer's: its data read end and ack write end. In a forked member
// only; owns its descriptors. Throws std::system_error naming the call, std::runtime_error when
// tee(2) duplicates part of a chunk or a byte other than the ack comes, std::logic_error when a
// consumer sends or the producer receives.
class tee_endpoint {
 public:
  // The producer's end; makes the staging pipe and opens /dev/null.
  tee_endpoint(std::vector<unique_fd> data_out, std::vector<unique_fd> acks_in);
  // Consumer's end.
  tee_endpoint(unique_fd data_in, unique_fd ack_out) noexcept;

  // Producer: every chunk of `msg` to every consumer, each chunk acked by all before the next.
  // closed when a consumer is gone.
  io_status send(std::span<const std::byte> msg);
  // Consumer: reads exactly buf.size() bytes, acking each chunk. Its length, or kPeerGone.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  io_status send_chunk(std::span<const std::byte> chunk);

  fd_pair stage_;                // producer: the staging pipe
  unique_fd null_;               // producer: /dev/null, where the staging pipe is emptied
  std::vector<unique_fd> out_;   // producer: each consumer's data pipe, write end
  std::vector<unique_fd> acks_;  // producer: each consumer's ack pipe, read end
  unique_fd in_;                 // consumer: its data pipe, read end
  unique_fd ack_out_;            // consumer: its ack pipe, write end
};

// The fan-out channel: a data pipe and an ack pipe per consumer, made by the coordinator before
// fork (registry: with_fan_out_broadcast over pipe.splice). Throws std::system_error.
class pipe_splice_tee_channel {
 public:
  pipe_splice_tee_channel(const channel_config& cfg, std::size_t consumers);
  // Coordinator, once every member has opened: drops its copies, so a dead member is EOF.
  void opened() noexcept;
  // In a forked member: consumer `index`, or the producer (index unused).
  tee_endpoint open(role r, std::size_t index);

 private:
  std::vector<fd_pair> data_;  // producer -> consumer i
  std::vector<fd_pair> acks_;  // consumer i -> producer
};

}  // namespace ipcbench
