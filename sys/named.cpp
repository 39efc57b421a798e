#include "named.hpp"

#include <mqueue.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace ipcbench {
namespace {

cleanup::kind cleanup_kind(named_object::kind k) noexcept {
  switch (k) {
    case named_object::kind::posix_mq:
      return cleanup::kind::posix_mq;
    case named_object::kind::posix_sem:
      return cleanup::kind::posix_sem;
    case named_object::kind::posix_shm:
      return cleanup::kind::posix_shm;
    case named_object::kind::path:
      break;
  }
  return cleanup::kind::path;
}

}  // namespace

named_object::named_object(kind k, std::string name)
    : kind_(k), name_(std::move(name)), guard_(cleanup_kind(k), -1, name_.c_str()) {}

named_object::named_object(named_object&& o) noexcept
    : kind_(o.kind_),
      name_(std::move(o.name_)),
      created_(std::exchange(o.created_, false)),
      guard_(std::move(o.guard_)) {}

named_object& named_object::operator=(named_object&& o) noexcept {
  if (this != &o) {
    unlink();
    kind_ = o.kind_;
    name_ = std::move(o.name_);
    created_ = std::exchange(o.created_, false);
    guard_ = std::move(o.guard_);
  }
  return *this;
}

void named_object::unlink() noexcept {
  if (created_) {
    switch (kind_) {
      case kind::path:
        ::unlink(name_.c_str());
        break;
      case kind::posix_mq:
        ::mq_unlink(name_.c_str());
        break;
      case kind::posix_sem:
        ::sem_unlink(name_.c_str());
        break;
      case kind::posix_shm:
        ::shm_unlink(name_.c_str());
        break;
    }
    created_ = false;
  }
  guard_.release();
}

}  // namespace ipcbench
