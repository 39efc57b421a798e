#include "mechanisms/shm/mmap_file.hpp"

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "sys/error.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {
namespace {

mapping map_file(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_errno("open(" + p.string() + ")");
  unique_fd owned(fd);
  return shm::map_segment(owned.get(), p.string());  // the mapping outlives the descriptor
}

// The file system the private directories land on (they follow $TMPDIR like private_dir): a
// file's dirty pages are written back on a disk file system, not on tmpfs.
std::string temp_file_system() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  struct statfs fs {};
  if (::statfs(base.c_str(), &fs) != 0) return base + ": unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x01021994UL:
      return base + ": tmpfs";
    case 0xEF53UL:
      return base + ": ext2/3/4";
    case 0x58465342UL:
      return base + ": xfs";
    case 0x9123683EUL:
      return base + ": btrfs";
    case 0x794C7630UL:
      return base + ": overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "f_type 0x%lx", static_cast<unsigned long>(fs.f_type));
      return base + ": " + buf;
    }
  }
}

}  // namespace

mechanism_traits mmap_file_channel::describe() {
  mechanism_traits t;
  t.mechanism = "mmap_file";
  t.variant = futex_sync::kName;
  t.id = t.mechanism + "." + t.variant;
  shm::describe_ring(t);
  t.related_only = false;
  t.wait = futex_sync::kWait;
  t.description =
      "mmap(MAP_SHARED) of a regular file in a private 0700 directory, a byte ring per "
      "direction, futex waits; the file is unlinked once both peers mapped it";
  t.notes["file_system"] = temp_file_system();
  return t;
}

mmap_file_channel::mmap_file_channel(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("mmap_file needs a private directory");
  path_ = named_object(named_object::kind::path, (cfg.dir->path() / "ring.mmap").string());
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("open(" + path_.name() + ", O_CREAT | O_EXCL)");
  unique_fd owned(fd);
  path_.created();
  // Blocks allocated now, not on the first write of each page in a timed loop. A new file reads
  // as zero, the segment's initial state. When this throws, path_ (a member) unlinks the file.
  const int rc = ::posix_fallocate(owned.get(), 0, static_cast<off_t>(shm::kSegmentBytes));
  if (rc == EOPNOTSUPP || rc == EINVAL)
    check(::ftruncate(owned.get(), static_cast<off_t>(shm::kSegmentBytes)),
          "ftruncate(" + path_.name() + ")");
  else
    check_rc(rc, "posix_fallocate(" + path_.name() + ")");
}

void mmap_file_channel::opened() noexcept {
  path_.unlink();  // both peers have mapped it; the mappings keep the inode alive
}

mmap_file_channel::endpoint mmap_file_channel::open(role r) {
  return endpoint(map_file(path_.name()), futex_sync{}, r);
}

nlohmann::json mmap_file_channel::rendezvous() const {
  return {{"path", path_.name()}};
}

mmap_file_channel::endpoint mmap_file_channel::attach(const nlohmann::json& j, role r) {
  return endpoint(map_file(j.at("path").get<std::string>()), futex_sync{}, r);
}

static_assert(named_channel<mmap_file_channel>);

}  // namespace ipcbench
