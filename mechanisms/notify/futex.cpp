#include "mechanisms/notify/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mechanisms/notify/notification_traits.hpp"
#include "sys/error.hpp"

namespace ipcbench {
namespace {

constexpr std::uint32_t kEmpty = 0, kPosted = 1, kSleeping = 2;
static_assert(kEmpty == 0, "the words start value-initialised");

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t val, const timespec* timeout) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, val, timeout, nullptr, 0);
}

}  // namespace

io_status futex_endpoint::send(std::span<const std::byte>) {
  if (post_->exchange(kPosted) == kSleeping && futex(post_, FUTEX_WAKE, 1, nullptr) < 0)
    throw_errno("futex(FUTEX_WAKE)");
  return io_status::ok;
}

std::ptrdiff_t futex_endpoint::receive(std::span<std::byte>) {
  for (;;) {
    std::uint32_t v = kPosted;
    if (wait_->compare_exchange_strong(v, kEmpty)) return 0;
    // Announce the sleep; a post racing in turns the word to 1 and the exchange fails.
    if (v == kEmpty && !wait_->compare_exchange_strong(v, kSleeping)) continue;
    // Sleeps only while the word is still 2 (else EAGAIN, and the loop takes the post).
    if (futex(wait_, FUTEX_WAIT, kSleeping, nullptr) == 0) continue;
    if (errno == EAGAIN || errno == EINTR) continue;
    throw_errno("futex(FUTEX_WAIT)");
  }
}

mechanism_traits futex_channel::describe() {
  mechanism_traits t = notification_traits(
      "futex", "futex(FUTEX_WAIT), untimed",
      "futex word per direction in anonymous MAP_SHARED memory, FUTEX_WAKE only when the "
      "receiver sleeps");
  t.notes["ops"] = "FUTEX_WAIT, FUTEX_WAKE (shared, not _PRIVATE)";
  t.notes["waits"] =
      "untimed; a dead partner is found by the coordinator, which kills the survivor";
  return t;
}

// The words start at 0, kEmpty (shared_page value-initialises them).
futex_channel::futex_channel(const channel_config&) {}

futex_endpoint futex_channel::open(role r) const {
  auto& w = *words_;
  return r == role::producer ? futex_endpoint(&w[0], &w[1]) : futex_endpoint(&w[1], &w[0]);
}

}  // namespace ipcbench
