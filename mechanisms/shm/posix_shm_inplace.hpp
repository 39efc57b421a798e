// POSIX shared memory with the message read where it lies: posix_shm_channel's segment, names
// and synchronisation (posix_shm.hpp), its rings laid out so a message is always contiguous
// (shm_inplace_ring.hpp). The producer writes each message straight into the ring (the harness's
// pattern computed in place, harness/peer.hpp loaning_sender), the consumer checks it there and
// only then releases its space (in_place_receiver): no copy on either side, where the copying
// variants make two. The variant is the synchronisation (futex_sync, spin_sync) followed by
// ".inplace". Create, open, attach and unlink as posix_shm_channel. Throws std::system_error.
#pragma once

#include "mechanisms/adapter.hpp"
#include "mechanisms/shm/posix_shm.hpp"
#include "mechanisms/shm/shm_inplace_ring.hpp"

namespace ipcbench {

template <class Sync>
class posix_shm_inplace_channel {
 public:
  // open(role) opens by name and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  using endpoint = shm_inplace_endpoint<Sync>;
  static mechanism_traits describe();
  explicit posix_shm_inplace_channel(const channel_config& cfg) : ch_(cfg) {}
  posix_shm_inplace_channel(const posix_shm_inplace_channel&) = delete;
  posix_shm_inplace_channel& operator=(const posix_shm_inplace_channel&) = delete;
  void opened() noexcept { ch_.opened(); }
  endpoint open(role r) { return endpoint(ch_.open(r)); }
  nlohmann::json rendezvous() const { return ch_.rendezvous(); }  // as posix_shm_channel's
  static endpoint attach(const nlohmann::json& j, role r) {
    return endpoint(posix_shm_channel<Sync>::attach(j, r));
  }

 private:
  posix_shm_channel<Sync> ch_;
};

extern template class posix_shm_inplace_channel<futex_sync>;
extern template class posix_shm_inplace_channel<spin_sync>;

}  // namespace ipcbench
