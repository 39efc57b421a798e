#include "mechanisms/shm/posix_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <type_traits>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {
namespace {

unique_fd open_shm(const std::string& name, int flags, mode_t mode) {
  const int fd = ::shm_open(name.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0)
    throw_errno("shm_open(" + name + ((flags & O_CREAT) != 0 ? ", O_CREAT | O_EXCL)" : ")"));
  return unique_fd(fd);
}

// The policy's coordinator-side resources; those that use the placement take the config.
template <class R>
R make_resources(const channel_config& cfg) {
  if constexpr (std::is_constructible_v<R, const channel_config&>)
    return R(cfg);
  else
    return R();
}

// The policy's end for role r: a policy whose waking side holds something from the start
// (rwlock_sync) takes the role.
template <class R>
auto open_sync(const R& res, role r) {
  if constexpr (requires { res.open(r); })
    return res.open(r);
  else
    return res.open();
}

template <class R>
auto attach_sync(const nlohmann::json& j, role r) {
  if constexpr (requires { R::attach(j, r); })
    return R::attach(j, r);
  else
    return R::attach(j);
}

mapping map_shm(const std::string& name) {
  unique_fd fd = open_shm(name, O_RDWR, 0);
  return shm::map_segment(fd.get(), name);  // the mapping outlives the descriptor
}

}  // namespace

template <class Sync>
mechanism_traits posix_shm_channel<Sync>::describe() {
  mechanism_traits t;
  t.mechanism = "posix_shm";
  t.variant = Sync::kName;
  t.id = t.mechanism + "." + t.variant;
  shm::describe_ring(t);
  t.related_only = false;
  t.wait = Sync::kWait;
  t.spins = Sync::kSpins || Sync::kSpinNs > 0 || requires {
    Sync::kPolls;
  };
  t.description =
      std::string("POSIX shared memory (shm_open + mmap), a byte ring per direction, ") +
      "synchronised by " + Sync::kSynchronised + "; names unlinked once both peers opened them";
  // glibc's shm_open and sem_open work on files in /dev/shm.
  struct statfs fs {};
  if (::statfs("/dev/shm", &fs) != 0) throw_errno("statfs(/dev/shm)");
  if constexpr (Sync::kSpins)
    t.notes["cpu"] =
        "a waiting peer spins and burns its CPU; when the peers may share a CPU (placement same "
        "or none) it yields after 1024 spins, on CPUs of their own never";
  if constexpr (requires { Sync::add_notes(t); }) Sync::add_notes(t);
  if constexpr (Sync::kSpinNs > 0) {
    t.notes["spin_bound_ns"] = std::to_string(Sync::kSpinNs);
    t.notes["cpu"] =
        "a waiting peer spins for at most " + std::to_string(Sync::kSpinNs / 1000) +
        " us (clock read every " + std::to_string(Sync::kClockEvery) +
        " iterations; sched_yield() instead of pause when the peers may share a CPU), then "
        "sleeps in futex(2); cpu_ns_per_message shows the spin's cost";
  }
  return t;
}

template <class Sync>
posix_shm_channel<Sync>::posix_shm_channel(const channel_config& cfg)
    : sync_(make_resources<typename Sync::resources>(cfg)) {
  name_ = named_object(named_object::kind::posix_shm, names::unique_posix_name());
  unique_fd fd = open_shm(name_.name(), O_RDWR | O_CREAT | O_EXCL, 0600);
  name_.created();
  // New objects read as zero, which is the segment's initial state. When this throws, name_
  // (a member, fully built) unlinks the object.
  check(::ftruncate(fd.get(), static_cast<off_t>(shm::kSegmentBytes)),
        "ftruncate(" + name_.name() + ", " + std::to_string(shm::kSegmentBytes) + ")");
}

template <class Sync>
void posix_shm_channel<Sync>::opened() noexcept {
  // Both peers have mapped the segment and opened the semaphores: the mappings and handles keep
  // them alive, and a killed run can leave no name behind.
  name_.unlink();
  sync_.opened();
}

template <class Sync>
typename posix_shm_channel<Sync>::endpoint posix_shm_channel<Sync>::open(role r) {
  return endpoint(map_shm(name_.name()), open_sync(sync_, r), r);
}

template <class Sync>
nlohmann::json posix_shm_channel<Sync>::rendezvous() const {
  return {{"name", name_.name()}, {"sync", sync_.rendezvous()}};
}

template <class Sync>
typename posix_shm_channel<Sync>::endpoint posix_shm_channel<Sync>::attach(const nlohmann::json& j,
                                                                           role r) {
  return endpoint(map_shm(j.at("name").get<std::string>()),
                  attach_sync<typename Sync::resources>(j.at("sync"), r), r);
}

template class posix_shm_channel<posix_sem_sync>;
template class posix_shm_channel<futex_sync>;
template class posix_shm_channel<adaptive_sync>;
template class posix_shm_channel<spin_sync>;
template class posix_shm_channel<mutex_cond_sync>;
template class posix_shm_channel<spinlock_sync>;
template class posix_shm_channel<rwlock_sync>;
template class posix_shm_channel<unnamed_sem_sync>;

static_assert(named_channel<posix_shm_channel<posix_sem_sync>>);
static_assert(named_channel<posix_shm_channel<futex_sync>>);
static_assert(named_channel<posix_shm_channel<adaptive_sync>>);
static_assert(named_channel<posix_shm_channel<spin_sync>>);
static_assert(named_channel<posix_shm_channel<mutex_cond_sync>>);
static_assert(named_channel<posix_shm_channel<spinlock_sync>>);
static_assert(named_channel<posix_shm_channel<rwlock_sync>>);
static_assert(named_channel<posix_shm_channel<unnamed_sem_sync>>);

}  // namespace ipcbench
