#include "mechanisms/shm/sysv_shm.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <stdexcept>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

mapping attach_segment(int shmid) {
  const std::string what = "shmid " + std::to_string(shmid);
  shmid_ds ds{};
  check(::shmctl(shmid, IPC_STAT, &ds), "shmctl(" + what + ", IPC_STAT)");
  if (ds.shm_segsz != shm::kSegmentBytes)
    throw std::system_error(EINVAL, std::system_category(),
                            what + " has " + std::to_string(ds.shm_segsz) + " bytes, expected " +
                                std::to_string(shm::kSegmentBytes));
  void* p = ::shmat(shmid, nullptr, 0);
  if (p == reinterpret_cast<void*>(-1)) throw_errno("shmat(" + what + ")");
  return mapping(p, shm::kSegmentBytes, mapping::detach::shmdt);
}

}  // namespace

mechanism_traits sysv_shm_channel::describe() {
  mechanism_traits t;
  t.mechanism = "sysv_shm";
  t.variant = sysv_sem_sync::kName;
  t.id = t.mechanism + "." + t.variant;
  shm::describe_ring(t);
  t.related_only = false;
  t.wait = sysv_sem_sync::kWait;
  t.description =
      "System V shared memory (shmget + shmat), a byte ring per direction, synchronised by a "
      "System V semaphore set; segment IPC_RMID once both peers attached";
  // The kernel's limits on the segment and the set are read here; the messages themselves have
  // none, they stream through the ring. shmmax is often near 2^64, beyond long long.
  const auto shmmax = read_integer<unsigned long long>("/proc/sys/kernel/shmmax");
  if (shmmax && *shmmax < shm::kSegmentBytes)
    throw std::runtime_error("the segment needs " + std::to_string(shm::kSegmentBytes) +
                             " bytes, /proc/sys/kernel/shmmax = " + std::to_string(*shmmax));
  t.notes["shmmax"] = shmmax ? std::to_string(*shmmax) : "unreadable";
  auto sem = read_first_line("/proc/sys/kernel/sem").value_or("unreadable");
  std::replace(sem.begin(), sem.end(), '\t', ' ');
  t.notes["sem"] = "SEMMSL SEMMNS SEMOPM SEMMNI = " + sem;
  return t;
}

sysv_shm_channel::sysv_shm_channel(const channel_config&) {
  key_t key = 0;
  shmid_ = names::create_with_unique_key(
      [](key_t k) { return ::shmget(k, shm::kSegmentBytes, IPC_CREAT | IPC_EXCL | 0600); },
      "shmget", key);
  guard_ = cleanup::guard(cleanup::kind::sysv_shm, shmid_);
}

sysv_shm_channel::~sysv_shm_channel() {
  remove_segment();
}

void sysv_shm_channel::remove_segment() noexcept {
  // Marked for removal: the segment lives on while attached and goes with the last shmdt.
  if (shmid_ >= 0) ::shmctl(shmid_, IPC_RMID, nullptr);
  shmid_ = -1;
  guard_.release();
}

void sysv_shm_channel::opened() noexcept {
  remove_segment();
}

sysv_shm_channel::endpoint sysv_shm_channel::open(role r) {
  return endpoint(attach_segment(shmid_), sems_.open(), r);
}

nlohmann::json sysv_shm_channel::rendezvous() const {
  return {{"shmid", shmid_}, {"sync", sems_.rendezvous()}};
}

sysv_shm_channel::endpoint sysv_shm_channel::attach(const nlohmann::json& j, role r) {
  return endpoint(attach_segment(j.at("shmid").get<int>()),
                  sysv_sem_sync::resources::attach(j.at("sync")), r);
}

static_assert(named_channel<sysv_shm_channel>);

}  // namespace ipcbench
