#include "mapping.hpp"

#include <sys/mman.h>
#include <sys/shm.h>

#include <string>

#include "error.hpp"

namespace ipcbench {

void mapping::reset() noexcept {
  if (addr_ == nullptr) return;
  if (how_ == detach::shmdt)
    ::shmdt(addr_);
  else
    ::munmap(addr_, size_);
  addr_ = nullptr;
}

mapping map_shared_anonymous(std::size_t size, std::string_view what) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::string call("mmap(MAP_SHARED | MAP_ANONYMOUS, ");
    call.append(what).append(", ").append(std::to_string(size)).append(")");
    throw_errno(call);
  }
  return mapping(p, size);
}

mapping map_shared(int fd, std::size_t size, std::string_view what) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    std::string call("mmap(MAP_SHARED, ");
    call.append(what).append(")");
    throw_errno(call);
  }
  return mapping(p, size);
}

}  // namespace ipcbench
