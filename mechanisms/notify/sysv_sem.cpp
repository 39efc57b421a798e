#include "mechanisms/notify/sysv_sem.hpp"

#include <sys/ipc.h>
#include <sys/sem.h>

#include <string>

#include "mechanisms/notify/notification_traits.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr unsigned short kForward = 0;  // posted by the producer, awaited by the consumer
constexpr unsigned short kBack = 1;     // posted by the consumer, awaited by the producer

// semctl(2) wants the caller to define this union.
union semun {
  int val;
  semid_ds* buf;
  unsigned short* array;
};

// "semop(semid 7, +1)", appended piecewise: "literal" + std::string trips GCC 12's -Wrestrict
// false positive.
std::string call_on(const char* call, int semid, const char* what) {
  std::string s = call;
  s += "(semid ";
  s += std::to_string(semid);
  s += what;
  return s;
}

}  // namespace

io_status sysv_sem_endpoint::send(std::span<const std::byte>) {
  sembuf op{post_, 1, 0};
  if (retry_on_eintr([&] { return ::semop(semid_, &op, 1); }) == 0) return io_status::ok;
  if (errno == EIDRM) return io_status::closed;
  throw_errno(call_on("semop", semid_, ", +1)"));
}

std::ptrdiff_t sysv_sem_endpoint::receive(std::span<std::byte>) {
  sembuf op{wait_, -1, 0};
  if (retry_on_eintr([&] { return ::semop(semid_, &op, 1); }) == 0) return 0;
  if (errno == EIDRM) return kPeerGone;
  throw_errno(call_on("semop", semid_, ", -1)"));
}

mechanism_traits sysv_sem_channel::describe() {
  mechanism_traits t =
      notification_traits("sysv_sem", "semop(2) -1, untimed",
                          "System V semaphore set of two, one per direction, semop +1 / -1");
  if (auto v = read_first_line("/proc/sys/kernel/sem")) t.notes["kernel.sem"] = *v;
  t.notes["SEM_UNDO"] = "not used (no semaphore is held across a peer's death)";
  t.notes["waits"] =
      "untimed; a dead partner is found by the coordinator, which kills the survivor";
  return t;
}

sysv_sem_channel::sysv_sem_channel(const channel_config&) {
  key_t key = 0;
  semid_ = names::create_with_unique_key(
      [](key_t k) { return ::semget(k, 2, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
  guard_ = cleanup::guard(cleanup::kind::sysv_sem, semid_);
  // Linux starts new semaphores at 0, but POSIX leaves them undefined until set.
  unsigned short zero[2] = {0, 0};
  semun arg{};
  arg.array = zero;
  if (::semctl(semid_, 0, SETALL, arg) < 0) {
    const int err = errno;
    ::semctl(semid_, 0, IPC_RMID);
    throw_errno(call_on("semctl", semid_, ", SETALL)"), err);
  }
}

sysv_sem_channel::~sysv_sem_channel() {
  if (semid_ >= 0) ::semctl(semid_, 0, IPC_RMID);
  guard_.release();
}

sysv_sem_endpoint sysv_sem_channel::open(role r) const {
  return r == role::producer ? sysv_sem_endpoint(semid_, kForward, kBack)
                             : sysv_sem_endpoint(semid_, kBack, kForward);
}

}  // namespace ipcbench
