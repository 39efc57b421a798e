// Emergency cleanup of kernel objects and child processes when the coordinator is interrupted.
// Owners register what they create and unregister when they release it; on SIGINT, SIGTERM or
// SIGHUP the handler kills registered children and removes registered objects, newest first,
// using only async-signal-safe calls, then dies of the same signal. Coordinator side only; a
// forked child calls reset_in_child() so it never cleans up its parent's objects.
#pragma once

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
  posix_sem
};

// Registers an object; returns a slot for remove(). `name` (paths, POSIX names) is copied.
// Throws std::length_error when the table is full or the name too long.
int add(kind k, int id, const char* name = nullptr);
void remove(int slot) noexcept;

// Installs the handler for SIGINT, SIGTERM and SIGHUP. Idempotent.
void install_signal_handlers();

// Removes every registered object now (async-signal-safe). Used by the handler and by tests.
void run_all() noexcept;

// Forgets every entry and restores default signal dispositions (after fork, in the child).
void reset_in_child() noexcept;

// RAII registration.
class guard {
 public:
  guard() noexcept = default;
  guard(kind k, int id, const char* name = nullptr) : slot_(add(k, id, name)) {}
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
