#include "mechanisms/shm/posix_sem_sync.hpp"

#include <fcntl.h>

#include "sys/error.hpp"
#include "sys/names.hpp"

namespace ipcbench {

// When a creation throws, the names made so far (members, fully built) unlink themselves.
posix_sem_sync::resources::resources() {
  const std::string base = names::unique_posix_name();
  for (int i = 0; i < kBells; ++i) {
    names_[i] = named_object(named_object::kind::posix_sem, base + "-" + std::to_string(i));
    sem_t* s = ::sem_open(names_[i].c_str(), O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED) throw_errno("sem_open(" + names_[i].name() + ", O_CREAT | O_EXCL)");
    names_[i].created();
    ::sem_close(s);  // the name keeps it; the coordinator never posts or waits
  }
}

void posix_sem_sync::resources::opened() noexcept {
  for (auto& n : names_) n.unlink();
}

std::array<std::string, posix_sem_sync::kBells> posix_sem_sync::resources::names() const {
  std::array<std::string, kBells> out;
  for (int i = 0; i < kBells; ++i) out[i] = names_[i].name();
  return out;
}

nlohmann::json posix_sem_sync::resources::rendezvous() const {
  return {{"semaphores", names()}};
}

posix_sem_sync posix_sem_sync::resources::open() const {
  return posix_sem_sync(names());
}

posix_sem_sync posix_sem_sync::resources::attach(const nlohmann::json& j) {
  return posix_sem_sync(j.at("semaphores").get<std::array<std::string, kBells>>());
}

posix_sem_sync::posix_sem_sync(const std::array<std::string, kBells>& names) {
  for (int i = 0; i < kBells; ++i) {
    sem_t* s = ::sem_open(names[i].c_str(), 0);
    if (s == SEM_FAILED) {
      const int err = errno;
      for (int j = 0; j < i; ++j) ::sem_close(sems_[j]);
      throw_errno("sem_open(" + names[i] + ")", err);
    }
    sems_[i] = s;
  }
}

posix_sem_sync::~posix_sem_sync() {
  for (sem_t* s : sems_)
    if (s != nullptr) ::sem_close(s);
}

shm::sleep_result posix_sem_sync::sleep(int bell, std::uint32_t*, std::uint32_t) {
  if (::sem_wait(sems_[bell]) == 0) return shm::sleep_result::posted;
  if (errno == EINTR) return shm::sleep_result::interrupted;
  throw_errno("sem_wait");
}

}  // namespace ipcbench
