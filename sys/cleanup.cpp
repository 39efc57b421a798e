#include "cleanup.hpp"

#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

#include "error.hpp"

namespace ipcbench::cleanup {
namespace {

constexpr int kSlots = 128;
constexpr std::size_t kNameMax = 256;

struct entry {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 live
  kind k = kind::none;
  int id = -1;
  char name[kNameMax] = {};
};

entry g_entries[kSlots];
std::atomic<bool> g_installed{false};

void write_stderr(const char* s) noexcept {
  ssize_t rc = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)rc;
}

void release_one(const entry& e) noexcept {
  switch (e.k) {
    case kind::pid:
      ::kill(e.id, SIGKILL);
      ::waitpid(e.id, nullptr, 0);
      break;
    case kind::path:
      ::unlink(e.name);
      break;
    case kind::dir:
      ::rmdir(e.name);
      break;
    case kind::sysv_shm:
      ::shmctl(e.id, IPC_RMID, nullptr);
      break;
    case kind::sysv_sem:
      ::semctl(e.id, 0, IPC_RMID);
      break;
    case kind::sysv_msg:
      ::msgctl(e.id, IPC_RMID, nullptr);
      break;
    case kind::posix_shm:
      ::shm_unlink(e.name);
      break;
    case kind::posix_mq:
      ::mq_unlink(e.name);
      break;
    case kind::posix_sem:
      ::sem_unlink(e.name);
      break;
    case kind::none:
      break;
  }
}

void on_signal(int sig) {
  run_all();
  const char* what = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  write_stderr("\nipcbench: interrupted by ");
  write_stderr(what);
  write_stderr("; peers killed and IPC objects removed\n");
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int add(kind k, int id, const char* name) {
  if (name != nullptr && std::strlen(name) >= kNameMax)
    throw std::length_error("cleanup name too long");
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_entries[i].state.compare_exchange_strong(expected, 1)) {
      entry& e = g_entries[i];
      e.k = k;
      e.id = id;
      if (name != nullptr)
        std::strcpy(e.name, name);
      else
        e.name[0] = '\0';
      e.state.store(2);
      return i;
    }
  }
  throw std::length_error("cleanup table full");
}

void remove(int slot) noexcept {
  if (slot >= 0 && slot < kSlots) g_entries[slot].state.store(0);
}

void run_all() noexcept {
  // Newest first: children before the objects they use, files before their directory. Slots
  // are reused, so order by a second pass: pids, then objects, then directories.
  for (kind pass : {kind::pid, kind::none, kind::dir}) {
    for (int i = kSlots - 1; i >= 0; --i) {
      entry& e = g_entries[i];
      if (e.state.load() != 2) continue;
      bool match = pass == kind::none ? (e.k != kind::pid && e.k != kind::dir) : e.k == pass;
      if (!match) continue;
      release_one(e);
      e.state.store(0);
    }
  }
}

void install_signal_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) check(::sigaction(sig, &sa, nullptr), "sigaction");
}

void reset_in_child() noexcept {
  for (auto& e : g_entries) e.state.store(0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
}

}  // namespace ipcbench::cleanup
