// io_uring.eventfd: notification through an eventfd counter per direction, made before fork as
// for `eventfd`, but the receiver waits in an io_uring of its own: it submits an IORING_OP_READ
// of its counter and waits for the completion in the same io_uring_enter(2) (submit and
// GETEVENTS), the way another thread or process wakes an io_uring event loop; the sender
// write(2)s 1, as for eventfd. Each peer sets its ring up in open() (after fork, or in its
// thread). No payload: measured at size 0, latency only. A dead partner cannot be seen on an
// eventfd (no EOF): as for eventfd, the coordinator kills the peer left waiting as soon as its
// partner dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "mechanisms/adapter.hpp"
#include "mechanisms/notify/eventfd.hpp"
#include "sys/io.hpp"

namespace ipcbench {

class uring_ring;

class uring_eventfd_endpoint {
 public:
  uring_eventfd_endpoint(eventfd_endpoint counters, std::unique_ptr<uring_ring> ring);
  uring_eventfd_endpoint(uring_eventfd_endpoint&&) noexcept;
  uring_eventfd_endpoint& operator=(uring_eventfd_endpoint&&) noexcept;
  ~uring_eventfd_endpoint();

  io_status send(std::span<const std::byte> m) { return counters_.send(m); }
  // One READ of the counter through the ring, submitted and waited for in one call. Throws
  // std::system_error naming the call (a failed READ with the kernel's errno).
  std::ptrdiff_t receive(std::span<std::byte>);

 private:
  eventfd_endpoint counters_;
  std::unique_ptr<uring_ring> ring_;
  // Where the READ puts the counter: a member, so it stays put while the read is in flight.
  std::uint64_t count_ = 0;
};

class uring_eventfd_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws (the mechanism is unavailable) when no ring can be set up here.
  static mechanism_traits describe();
  explicit uring_eventfd_channel(const channel_config& cfg) : counters_(cfg) {}
  void opened() noexcept { counters_.opened(); }
  uring_eventfd_endpoint open(role r);

 private:
  eventfd_channel counters_;
};

}  // namespace ipcbench
