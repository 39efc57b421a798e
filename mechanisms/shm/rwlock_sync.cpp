#include "mechanisms/shm/rwlock_sync.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "sys/error.hpp"

namespace ipcbench {
namespace {

std::atomic_ref<std::uint32_t> word_of(std::uint32_t& w) noexcept {
  return std::atomic_ref<std::uint32_t>(w);
}

}  // namespace

void rwlock_sync::init(state& s, bool pshared) {
  pthread_rwlockattr_t a;
  check_rc(::pthread_rwlockattr_init(&a), "pthread_rwlockattr_init");
  struct attr {
    pthread_rwlockattr_t* a;
    ~attr() { ::pthread_rwlockattr_destroy(a); }
  } guard{&a};
  check_rc(::pthread_rwlockattr_setpshared(
               &a, pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE),
           "pthread_rwlockattr_setpshared");
  for (auto& bell : s.gates)
    for (gate& g : bell) check_rc(::pthread_rwlock_init(&g.lock, &a), "pthread_rwlock_init");
}

void rwlock_sync::add_notes(mechanism_traits& t) {
  t.notes["pshared"] =
      "PTHREAD_PROCESS_SHARED when the peers are processes; PTHREAD_PROCESS_PRIVATE when they "
      "are threads of one process (--peers threads)";
  t.notes["sync_object"] =
      "the rwlocks live in a POSIX shared-memory object of their own (two per ring and "
      "direction of waiting, 128 bytes apart), initialised once by the coordinator, unlinked "
      "once both peers mapped it, never destroyed";
  t.notes["rwlock_use"] =
      "an rwlock cannot wait for a condition, so each is a gate: the waking side holds it "
      "write-locked, the waiter blocks in pthread_rwlock_rdlock until the waker unlocks it; two "
      "gates per direction alternate so the waker re-shuts one the waiter has left; a wake-up "
      "costs the waker a wrlock and an unlock, the waiter a rdlock and an unlock, and never "
      "contends on the lock itself beyond the one blocked reader";
  t.notes["rwlock_kind"] = "default (PTHREAD_RWLOCK_PREFER_READER_NP in glibc)";
}

rwlock_sync::rwlock_sync(shm::sync_view v)
    : map_(std::move(v.map)), state_(shm::state_in<state>(*map_)) {
  for (const int b : shm::bells_rung_by(v.r)) {
    for (gate& g : state_->gates[b])
      check_rc(::pthread_rwlock_wrlock(&g.lock), "pthread_rwlock_wrlock");
    word_of(state_->shut[b]).store(1, std::memory_order_release);
    // A shared futex (no FUTEX_PRIVATE_FLAG): the waiter may be another process.
    if (::syscall(SYS_futex, &state_->shut[b], FUTEX_WAKE, 1, nullptr, nullptr, 0) < 0)
      throw_errno("futex(FUTEX_WAKE)");
  }
}

void rwlock_sync::await_shut(int b) {
  std::uint32_t& w = state_->shut[b];
  while (word_of(w).load(std::memory_order_acquire) == 0) {
    if (::syscall(SYS_futex, &w, FUTEX_WAIT, 0, nullptr, nullptr, 0) < 0 && errno != EAGAIN &&
        errno != EINTR)
      throw_errno("futex(FUTEX_WAIT)");
  }
}

shm::sleep_result rwlock_sync::sleep(int b, std::uint32_t*, std::uint32_t) {
  // Before the partner's gates are shut, a read lock would go straight through.
  if (openings_[b] == 0) await_shut(b);
  pthread_rwlock_t* g = &state_->gates[b][openings_[b] % 2].lock;
  check_rc(::pthread_rwlock_rdlock(g), "pthread_rwlock_rdlock");
  check_rc(::pthread_rwlock_unlock(g), "pthread_rwlock_unlock");
  ++openings_[b];
  return shm::sleep_result::posted;
}

void rwlock_sync::wake(int b, std::uint32_t*) {
  const std::uint64_t n = openings_[b];
  // The gate of opening n + 1 is the one of opening n - 1, which the waiter has left: it took
  // that opening before setting the flag just taken. Shut it before opening this one, since the
  // waiter may come to it as soon as it is through.
  if (n > 0)
    check_rc(::pthread_rwlock_wrlock(&state_->gates[b][(n + 1) % 2].lock), "pthread_rwlock_wrlock");
  check_rc(::pthread_rwlock_unlock(&state_->gates[b][n % 2].lock), "pthread_rwlock_unlock");
  openings_[b] = n + 1;
}

}  // namespace ipcbench
