#include "mechanisms/notify/eventfd.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>

#include "mechanisms/notify/notification_traits.hpp"
#include "sys/error.hpp"

namespace ipcbench {
namespace {

unique_fd make_eventfd() {
  return unique_fd(check(::eventfd(0, EFD_CLOEXEC), "eventfd"));
}

}  // namespace

void eventfd_endpoint::throw_write_failed() {
  throw_errno("write(eventfd)");
}

void eventfd_endpoint::throw_read_failed() {
  throw_errno("read(eventfd)");
}

mechanism_traits eventfd_channel::describe() {
  mechanism_traits t =
      notification_traits("eventfd", "blocking read(2) of the counter",
                          "eventfd counter per direction between forked peers, write 1 / read");
  make_eventfd();  // fails here, not in every run, where the kernel has no eventfd
  t.notes["flags"] = "EFD_CLOEXEC (counter mode, blocking)";
  return t;
}

eventfd_channel::eventfd_channel(const channel_config& cfg)
    : forward_(make_eventfd()), back_(make_eventfd()), threads_(cfg.peers_are_threads) {}

void eventfd_channel::opened() noexcept {
  forward_.reset();
  back_.reset();
}

eventfd_endpoint eventfd_channel::open(role r) {
  if (threads_) {
    // Both ends use both eventfds: each thread takes duplicates and the channel keeps its own.
    auto copy = [](const unique_fd& fd) {
      return unique_fd(check(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)"));
    };
    if (r == role::producer) return eventfd_endpoint(copy(back_), copy(forward_));
    return eventfd_endpoint(copy(forward_), copy(back_));
  }
  if (r == role::producer) return eventfd_endpoint(std::move(back_), std::move(forward_));
  return eventfd_endpoint(std::move(forward_), std::move(back_));
}

}  // namespace ipcbench
