// Where the policies built on pthread objects and unnamed semaphores (mutex_cond_sync,
// spinlock_sync, rwlock_sync, unnamed_sem_sync) keep them: a small POSIX shared-memory object of
// the policy's own, beside the ring's segment, so any segment (and any later mechanism) can carry
// the same policy. The coordinator creates it (O_CREAT | O_EXCL, mode 0600, a unique name
// registered with the emergency cleanup through named_object), maps it and initialises the
// primitives in it once: process-shared (PTHREAD_PROCESS_SHARED, sem_init(.., 1, ..)) when the
// peers are processes, process-private when they are threads of one process
// (channel_config::peers_are_threads). opened() unlinks the name; the peers' mappings keep the
// object until the last one goes.
//
// The primitives are never destroyed: pthread_cond_destroy(3) in glibc waits for the waiters it
// still counts, and a peer killed inside pthread_cond_wait is counted for ever, so a destroy in
// the coordinator could hang it. glibc's mutexes, condition variables, rwlocks, spinlocks and
// semaphores hold nothing but their bytes, which go with the object.
//
// Thread peers share the coordinator's one mapping instead of mapping the object again:
// process-private primitives wait on private futexes, which the kernel keys by virtual address,
// so two mappings of one object in one process would be two different futexes.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/mapping.hpp"
#include "sys/named.hpp"

namespace ipcbench::shm {

class sync_object {
 public:
  // Coordinator, before fork: creates and maps an object of `bytes` zeroed bytes. Throws
  // std::system_error.
  sync_object(std::size_t bytes, bool peers_are_threads);
  std::byte* data() const noexcept { return map_->data(); }
  const std::string& name() const noexcept { return name_.name(); }
  void opened() noexcept { name_.unlink(); }
  // A peer's mapping: the object mapped anew by name (a forked peer), or, for thread peers, the
  // coordinator's own. Throws std::system_error.
  std::shared_ptr<const mapping> open() const;
  // An unrelated peer's mapping, by name; checks the object has `bytes` bytes.
  static std::shared_ptr<const mapping> attach(const std::string& name, std::size_t bytes);

 private:
  named_object name_;
  std::size_t bytes_;
  bool threads_;
  std::shared_ptr<const mapping> map_;
};

// What a peer's policy is made from: the object, whether the peers may share a CPU (spinning
// waiters yield only then), and the peer's role (a policy whose waker must hold something from
// the start takes it when the end is opened).
struct sync_view {
  std::shared_ptr<const mapping> map;
  bool share_cpu = true;
  role r = role::producer;
};

// "PTHREAD_PROCESS_SHARED" or "PTHREAD_PROCESS_PRIVATE", for rendezvous() and errors.
const char* pshared_name(bool pshared) noexcept;

// The coordinator side of a policy P whose primitives live in a sync_object: P::state (the
// primitives), P::init(state&, bool pshared) (coordinator, once), and P(sync_view) in a peer.
// Throws std::system_error (creation, mapping, initialisation).
template <class P>
class object_resources {
  static_assert(std::is_trivially_destructible_v<typename P::state>,
                "never destroyed: the object's bytes go with its last mapping");

 public:
  explicit object_resources(const channel_config& cfg)
      : object_(sizeof(typename P::state), cfg.peers_are_threads),
        pshared_(!cfg.peers_are_threads),
        share_cpu_(cfg.peers_share_cpu) {
    P::init(*::new (object_.data()) typename P::state, pshared_);
  }
  nlohmann::json rendezvous() const {
    return {{"object", object_.name()},
            {"pshared", pshared_name(pshared_)},
            {"peers_share_cpu", share_cpu_}};
  }
  void opened() noexcept { object_.opened(); }
  P open(role r) const { return P(sync_view{object_.open(), share_cpu_, r}); }
  // In an unrelated process: only process-shared primitives may be used there.
  static P attach(const nlohmann::json& j, role r) {
    if (j.at("pshared").get<std::string>() != pshared_name(true))
      throw std::invalid_argument("attach: the primitives are " +
                                  j.at("pshared").get<std::string>() +
                                  ", usable by threads of the coordinator only");
    return P(
        sync_view{sync_object::attach(j.at("object").get<std::string>(), sizeof(typename P::state)),
                  j.at("peers_share_cpu").get<bool>(), r});
  }

 private:
  sync_object object_;
  bool pshared_;
  bool share_cpu_;
};

// The policy's state in a peer's mapping.
template <class State>
State* state_in(const mapping& m) noexcept {
  return std::launder(reinterpret_cast<State*>(m.data()));
}

}  // namespace ipcbench::shm
