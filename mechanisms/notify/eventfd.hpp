// eventfd(2) notification: two event counters, one per direction, inherited across fork; a
// notification is a write(2) of 1 and the receiver waits in a blocking read(2) of the counter.
// No payload: measured at size 0, latency only. A dead partner cannot be seen on an eventfd (no
// EOF), so a peer left waiting is ended by the coordinator, which kills both as soon as one
// dies.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// A peer's two counters: it notifies on `out` and waits on `in`. Throws std::system_error.
class eventfd_endpoint {
 public:
  eventfd_endpoint(unique_fd in, unique_fd out) noexcept
      : in_(std::move(in)), out_(std::move(out)) {}

  io_status send(std::span<const std::byte>) {
    const std::uint64_t one = 1;
    if (retry_on_eintr([&] { return ::write(out_.get(), &one, sizeof one); }) < 0)
      throw_write_failed();
    return io_status::ok;
  }
  // The counter this end waits on, for a receiver that waits elsewhere (io_uring.eventfd).
  int in_fd() const noexcept { return in_.get(); }
  std::ptrdiff_t receive(std::span<std::byte>) {
    std::uint64_t count;
    if (retry_on_eintr([&] { return ::read(in_.get(), &count, sizeof count); }) < 0)
      throw_read_failed();
    return 0;
  }

 private:
  [[noreturn]] static void throw_write_failed();
  [[noreturn]] static void throw_read_failed();

  unique_fd in_, out_;
};

// Owns both counters (made by the coordinator before fork, EFD_CLOEXEC); the coordinator's
// copies are closed once both peers have opened.
class eventfd_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit eventfd_channel(const channel_config& cfg);
  void opened() noexcept;
  eventfd_endpoint open(role r);

 private:
  unique_fd forward_, back_;
  bool threads_;  // the peers are threads: each end takes copies (dup), the originals stay
};

}  // namespace ipcbench
