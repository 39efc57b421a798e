#include "mechanisms/shm/shm_segment.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
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
  t.notes["framing"] =
      "8-byte length at the start of a 64-byte line (padded to the line), then the message's "
      "bytes; every message starts on a 64-byte boundary of the ring, so every payload does too";
  t.notes["payload_alignment_bytes"] = std::to_string(kPayloadAlign);
  t.notes["wake_hysteresis"] =
      "a sender blocked for space is woken once min(what it still has to write, chunk) bytes are "
      "free, a receiver blocked for data once min(the rest of its message, chunk) bytes are in";
  t.notes["waits"] =
      "blocking waits are untimed; a dead partner is found by the coordinator (its control "
      "channel closes), which kills the survivor";
  t.notes["copies"] = "producer copies into the ring, consumer copies out: 2 per message";
}

mapping map_segment(int fd, const std::string& what) {
  struct stat st {};
  check(::fstat(fd, &st), "fstat(" + what + ")");
  if (static_cast<std::size_t>(st.st_size) != kSegmentBytes)
    throw std::system_error(EINVAL, std::system_category(),
                            what + " has " + std::to_string(st.st_size) + " bytes, expected " +
                                std::to_string(kSegmentBytes));
  return map_shared(fd, kSegmentBytes, what);
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
  if (pid != partner_.pid()) partner_ = partner(pid);
  return partner_.gone();
}

}  // namespace ipcbench::shm
