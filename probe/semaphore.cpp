// Claim 8: semop(2) with SEM_UNDO: the kernel reverts a process's adjustments when it exits, so a
// semaphore held by a process that dies is released. Without SEM_UNDO it stays held.
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include <cerrno>

#include "probe/probe.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

// semctl(2): the caller defines this union.
union semun {
  int val;
  semid_ds* buf;
  unsigned short* array;
};

class sem_set {
 public:
  sem_set()
      : id_([] {
          key_t key = 0;
          return names::create_with_unique_key(
              [](key_t k) { return ::semget(k, 1, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
        }()),
        guard_(cleanup::kind::sysv_sem, id_) {}
  sem_set(const sem_set&) = delete;
  sem_set& operator=(const sem_set&) = delete;
  ~sem_set() { ::semctl(id_, 0, IPC_RMID); }
  int id() const noexcept { return id_; }
  void set(int v) {
    semun arg{};
    arg.val = v;
    check(::semctl(id_, 0, SETVAL, arg), "semctl(SETVAL)");
  }
  int get() const { return check(::semctl(id_, 0, GETVAL), "semctl(GETVAL)"); }

 private:
  int id_;
  cleanup::guard guard_;
};

// A child takes the semaphore (with or without SEM_UNDO), says so, and waits to be killed.
// Returns {value while held, value after the holder was killed}.
std::pair<int, int> hold_and_die(sem_set& s, short flags, const deadline& d) {
  s.set(1);
  auto taken = make_pipe();
  child_process holder = child_process::fork([&]() -> int {
    taken.read_end.reset();
    sembuf op{0, -1, flags};
    check(::semop(s.id(), &op, 1), "semop(-1)");
    announce(taken.write_end.get());
    for (;;) ::pause();
  });
  taken.write_end.reset();
  if (!wait_readable(taken.read_end.get(), d.left()))
    throw probe_timeout("waiting for the child to take the semaphore");
  const int held = s.get();
  holder.kill_and_reap();
  return {held, s.get()};
}

outcome undo(const deadline& d) {
  sem_set s;
  const auto [held_undo, after_undo] = hold_and_die(s, SEM_UNDO, d);
  const auto [held_plain, after_plain] = hold_and_die(s, 0, d);
  outcome o;
  o.value = {{"SEM_UNDO: held, after SIGKILL", {held_undo, after_undo}},
             {"no SEM_UNDO: held, after SIGKILL", {held_plain, after_plain}}};
  o.result = held_undo == 0 && after_undo == 1 ? verdict::holds : verdict::does_not_hold;
  o.detail =
      "a child took the semaphore (1 -> 0) and was killed with SIGKILL: with SEM_UNDO the "
      "value went back to " +
      std::to_string(after_undo) + "; without SEM_UNDO it stayed at " +
      std::to_string(after_plain) + " (POSIX semaphores have no such undo)";
  return o;
}

}  // namespace

std::vector<probe> semaphore_probes() {
  return {
      {"sysv_sem_undo", "SEM_UNDO releases a System V semaphore held by a process that dies",
       "tutorial 003, section '5、信号量机制' (semaphores: sem_flg = SEM_UNDO); man 2 semop "
       "(SEM_UNDO)",
       "semget a 1-semaphore set at 1; a forked child does semop(-1, SEM_UNDO) and is killed with "
       "SIGKILL; read GETVAL; repeat without SEM_UNDO",
       undo},
  };
}

}  // namespace ipcbench::probes
