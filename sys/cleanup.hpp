// Emergency cleanup of kernel objects and child processes when the coordinator is interrupted.
// Owners register what they create and unregister when they release it; on SIGINT, SIGTERM or
// SIGHUP the handler kills registered children and removes registered objects, newest first,
// using only async-signal-safe calls, then dies of the same signal. Coordinator side only; a
// forked child calls reset_in_child() so it never cleans up its parent's objects.
//
// SIGKILL leaves no handler to run, so a coordinator program also keeps a journal: every add()
// and remove() is appended to "$TMPDIR/ipcbench-<pid>-<random>.journal", which the process holds
// locked (flock) until it exits. The next run's sweep_stale() replays the journal of every dead
// run (unlocked), removes the objects still registered there and kills the helper processes
// still running, and removes the other "ipcbench-<pid>-..." entries of dead processes in $TMPDIR
// (private directories, temporary files of run_all.sh).
#pragma once

#include <signal.h>

#include <cstddef>
#include <string>
#include <vector>

namespace ipcbench::cleanup {

enum class kind : int {
  none = 0,
  pid,
  path,
  dir,
  sysv_shm,
  sysv_sem,
  sysv_msg,
  posix_shm,
  posix_mq,
  posix_sem,
  // A helper daemon's fixed, machine-wide names, outside our scope (struct fixed_names below),
  // registered with add(const fixed_names&) by the code that started the helper, once its names
  // are its. The signal handler and a sweep remove them only when no process holds the flock of
  // the helper's lock file, so they never touch the names of another instance of that helper.
  fixed_names
};

// Registers an object; returns a slot for remove(). `name` (paths, POSIX names) is copied.
// Throws std::length_error when the table is full or the name too long.
int add(kind k, int id, const char* name = nullptr);

// The names of a kind::fixed_names entry: absolute paths without ':' or newlines. They are kept
// in the entry itself, "lock:path:...:/dev/shm/name" (the handler allocates nothing) and in the
// journal, so together they must fit in 511 bytes.
struct fixed_names {
  std::string lock;                    // the helper holds its flock while it runs
  std::vector<std::string> paths;      // unlinked (the lock file too, when listed here)
  std::vector<std::string> posix_shm;  // "/name": unlinked as /dev/shm/name, where glibc keeps it
};
// Registers `names` (kind::fixed_names); returns a slot for remove(). Throws
// std::invalid_argument for a name that is not absolute or holds ':' or a newline, and
// std::length_error as add() does.
int add(const fixed_names& names);
void remove(int slot) noexcept;

// Installs the handler for SIGINT, SIGTERM and SIGHUP. Idempotent.
void install_signal_handlers();

// Removes every registered object now (async-signal-safe). Used by the handler and by tests.
void run_all() noexcept;

// Forgets every entry and restores default signal dispositions (after fork, in the child).
void reset_in_child() noexcept;

// What sweep_stale() removed.
struct sweep_result {
  std::size_t entries = 0;    // files and directories of dead runs in $TMPDIR
  std::size_t objects = 0;    // System V and POSIX objects
  std::size_t processes = 0;  // helper processes still running
  bool empty() const noexcept { return entries + objects + processes == 0; }
  // "2 entries in /tmp, 1 kernel object" (what was removed), for one line of output.
  std::string describe() const;
};

// Removes what runs killed before they could clean up left behind (see above). Never touches a
// live process's entries; errors are skipped, not thrown.
sweep_result sweep_stale();

// Starts this process's journal (see above). Throws std::system_error when it cannot be created.
// Idempotent; the journal is removed at normal exit and by the signal handler.
void open_journal();
// Closes and removes the journal now. Idempotent.
void close_journal() noexcept;

// A coordinator program's start: install_signal_handlers(), sweep_stale() (one line on stderr,
// prefixed by `program`, when it removed anything) and open_journal().
void begin_run(const char* program);

// Holds SIGINT, SIGTERM and SIGHUP back while in scope (they are delivered when it ends), so that
// making an object and registering it is one step as far as the handler can see.
//
// Across fork() the child inherits the held signals and the parent's handler: it calls
// reset_in_child() and then end() (both async-signal-safe), so a signal meant for the parent is
// never handled with the parent's table in the child.
class deferred_signals {
 public:
  deferred_signals() noexcept;
  ~deferred_signals() { end(); }
  deferred_signals(const deferred_signals&) = delete;
  deferred_signals& operator=(const deferred_signals&) = delete;
  // Restores the mask from before; the held signals are delivered now. Idempotent.
  void end() noexcept;

 private:
  sigset_t old_;
  bool held_ = true;
};

// RAII registration.
class guard {
 public:
  guard() noexcept = default;
  guard(kind k, int id, const char* name = nullptr) : slot_(add(k, id, name)) {}
  explicit guard(const fixed_names& names) : slot_(add(names)) {}
  guard(guard&& o) noexcept : slot_(o.slot_) { o.slot_ = -1; }
  guard& operator=(guard&& o) noexcept {
    if (this != &o) {
      release();
      slot_ = o.slot_;
      o.slot_ = -1;
    }
    return *this;
  }
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;
  ~guard() { release(); }
  void release() noexcept {
    if (slot_ >= 0) remove(slot_);
    slot_ = -1;
  }

 private:
  int slot_ = -1;
};

}  // namespace ipcbench::cleanup
