// Anonymous shared memory (mmap(2) MAP_SHARED | MAP_ANONYMOUS) created by the coordinator before
// fork and inherited by both peers, carrying a byte ring per direction (shm_ring.hpp); a receiver
// with nothing to read sleeps in futex(2) FUTEX_WAIT on the ring position. Related processes only:
// there is no name to open.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/shm_ring.hpp"

namespace ipcbench {

// The constructor (coordinator, before fork) maps the memory; open() (forked peer) takes the
// inherited mapping; opened() drops the coordinator's. Nothing has a name, so nothing can leak.
// Throws std::system_error.
class mmap_anon_channel {
 public:
  static constexpr const char* kNoThreadPeers =
      "its one anonymous mapping reaches each peer in the peer's forked copy of the channel, and "
      "one process has one copy";
  using endpoint = shm_endpoint<futex_sync>;
  static mechanism_traits describe();
  explicit mmap_anon_channel(const channel_config& cfg);
  void opened() noexcept;
  endpoint open(role r);

 private:
  mapping map_;
};

}  // namespace ipcbench
