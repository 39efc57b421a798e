// POSIX shared memory (shm_open(3) + ftruncate(2) + mmap(2)) carrying a byte ring per direction
// (shm_ring.hpp); the variant is the synchronisation: POSIX named semaphores (sem_wait), futex(2)
// waits on the ring positions, a bounded spin then a futex wait (adaptive), or pure spinning. The
// segment name (and the semaphores' names) are unlinked as soon as both peers have opened them.
#pragma once

#include <string>

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/adaptive_sync.hpp"
#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/posix_sem_sync.hpp"
#include "mechanisms/shm/shm_ring.hpp"
#include "mechanisms/shm/spin_sync.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// Sync is posix_sem_sync, futex_sync, adaptive_sync or spin_sync. The constructor (coordinator,
// before fork) creates the object O_CREAT | O_EXCL with mode 0600 under a unique name (a
// named_object), plus what Sync needs; open() (forked peer) and attach() (unrelated peer) map it by
// name; opened() and the destructor unlink. Throws std::system_error.
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

}  // namespace ipcbench
