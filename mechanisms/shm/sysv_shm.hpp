// System V shared memory (shmget(2) + shmat(2)) carrying a byte ring per direction
// (shm_ring.hpp), synchronised by a System V semaphore set: a receiver with nothing to read
// sleeps in semop(2), untimed. The segment is marked IPC_RMID once both peers have attached; the
// semaphore set cannot be (removal takes effect at once) and is removed at the end.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/shm_ring.hpp"
#include "mechanisms/shm/sysv_sem_sync.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {

// The constructor (coordinator, before fork) creates the segment and the semaphore set under
// unique keys with IPC_CREAT | IPC_EXCL and mode 0600, both registered with the emergency
// cleanup; open() (forked peer) and attach() (unrelated peer, by shmid and semid) attach them;
// opened() removes the segment's id, the destructor whatever is left. Throws std::system_error.
class sysv_shm_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  using endpoint = shm_endpoint<sysv_sem_sync>;
  static mechanism_traits describe();
  explicit sysv_shm_channel(const channel_config& cfg);
  ~sysv_shm_channel();
  sysv_shm_channel(const sysv_shm_channel&) = delete;
  sysv_shm_channel& operator=(const sysv_shm_channel&) = delete;
  void opened() noexcept;
  endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"shmid": n, "sync": {"semid": m}}
  static endpoint attach(const nlohmann::json& j, role r);

 private:
  void remove_segment() noexcept;

  sysv_sem_sync::resources sems_;
  int shmid_ = -1;
  cleanup::guard guard_;
};

}  // namespace ipcbench
