// POSIX shared memory (shm_open(3) + ftruncate(2) + mmap(2)) carrying a byte ring per direction
// (shm_ring.hpp); the variant is the synchronisation: POSIX named semaphores (sem_wait), futex(2)
// waits on the ring positions, a bounded spin then a futex wait (adaptive), pure spinning, or the
// process-shared pthread primitives and unnamed semaphores in an object of their own (a mutex and
// condition variable, a spinlock, rwlocks as gates, sem_init semaphores: sync_object.hpp). The
// segment name (and the semaphores' or the object's names) are unlinked as soon as both peers
// have opened them.
#pragma once

#include <string>

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/adaptive_sync.hpp"
#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/mutex_cond_sync.hpp"
#include "mechanisms/shm/posix_sem_sync.hpp"
#include "mechanisms/shm/rwlock_sync.hpp"
#include "mechanisms/shm/shm_ring.hpp"
#include "mechanisms/shm/spin_sync.hpp"
#include "mechanisms/shm/spinlock_sync.hpp"
#include "mechanisms/shm/unnamed_sem_sync.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// Sync is posix_sem_sync, futex_sync, adaptive_sync, spin_sync, mutex_cond_sync, spinlock_sync,
// rwlock_sync or unnamed_sem_sync. The constructor (coordinator, before fork) creates the object
// O_CREAT | O_EXCL with mode 0600 under a unique name (a named_object), plus what Sync needs;
// open() (forked peer) and attach() (unrelated peer) map it by name, and hand the policy the
// peer's role where it takes one; opened() and the destructor unlink. Throws std::system_error.
template <class Sync>
class posix_shm_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  using endpoint = shm_endpoint<Sync>;
  static mechanism_traits describe();
  explicit posix_shm_channel(const channel_config& cfg);
  posix_shm_channel(const posix_shm_channel&) = delete;
  posix_shm_channel& operator=(const posix_shm_channel&) = delete;
  void opened() noexcept;
  endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"name": "/ipcbench-...", "sync": {...}}
  static endpoint attach(const nlohmann::json& j, role r);

 private:
  named_object name_;
  typename Sync::resources sync_;
};

extern template class posix_shm_channel<posix_sem_sync>;
extern template class posix_shm_channel<futex_sync>;
extern template class posix_shm_channel<adaptive_sync>;
extern template class posix_shm_channel<spin_sync>;
extern template class posix_shm_channel<mutex_cond_sync>;
extern template class posix_shm_channel<spinlock_sync>;
extern template class posix_shm_channel<rwlock_sync>;
extern template class posix_shm_channel<unnamed_sem_sync>;

}  // namespace ipcbench
