#include "mechanisms/notify/posix_sem.hpp"

#include <fcntl.h>

#include "mechanisms/notify/notification_traits.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/retry.hpp"

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
  // glibc's sem_wait takes an already posted semaphore without a system call.
  if (retry_on_eintr([&] { return ::sem_wait(wait_.get()); }) != 0) throw_errno("sem_wait");
  return 0;
}

mechanism_traits posix_sem_channel::describe() {
  mechanism_traits t = notification_traits(
      "posix_sem", "sem_wait(3) (futex), untimed",
      "POSIX named semaphore per direction, opened by name, unlinked once both peers opened");
  t.notes["semaphores"] = "named (sem_open), not unnamed in shared memory";
  t.notes["waits"] =
      "untimed; a dead partner is found by the coordinator, which kills the survivor";
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
  if (r == role::producer) return posix_sem_endpoint(std::move(forward), std::move(back));
  return posix_sem_endpoint(std::move(back), std::move(forward));
}

}  // namespace ipcbench
