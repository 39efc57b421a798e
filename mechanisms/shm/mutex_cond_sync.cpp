#include "mechanisms/shm/mutex_cond_sync.hpp"

#include <atomic>

#include "sys/error.hpp"

namespace ipcbench {
namespace {

std::uint32_t load(std::uint32_t* word) noexcept {
  return std::atomic_ref<std::uint32_t>(*word).load(std::memory_order_acquire);
}

}  // namespace

void mutex_cond_sync::init(state& s, bool pshared) {
  const int how = pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
  pthread_mutexattr_t ma;
  check_rc(::pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
  pthread_condattr_t ca;
  check_rc(::pthread_condattr_init(&ca), "pthread_condattr_init");
  // The attribute objects hold nothing in glibc; they are destroyed for form's sake, also when a
  // call below throws.
  struct attrs {
    pthread_mutexattr_t* m;
    pthread_condattr_t* c;
    ~attrs() {
      ::pthread_mutexattr_destroy(m);
      ::pthread_condattr_destroy(c);
    }
  } guard{&ma, &ca};
  check_rc(::pthread_mutexattr_setpshared(&ma, how), "pthread_mutexattr_setpshared");
  check_rc(::pthread_condattr_setpshared(&ca, how), "pthread_condattr_setpshared");
  for (bell& b : s.bells) {
    check_rc(::pthread_mutex_init(&b.mutex, &ma), "pthread_mutex_init");
    check_rc(::pthread_cond_init(&b.cond, &ca), "pthread_cond_init");
  }
}

void mutex_cond_sync::add_notes(mechanism_traits& t) {
  t.notes["pshared"] =
      "PTHREAD_PROCESS_SHARED when the peers are processes; PTHREAD_PROCESS_PRIVATE when they "
      "are threads of one process (--peers threads)";
  t.notes["sync_object"] =
      "the mutexes and condition variables live in a POSIX shared-memory object of their own "
      "(one mutex and condition variable per ring and direction of waiting, 128 bytes apart), "
      "initialised once by the coordinator, unlinked once both peers mapped it, never destroyed";
  t.notes["mutex"] = "default type (PTHREAD_MUTEX_DEFAULT), not robust";
}

shm::sleep_result mutex_cond_sync::sleep(int b, std::uint32_t* word, std::uint32_t seen) {
  bell& s = state_->bells[b];
  check_rc(::pthread_mutex_lock(&s.mutex), "pthread_mutex_lock");
  // Under the mutex: a signaller's store came before its lock, so an unchanged word means its
  // signal is still to come, and it will find this thread waiting.
  while (load(word) == seen) {
    const int rc = ::pthread_cond_wait(&s.cond, &s.mutex);
    if (rc != 0) {
      ::pthread_mutex_unlock(&s.mutex);
      throw_errno("pthread_cond_wait", rc);
    }
  }
  check_rc(::pthread_mutex_unlock(&s.mutex), "pthread_mutex_unlock");
  return shm::sleep_result::posted;
}

void mutex_cond_sync::wake(int b, std::uint32_t*) {
  bell& s = state_->bells[b];
  check_rc(::pthread_mutex_lock(&s.mutex), "pthread_mutex_lock");
  const int rc = ::pthread_cond_signal(&s.cond);
  check_rc(::pthread_mutex_unlock(&s.mutex), "pthread_mutex_unlock");
  check_rc(rc, "pthread_cond_signal");
}

}  // namespace ipcbench
