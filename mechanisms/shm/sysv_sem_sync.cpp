#include "mechanisms/shm/sysv_sem_sync.hpp"

#include <sys/ipc.h>
#include <sys/sem.h>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
sysv_sem_sync::resources::resources() {
  key_t key = 0;
  semid_ = names::create_with_unique_key(
      [](key_t k) { return ::semget(k, kBells, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
  guard_ = cleanup::guard(cleanup::kind::sysv_sem, semid_);
  // Linux creates the values as zero; POSIX leaves them unspecified, so set them.
  unsigned short zero[kBells] = {};
  if (::semctl(semid_, 0, SETALL, zero) != 0) {
    const int err = errno;
    ::semctl(semid_, 0, IPC_RMID);
    throw_errno("semctl(key " + names::key_text(key) + ", SETALL)", err);
  }
}

sysv_sem_sync::resources::~resources() {
  if (semid_ >= 0) ::semctl(semid_, 0, IPC_RMID);
  guard_.release();
}

shm::sleep_result sysv_sem_sync::sleep(int bell, std::uint32_t*, std::uint32_t) {
  sembuf op{static_cast<unsigned short>(bell), -1, 0};
  if (::semop(semid_, &op, 1) == 0) return shm::sleep_result::posted;
  if (errno == EINTR) return shm::sleep_result::interrupted;
  throw_errno("semop(semid " + std::to_string(semid_) + ", -1)");
}

void sysv_sem_sync::wake(int bell, std::uint32_t*) {
  sembuf op{static_cast<unsigned short>(bell), 1, 0};
  if (retry_on_eintr([&] { return ::semop(semid_, &op, 1); }) != 0)
    throw_errno("semop(semid " + std::to_string(semid_) + ", +1)");
}

}  // namespace ipcbench
