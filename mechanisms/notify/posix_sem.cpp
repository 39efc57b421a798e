#include "mechanisms/notify/posix_sem.hpp"

#include <fcntl.h>
#include <time.h>

#include "mechanisms/notify/notification_traits.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"

namespace ipcbench {
namespace {

sem_handle open_sem(const std::string& name, int flags) {
  sem_t* s = (flags & O_CREAT) ? ::sem_open(name.c_str(), flags, 0600, 0u)
                               : ::sem_open(name.c_str(), flags);
  if (s == SEM_FAILED) throw_errno("sem_open(" + name + ")");
  return sem_handle(s);
}

}  // namespace

sem_handle& sem_handle::operator=(sem_handle&& o) noexcept {
  if (this != &o) {
    if (s_ != SEM_FAILED) ::sem_close(s_);
    s_ = o.s_;
    o.s_ = SEM_FAILED;
  }
  return *this;
}

sem_handle::~sem_handle() {
  if (s_ != SEM_FAILED) ::sem_close(s_);
}

io_status posix_sem_endpoint::send(std::span<const std::byte>) {
  if (::sem_post(post_.get()) != 0) throw_errno("sem_post");
  return io_status::ok;
}

std::ptrdiff_t posix_sem_endpoint::receive(std::span<std::byte>) {
  // Already posted: no clock read, no system call.
  if (::sem_trywait(wait_.get()) == 0) return 0;
  for (;;) {
    timespec deadline;
    ::clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += std::chrono::nanoseconds(kPartnerCheck).count();
    if (deadline.tv_nsec >= 1'000'000'000) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1'000'000'000;
    }
    if (::sem_clockwait(wait_.get(), CLOCK_MONOTONIC, &deadline) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == ETIMEDOUT) {  // go on waiting while the partner lives
      if (partner_.gone()) return kPeerGone;
      continue;
    }
    throw_errno("sem_clockwait");
  }
}

mechanism_traits posix_sem_channel::describe() {
  mechanism_traits t = notification_traits(
      "posix_sem", "sem_clockwait(3) (futex), 100 ms deadline to recheck the partner",
      "POSIX named semaphore per direction, opened by name, unlinked once both peers opened");
  t.notes["semaphores"] = "named (sem_open), not unnamed in shared memory";
  return t;
}

posix_sem_channel::posix_sem_channel(const channel_config&) {
  const std::string base = names::unique_posix_name();
  // When the constructor throws, the semaphores made so far (members) are unlinked.
  forward_ = named_object(named_object::kind::posix_sem, base + "-fwd");
  open_sem(forward_.name(), O_CREAT | O_EXCL);
  forward_.created();
  back_ = named_object(named_object::kind::posix_sem, base + "-back");
  open_sem(back_.name(), O_CREAT | O_EXCL);
  back_.created();
}

void posix_sem_channel::opened() noexcept {
  forward_.unlink();
  back_.unlink();
}

posix_sem_endpoint posix_sem_channel::open(role r) const {
  sem_handle forward = open_sem(forward_.name(), 0);
  sem_handle back = open_sem(back_.name(), 0);
  partner p = pids_.meet(r);
  if (r == role::producer)
    return posix_sem_endpoint(std::move(forward), std::move(back), std::move(p));
  return posix_sem_endpoint(std::move(back), std::move(forward), std::move(p));
}

}  // namespace ipcbench
