// named_object owns one name in a kernel namespace: a path (a FIFO, a file, a socket) or a POSIX
// message queue, semaphore or shared-memory object. It registers the name with the emergency
// cleanup before the name exists, so that a signal right after creation leaks nothing; it
// remembers whether the name is ours (created()), and unlink() removes only a name that is, as
// early as the mechanism allows (after both peers opened it) or at the latest on destruction.
// Move-only. Coordinator side: a forked child drops the registration (cleanup::reset_in_child).
#pragma once

#include <string>

#include "cleanup.hpp"

namespace ipcbench {

class named_object {
 public:
  enum class kind { path, posix_mq, posix_sem, posix_shm };

  named_object() noexcept = default;
  // Registers `name` with the emergency cleanup; it is not ours until created(), so a creation
  // that fails (EEXIST: someone else's) leaves it alone. Throws std::length_error when the
  // cleanup table is full or the name too long.
  named_object(kind k, std::string name);
  named_object(named_object&& o) noexcept;
  named_object& operator=(named_object&& o) noexcept;
  named_object(const named_object&) = delete;
  named_object& operator=(const named_object&) = delete;
  ~named_object() { unlink(); }

  // The name exists now and is ours to remove: we created it exclusively, or a peer of ours
  // will (a socket path its consumer binds).
  void created() noexcept { created_ = true; }
  // Removes the name if it is ours (unlink, mq_unlink, sem_unlink or shm_unlink; what already
  // holds the object keeps it) and drops the registration. Idempotent; name() stays valid.
  void unlink() noexcept;

  const std::string& name() const noexcept { return name_; }
  const char* c_str() const noexcept { return name_.c_str(); }

 private:
  kind kind_ = kind::path;
  std::string name_;
  bool created_ = false;
  cleanup::guard guard_;
};

}  // namespace ipcbench
