#include "cleanup.hpp"
#include "system.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "names.hpp"
#include "retry.hpp"

namespace ipcbench::cleanup {
namespace {

constexpr int kSlots = 128;
constexpr std::size_t kNameMax = 512;

struct entry {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 live
  kind k = kind::none;
  int id = -1;
  char name[kNameMax] = {};
};

entry g_entries[kSlots];
std::atomic<bool> g_installed{false};

// The journal (see cleanup.hpp). The path is a fixed buffer so the signal handler can unlink it;
// only the process that opened it (g_journal_owner) ever removes it.
std::atomic<int> g_journal_fd{-1};
volatile pid_t g_journal_owner = 0;  // set before the file exists, cleared once it is gone
char g_journal_path[kNameMax + 64] = {};

void release_one(const entry& e) noexcept;

// A kind::fixed_names entry's name: its items, the lock file first, joined by this.
constexpr char kFixedSeparator = ':';

// Calls f(item, index) for each item of a kind::fixed_names list, NUL-terminated in a buffer of
// its own. Async-signal-safe.
template <class F>
void for_each_fixed_name(const char* list, F&& f) noexcept {
  char item[kNameMax];
  std::size_t n = 0;
  for (int index = 0;; ++list) {
    if (*list != kFixedSeparator && *list != '\0') {
      if (n + 1 < sizeof item) item[n++] = *list;
      continue;
    }
    item[n] = '\0';
    f(static_cast<const char*>(item), index++);
    n = 0;
    if (*list == '\0') return;
  }
}

// True when no process holds the flock of `lock` (or there is no such file). Tries `tries`
// times, 10 ms apart, so that a holder a sweep has just killed is gone. Async-signal-safe.
bool lock_free(const char* lock, int tries) noexcept {
  for (int i = 0; i < tries; ++i) {
    if (i > 0) {
      const timespec pause{0, 10'000'000};
      ::nanosleep(&pause, nullptr);
    }
    const int fd = ::open(lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);  // releases the lock we may have taken
    if (!held) return true;
  }
  return false;
}

// Unlinks the names of a kind::fixed_names list (every item but the lock, which goes only when
// listed again), unless a process holds the flock of its lock file; returns whether it did.
// Async-signal-safe.
bool remove_fixed_names(const char* list, int tries) noexcept {
  char lock[kNameMax] = {};
  for_each_fixed_name(list, [&lock](const char* item, int i) {
    if (i == 0) std::memcpy(lock, item, std::strlen(item) + 1);
  });
  if (!lock_free(lock, tries)) return false;
  for_each_fixed_name(list, [](const char* item, int i) {
    if (i > 0) ::unlink(item);
  });
  return true;
}

// A list as add(const fixed_names&) writes it: a lock and at least one name, all absolute.
bool valid_fixed_names(const std::string& list) {
  std::size_t items = 0;
  bool absolute = true;
  for_each_fixed_name(list.c_str(), [&](const char* item, int) {
    ++items;
    absolute = absolute && item[0] == '/';
  });
  return items >= 2 && absolute;
}

constexpr const char* kJournalSuffix = ".journal";
constexpr const char* kJournalMagic = "ipcbench-journal 1";

std::filesystem::path temp_base() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
}

// Field 22 of /proc/<pid>/stat, the start time in clock ticks since boot: with the pid it names
// one process, so a sweep never kills a process that merely reuses a dead helper's pid.
std::optional<unsigned long long> start_time(pid_t pid) {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_time;
}

void journal_write(const char* line, std::size_t n) noexcept {
  const int fd = g_journal_fd.load();
  if (fd < 0) return;
  ssize_t rc = ::write(fd, line, n);  // O_APPEND: each line lands whole
  (void)rc;
}

void journal_add(int slot, kind k, int id, const char* name) {
  if (g_journal_fd.load() < 0) return;
  unsigned long long aux = 0;
  if (k == kind::pid) aux = start_time(id).value_or(0);
  char line[kNameMax + 96];
  const int n = std::snprintf(line, sizeof line, "+%d %d %d %llu %s\n", slot, static_cast<int>(k),
                              id, aux, name != nullptr ? name : "");
  if (n > 0) journal_write(line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}

bool alive(pid_t pid) noexcept {
  return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH);
}

// The pid in "ipcbench-<pid>-...", or 0.
pid_t owner_of(const std::string& file_name) {
  constexpr std::string_view prefix = "ipcbench-";
  if (file_name.rfind(prefix, 0) != 0) return 0;
  std::size_t i = prefix.size(), digits = 0;
  long long pid = 0;
  while (i < file_name.size() && file_name[i] >= '0' && file_name[i] <= '9' && digits < 10) {
    pid = pid * 10 + (file_name[i++] - '0');
    ++digits;
  }
  if (digits == 0 || i >= file_name.size() || file_name[i] != '-') return 0;
  return static_cast<pid_t>(pid);
}

// The System V key of an object, or nullopt when it is gone.
std::optional<key_t> sysv_key(kind k, int id) {
  switch (k) {
    case kind::sysv_shm: {
      shmid_ds ds{};
      if (::shmctl(id, IPC_STAT, &ds) != 0) return std::nullopt;
      return ds.shm_perm.__key;
    }
    case kind::sysv_sem: {
      semid_ds ds{};
      if (::semctl(id, 0, IPC_STAT, &ds) != 0) return std::nullopt;
      return ds.sem_perm.__key;
    }
    case kind::sysv_msg: {
      msqid_ds ds{};
      if (::msgctl(id, IPC_STAT, &ds) != 0) return std::nullopt;
      return ds.msg_perm.__key;
    }
    default:
      return std::nullopt;
  }
}

struct journal_entry {
  kind k = kind::none;
  int id = -1;
  unsigned long long aux = 0;
  std::string name;
};

// Releases one entry of a dead run's journal, after checking that the object is still the one
// the run made: a System V id carries the run's scope in its key, a POSIX name starts with the
// scope's prefix, a path lies in an "ipcbench-" entry, a process has the start time recorded.
void release_stale(const journal_entry& e, std::uint16_t scope, sweep_result& r) {
  std::error_code ec;
  switch (e.k) {
    case kind::pid:
      if (e.aux != 0 && start_time(e.id) == e.aux && ::kill(e.id, SIGKILL) == 0) ++r.processes;
      break;
    case kind::path:
    case kind::dir:
      if (e.name.find("/ipcbench-") != std::string::npos &&
          std::filesystem::remove_all(e.name, ec) > 0 && !ec)
        ++r.entries;
      break;
    case kind::sysv_shm:
    case kind::sysv_sem:
    case kind::sysv_msg: {
      const auto key = sysv_key(e.k, e.id);
      if (!key || !names::key_in_scope(*key, scope)) break;
      entry tmp;
      tmp.k = e.k;
      tmp.id = e.id;
      release_one(tmp);
      ++r.objects;
      break;
    }
    case kind::posix_shm:
    case kind::posix_mq:
    case kind::posix_sem: {
      // The name is "/" and the scope's prefix (appended, not concatenated: GCC 12 warns
      // falsely on "literal" + std::string).
      std::string prefix(1, '/');
      prefix.append(names::scope_prefix(scope));
      if (e.name.rfind(prefix, 0) != 0) break;
      entry tmp;
      tmp.k = e.k;
      std::snprintf(tmp.name, sizeof tmp.name, "%s", e.name.c_str());
      errno = 0;
      release_one(tmp);
      if (errno == 0) ++r.objects;
      break;
    }
    case kind::fixed_names:
      // Outside our scope: removed only when the helper that owned them is gone, waiting up to a
      // second for one the pid pass has just killed.
      if (valid_fixed_names(e.name) && remove_fixed_names(e.name.c_str(), 100)) ++r.objects;
      break;
    case kind::none:
      break;
  }
}

// Replays a journal whose lock we hold: what was added and not removed is still out there.
void replay(int fd, sweep_result& r) {
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = retry_on_eintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.rfind(kJournalMagic, 0) != 0) return;
  unsigned scope = 0;
  const auto at = line.find("scope=");
  if (at == std::string::npos || std::sscanf(line.c_str() + at, "scope=%x", &scope) != 1) return;
  std::map<int, journal_entry> live;  // by slot; a slot is reused after its remove
  std::vector<int> order;
  while (std::getline(in, line)) {
    if (line.size() < 2) continue;
    if (line[0] == '-') {
      live.erase(std::atoi(line.c_str() + 1));
      continue;
    }
    if (line[0] != '+') continue;
    int slot = 0, k = 0, id = 0, used = 0;
    unsigned long long aux = 0;
    if (std::sscanf(line.c_str() + 1, "%d %d %d %llu %n", &slot, &k, &id, &aux, &used) < 4)
      continue;
    journal_entry e{static_cast<kind>(k), id, aux, line.substr(1 + static_cast<std::size_t>(used))};
    live[slot] = std::move(e);
    order.push_back(slot);
  }
  // As run_all() does: processes first, then objects, then directories.
  for (kind pass : {kind::pid, kind::none, kind::dir})
    for (const auto& [slot, e] : live) {
      const bool match = pass == kind::none ? (e.k != kind::pid && e.k != kind::dir) : e.k == pass;
      if (match) release_stale(e, static_cast<std::uint16_t>(scope), r);
    }
}

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
    case kind::fixed_names:
      // The helper, registered as a pid, was killed and reaped in the pass before.
      remove_fixed_names(e.name, 1);
      break;
    case kind::none:
      break;
  }
}

void on_signal(int sig) {
  run_all();
  close_journal();
  const char* what = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  write_stderr("\nipcbench: interrupted by ");
  write_stderr(what);
  write_stderr("; peers killed and IPC objects removed\n");
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

deferred_signals::deferred_signals() noexcept {
  sigset_t block;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_);
}

void deferred_signals::end() noexcept {
  if (!held_) return;
  held_ = false;
  ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

int add(kind k, int id, const char* name) {
  if (name != nullptr && std::strlen(name) >= kNameMax)
    throw std::length_error("cleanup name too long");
  // A signal while the entry is half written would find it skipped.
  const deferred_signals hold;
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
      journal_add(i, k, id, name);
      return i;
    }
  }
  throw std::length_error("cleanup table full");
}

int add(const fixed_names& names) {
  std::string list;
  const auto append = [&list](std::string_view item) {
    if (item.empty() || item.front() != '/' || item.find_first_of(":\n") != item.npos)
      throw std::invalid_argument("cleanup: not an absolute path without ':' or newline: " +
                                  std::string(item));
    if (!list.empty()) list += kFixedSeparator;
    list += item;
  };
  append(names.lock);
  for (const auto& p : names.paths) append(p);
  for (const auto& s : names.posix_shm) {
    if (s.size() < 2 || s.front() != '/' || s.find('/', 1) != s.npos)
      throw std::invalid_argument("cleanup: not a POSIX shared memory name: " + s);
    append("/dev/shm" + s);
  }
  return add(kind::fixed_names, -1, list.c_str());
}

void remove(int slot) noexcept {
  if (slot < 0 || slot >= kSlots) return;
  g_entries[slot].state.store(0);
  if (g_journal_fd.load() >= 0) {
    char line[24];
    const int n = std::snprintf(line, sizeof line, "-%d\n", slot);
    if (n > 0) journal_write(line, static_cast<std::size_t>(n));
  }
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
  // The parent's journal stays the parent's: close our copy of the descriptor (the lock is the
  // open file's, so the parent keeps it), and never remove it.
  const int fd = g_journal_fd.exchange(-1);
  if (fd >= 0) ::close(fd);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
}

std::string sweep_result::describe() const {
  std::string s;
  const auto part = [&s](std::size_t n, const char* one, const char* many) {
    if (n == 0) return;
    if (!s.empty()) s += ", ";
    s += std::to_string(n) + " " + (n == 1 ? one : many);
  };
  part(entries, "entry in TMPDIR", "entries in TMPDIR");
  part(objects, "kernel object", "kernel objects");
  part(processes, "helper process", "helper processes");
  return s.empty() ? "nothing" : s;
}

sweep_result sweep_stale() {
  sweep_result r;
  const auto base = temp_base();
  std::error_code ec;
  std::vector<std::filesystem::path> journals, others;
  for (const auto& de : std::filesystem::directory_iterator(base, ec)) {
    const std::string name = de.path().filename().string();
    const pid_t pid = owner_of(name);
    if (pid == 0 || pid == ::getpid()) continue;
    const bool journal = name.size() > std::strlen(kJournalSuffix) &&
                         name.compare(name.size() - std::strlen(kJournalSuffix), std::string::npos,
                                      kJournalSuffix) == 0;
    (journal ? journals : others).push_back(de.path());
  }
  for (const auto& j : journals) {
    // A live owner's journal is left alone (it may not be locked yet); a dead owner's pid may have
    // been reused, so the lock decides: only an unlocked journal of a gone pid is replayed.
    if (alive(owner_of(j.filename().string()))) continue;
    const int fd = ::open(j.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    // Only our own journals: one planted by another user in a shared TMPDIR must not make the
    // sweep unlink paths of ours (a kind::fixed_names entry may name any path).
    struct stat st {};
    const bool ours = ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid();
    if (ours && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      replay(fd, r);
      if (::unlink(j.c_str()) == 0) ++r.entries;
    }
    ::close(fd);
  }
  for (const auto& p : others) {
    if (alive(owner_of(p.filename().string()))) continue;
    std::error_code rm;
    if (std::filesystem::remove_all(p, rm) > 0 && !rm) ++r.entries;
  }
  return r;
}

void open_journal() {
  if (g_journal_fd.load() >= 0) return;
  // The name is chosen and published before the file exists, so that the signal handler removes
  // it whenever a signal lands; a sweep running beside us leaves it alone while our pid lives.
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(std::random_device{}()));
  const std::string path =
      (temp_base() / ("ipcbench-" + std::to_string(::getpid()) + "-" + suffix + kJournalSuffix))
          .string();
  if (path.size() >= sizeof g_journal_path) throw_errno("journal " + path, ENAMETOOLONG);
  g_journal_owner = 0;
  std::memcpy(g_journal_path, path.c_str(), path.size() + 1);
  g_journal_owner = ::getpid();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    g_journal_owner = 0;
    throw_errno("open(" + path + ")", err);
  }
  char head[96];
  const int n = std::snprintf(head, sizeof head, "%s scope=%04x pid=%d\n", kJournalMagic,
                              static_cast<unsigned>(names::scope()), static_cast<int>(::getpid()));
  if (::flock(fd, LOCK_EX) != 0 || n <= 0 || ::write(fd, head, static_cast<std::size_t>(n)) != n) {
    const int err = errno;
    g_journal_owner = 0;
    ::unlink(path.c_str());
    ::close(fd);
    throw_errno("journal " + path, err);
  }
  g_journal_fd.store(fd);
  // What is registered already goes in too.
  for (int i = 0; i < kSlots; ++i)
    if (g_entries[i].state.load() == 2)
      journal_add(i, g_entries[i].k, g_entries[i].id, g_entries[i].name);
  static const bool at_exit = [] { return std::atexit([] { close_journal(); }) == 0; }();
  (void)at_exit;
}

void close_journal() noexcept {
  // Async-signal-safe: the handler calls it, also while open_journal() is half done.
  if (g_journal_owner != ::getpid()) return;
  g_journal_owner = 0;
  ::unlink(g_journal_path);
  const int fd = g_journal_fd.exchange(-1);
  if (fd >= 0) ::close(fd);
}

void begin_run(const char* program) {
  // Handlers first: from here on a signal removes whatever the run has made, the journal too.
  install_signal_handlers();
  const sweep_result r = sweep_stale();
  if (!r.empty())
    std::cerr << program << ": removed what earlier killed runs left behind: " << r.describe()
              << "\n";
  open_journal();
}

}  // namespace ipcbench::cleanup
