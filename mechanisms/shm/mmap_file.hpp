// mmap(2) with MAP_SHARED of a regular file in the run's private temporary directory, carrying a
// byte ring per direction (shm_ring.hpp); a receiver with nothing to read sleeps in futex(2)
// FUTEX_WAIT on the ring position. The file is unlinked once both peers have mapped it.
#pragma once

#include <filesystem>

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/shm_ring.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// The constructor (coordinator, before fork) creates the file O_CREAT | O_EXCL with mode 0600 in
// channel_config::dir and sizes it (a named_object); open() (forked peer)
// and attach() (unrelated peer, by path: it must still exist, so the unlink waits for opened())
// map it; opened() and the destructor unlink it. Throws std::system_error.
class mmap_file_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  using endpoint = shm_endpoint<futex_sync>;
  static mechanism_traits describe();
  explicit mmap_file_channel(const channel_config& cfg);
  mmap_file_channel(const mmap_file_channel&) = delete;
  mmap_file_channel& operator=(const mmap_file_channel&) = delete;
  void opened() noexcept;
  endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"path": "..."}
  static endpoint attach(const nlohmann::json& j, role r);

 private:
  named_object path_;
};

}  // namespace ipcbench
