// Whole-buffer reads and writes that retry EINTR and loop over partial transfers, and a
// deadline-bounded poll. The expected outcomes (peer closed, timeout) are values, not exceptions.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

namespace ipcbench {

enum class io_status { ok, closed };

// Writes every byte; returns closed on EPIPE/ECONNRESET. Throws std::system_error otherwise.
io_status write_all(int fd, std::span<const std::byte> data);

// The same over a socket, sent with MSG_NOSIGNAL: a peer that is gone is `closed`, never a
// SIGPIPE that kills the sender (a coordinator whose member died between two orders).
io_status send_all(int fd, std::span<const std::byte> data);

// Reads exactly data.size() bytes; returns closed on EOF or ECONNRESET before that.
io_status read_exact(int fd, std::span<std::byte> data);

// Waits until fd is readable (or hung up). Returns false when the timeout passed first.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

}  // namespace ipcbench
