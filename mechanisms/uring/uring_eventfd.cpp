#include "mechanisms/uring/uring_eventfd.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "mechanisms/notify/notification_traits.hpp"
#include "mechanisms/uring/uring_ring.hpp"
#include "sys/error.hpp"

namespace ipcbench {
namespace {

constexpr std::uint64_t kRead = 0x7265616400;  // the READ of the counter

}  // namespace

uring_eventfd_endpoint::uring_eventfd_endpoint(eventfd_endpoint counters,
                                               std::unique_ptr<uring_ring> ring)
    : counters_(std::move(counters)), ring_(std::move(ring)) {}
uring_eventfd_endpoint::uring_eventfd_endpoint(uring_eventfd_endpoint&&) noexcept = default;
uring_eventfd_endpoint& uring_eventfd_endpoint::operator=(uring_eventfd_endpoint&&) noexcept =
    default;
uring_eventfd_endpoint::~uring_eventfd_endpoint() = default;

std::ptrdiff_t uring_eventfd_endpoint::receive(std::span<std::byte>) {
  io_uring_sqe* sqe = ring_->sqe();
  io_uring_prep_read(sqe, counters_.in_fd(), &count_, sizeof count_, 0);
  io_uring_sqe_set_data64(sqe, kRead);
  const uring_ring::completion c = ring_->submit_and_wait_one();
  if (c.user_data != kRead)
    throw std::runtime_error("io_uring.eventfd: a completion that is not the READ of the counter");
  if (c.res < 0) throw_errno("io_uring READ of the eventfd", -c.res);
  if (c.res != static_cast<int>(sizeof count_))
    throw std::runtime_error("io_uring.eventfd: the READ of the counter returned " +
                             std::to_string(c.res) + " bytes, not 8");
  return 0;
}

mechanism_traits uring_eventfd_channel::describe() {
  if (const std::string& why = uring_unavailable(false); !why.empty())
    throw std::runtime_error(why);
  mechanism_traits t = notification_traits(
      "io_uring.eventfd",
      "io_uring_submit_and_wait (one io_uring_enter(2)) for an IORING_OP_READ of the counter",
      "eventfd counter per direction, write 1; the receiver reads it through its own io_uring");
  t.mechanism = "io_uring";
  t.variant = "eventfd";
  t.family = "io_uring";
  t.notes["flags"] =
      "EFD_CLOEXEC (counter mode); one ring per peer (8 entries), no SQPOLL, no DEFER_TASKRUN; "
      "the READ is submitted anew for each notification";
  return t;
}

uring_eventfd_endpoint uring_eventfd_channel::open(role r) {
  return uring_eventfd_endpoint(counters_.open(r), std::make_unique<uring_ring>(uring_options{}));
}

}  // namespace ipcbench
