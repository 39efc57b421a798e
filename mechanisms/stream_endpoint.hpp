// The endpoint of every byte-stream mechanism (pipe, FIFO, stream sockets): send writes the
// whole message, receive reads exactly one message's worth, looping over partial transfers.
// In a peer only. Owns its descriptors; `out` may be the same descriptor as `in` (sockets).
#pragma once

#include <cstddef>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

class stream_endpoint {
 public:
  // Separate directions (pipes, FIFOs).
  stream_endpoint(unique_fd in, unique_fd out) noexcept
      : in_(std::move(in)), out_(std::move(out)), out_fd_(out_.get()) {}
  // One bidirectional descriptor (sockets).
  explicit stream_endpoint(unique_fd both) noexcept : in_(std::move(both)), out_fd_(in_.get()) {}

  io_status send(std::span<const std::byte> msg) { return write_all(out_fd_, msg); }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    return read_exact(in_.get(), buf) == io_status::ok ? static_cast<std::ptrdiff_t>(buf.size())
                                                       : -1;
  }

 private:
  unique_fd in_;
  unique_fd out_;
  int out_fd_;
};

}  // namespace ipcbench
