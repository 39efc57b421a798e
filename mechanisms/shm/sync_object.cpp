#include "mechanisms/shm/sync_object.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::shm {
namespace {

std::shared_ptr<const mapping> map_object(const std::string& name, std::size_t bytes) {
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) throw_errno("shm_open(" + name + ")");
  unique_fd owner(fd);
  struct stat st {};
  check(::fstat(fd, &st), "fstat(" + name + ")");
  // A smaller object would fault (SIGBUS) on the first primitive past its end.
  if (static_cast<std::size_t>(st.st_size) != bytes)
    throw std::system_error(
        EINVAL, std::system_category(),
        name + " has " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(bytes));
  return std::make_shared<const mapping>(map_shared(fd, bytes, name));
}

}  // namespace

sync_object::sync_object(std::size_t bytes, bool peers_are_threads)
    : name_(named_object::kind::posix_shm, names::unique_posix_name("sync")),
      bytes_(bytes),
      threads_(peers_are_threads) {
  const int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("shm_open(" + name_.name() + ", O_CREAT | O_EXCL)");
  unique_fd owner(fd);
  name_.created();
  // New objects read as zero. When this throws, name_ (a member, fully built) unlinks it.
  check(::ftruncate(fd, static_cast<off_t>(bytes)),
        "ftruncate(" + name_.name() + ", " + std::to_string(bytes) + ")");
  map_ = std::make_shared<const mapping>(map_shared(fd, bytes, name_.name()));
}

std::shared_ptr<const mapping> sync_object::open() const {
  if (threads_) return map_;
  return map_object(name_.name(), bytes_);
}

std::shared_ptr<const mapping> sync_object::attach(const std::string& name, std::size_t bytes) {
  return map_object(name, bytes);
}

const char* pshared_name(bool pshared) noexcept {
  return pshared ? "PTHREAD_PROCESS_SHARED" : "PTHREAD_PROCESS_PRIVATE";
}

}  // namespace ipcbench::shm
