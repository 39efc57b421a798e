#include "mechanisms/shm/shm_segment.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "sys/error.hpp"

namespace ipcbench::shm {
void describe_ring(mechanism_traits& t) {
  t.family = "shared memory & mmap";
  t.kind = channel_kind::shared_memory;
  t.notes["ring_bytes_per_direction"] = std::to_string(kRingBytes);
  t.notes["chunk_bytes"] = std::to_string(kChunkBytes);
  t.notes["segment_bytes"] = std::to_string(kSegmentBytes);
  t.notes["framing"] = "8-byte length, then the message's bytes";
  t.notes["copies"] = "producer copies into the ring, consumer copies out: 2 per message";
}

void segment_mapping::reset() noexcept {
  if (addr_ == nullptr) return;
  if (how_ == detach::shmdt)
    ::shmdt(addr_);
  else
    ::munmap(addr_, size_);
  addr_ = nullptr;
}

segment_mapping map_segment(int fd, const std::string& what) {
  struct stat st {};
  check(::fstat(fd, &st), "fstat(" + what + ")");
  if (static_cast<std::size_t>(st.st_size) != kSegmentBytes)
    throw std::system_error(EINVAL, std::system_category(),
                            what + " has " + std::to_string(st.st_size) + " bytes, expected " +
                                std::to_string(kSegmentBytes));
  void* p = ::mmap(nullptr, kSegmentBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw_errno("mmap(MAP_SHARED, " + what + ")");
  return segment_mapping(p, kSegmentBytes, segment_mapping::detach::munmap);
}

void prefault(std::byte* data, std::size_t size) {
  if (::madvise(data, size, MADV_POPULATE_WRITE) == 0) return;
  if (errno != EINVAL) throw_errno("madvise(MADV_POPULATE_WRITE)");
  // Before Linux 5.14. A read maps shmem pages writable; a file's pages may still take one
  // write-protect fault each on first write, which the warm-up absorbs for most sizes.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t off = 0; off < size; off += page)
    (void)std::atomic_ref<std::byte>(data[off]).load(std::memory_order_relaxed);
}

void announce(segment_header& h, role r) noexcept {
  std::atomic_ref<std::uint32_t>(h.pid[r == role::producer ? 0 : 1])
      .store(static_cast<std::uint32_t>(::getpid()), std::memory_order_release);
}

bool partner_watch::gone() {
  // atomic_ref<const T> arrives only in C++26; this side never writes the slot.
  const auto pid =
      static_cast<pid_t>(std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(slot_))
                             .load(std::memory_order_acquire));
  if (pid == 0) return false;  // not opened yet: the coordinator's deadline covers that wait
  if (pid != pid_) {
    pidfd_.reset();
    pid_ = pid;
    // Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not link from C++.
    const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      pidfd_.reset(fd);
    } else if (errno == ESRCH) {
      return true;
    } else if (errno != ENOSYS && errno != EPERM) {
      throw_errno("pidfd_open(" + std::to_string(pid) + ")");
    }
  }
  if (!pidfd_) return ::kill(pid, 0) != 0 && errno == ESRCH;  // no pidfd: zombies look alive
  // A pidfd becomes readable when the process exits, before it is reaped.
  pollfd p{pidfd_.get(), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw_errno("poll(pidfd " + std::to_string(pid) + ")");
  return rc > 0;
}

}  // namespace ipcbench::shm
