// Claim 6: System V shared memory (shmget(2), shmctl(2)). A segment is backed by whole pages, so
// 4097 bytes map as two; a segment has kernel persistence: it outlives its creator until
// IPC_RMID (and the last detach).
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "probe/probe.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

// Attaches a segment; detaches on destruction.
class attachment {
 public:
  explicit attachment(int id) : addr_(::shmat(id, nullptr, 0)) {
    if (addr_ == reinterpret_cast<void*>(-1)) throw_errno("shmat(" + std::to_string(id) + ")");
  }
  attachment(const attachment&) = delete;
  attachment& operator=(const attachment&) = delete;
  ~attachment() { ::shmdt(addr_); }
  unsigned char* data() const noexcept { return static_cast<unsigned char*>(addr_); }

 private:
  void* addr_;
};

// The length of the mapping that starts at `addr`, from /proc/self/maps; 0 when not found.
std::size_t mapping_length(const void* addr) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  const auto want = reinterpret_cast<std::uintptr_t>(addr);
  while (std::getline(in, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream s(line);
    if (!(s >> std::hex >> lo >> dash >> hi) || dash != '-') continue;
    if (lo == want) return hi - lo;
  }
  return 0;
}

outcome whole_pages(const deadline&) {
  constexpr std::size_t kRequested = 4097;
  key_t key = 0;
  const int id = names::create_with_unique_key(
      [](key_t k) { return ::shmget(k, kRequested, IPC_CREAT | IPC_EXCL | 0600); }, "shmget(4097)",
      key);
  cleanup::guard g(cleanup::kind::sysv_shm, id);
  std::size_t segsz = 0, mapped = 0;
  bool tail_usable = false;
  {
    attachment a(id);
    // Marked for removal while attached: it goes away at the detach below, or if we die.
    check(::shmctl(id, IPC_RMID, nullptr), "shmctl(IPC_RMID)");
    shmid_ds ds{};
    check(::shmctl(id, IPC_STAT, &ds), "shmctl(IPC_STAT)");
    segsz = ds.shm_segsz;
    mapped = mapping_length(a.data());
    // The bytes past shm_segsz up to the page end are mapped and zero: touch the last one.
    if (mapped > kRequested) {
      volatile unsigned char* last = a.data() + mapped - 1;
      tail_usable = *last == 0;
      *last = 1;
    }
  }
  g.release();
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t pages = (kRequested + page - 1) / page;
  outcome o;
  o.value = {
      {"shm_segsz", segsz},
      {"mapped bytes", mapped},
      {"page size", page},
      {"bytes past the end usable", mapped > kRequested && tail_usable ? mapped - kRequested : 0}};
  o.result =
      segsz == kRequested && mapped == pages * page ? verdict::holds : verdict::does_not_hold;
  o.detail = "shmget(4097) reports shm_segsz " + std::to_string(segsz) + " but maps " +
             std::to_string(mapped) + " bytes (" + std::to_string(mapped / page) + " pages of " +
             std::to_string(page) + ")";
  if (mapped > kRequested && tail_usable)
    o.detail +=
        "; the last mapped byte reads 0 and can be written. Tutorial 002 says of 4097 bytes that "
        "only 4 KB can be used (\"我们只能用4KB\") and tutorial 001 only the size asked for: all "
        "4097 bytes are usable, and so is the rest of the second page (though only shm_segsz "
        "bytes are promised)";
  return o;
}

outcome outlives_creator(const deadline& d) {
  constexpr std::size_t kSize = 4096;
  auto made = create_in_child(
      [] {
        key_t key = 0;
        return names::create_with_unique_key(
            [](key_t k) { return ::shmget(k, kSize, IPC_CREAT | IPC_EXCL | 0600); }, "shmget", key);
      },
      [](int id) {
        attachment a(id);
        std::memset(a.data(), 0x5A, kSize);
        return 0;  // exits without IPC_RMID
      },
      d);
  const int id = made.id;
  child_process& creator = made.creator;
  cleanup::guard g(cleanup::kind::sysv_shm, id);
  struct remover {
    int id;
    ~remover() { ::shmctl(id, IPC_RMID, nullptr); }
  } remove_at_end{id};
  const int st = wait_exit(creator, d, "waiting for the creator to exit");
  const pid_t creator_pid = creator.pid();

  shmid_ds ds{};
  const bool exists = ::shmctl(id, IPC_STAT, &ds) == 0;
  bool intact = false;
  if (exists) {
    attachment a(id);
    intact = true;
    for (std::size_t i = 0; i < kSize; ++i) intact &= a.data()[i] == 0x5A;
  }
  check(::shmctl(id, IPC_RMID, nullptr), "shmctl(IPC_RMID)");
  shmid_ds after{};
  const bool gone = ::shmctl(id, IPC_STAT, &after) < 0 && (errno == EINVAL || errno == EIDRM);
  g.release();

  outcome o;
  o.value = {{"creator", describe_wait_status(st)},
             {"segment after creator exit", exists ? "exists" : "gone"},
             {"nattch", exists ? static_cast<long>(ds.shm_nattch) : -1},
             {"data intact", intact},
             {"after IPC_RMID", gone ? "gone" : "still there"}};
  const bool creator_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  o.result = creator_ok && exists && intact && gone ? verdict::holds : verdict::does_not_hold;
  o.detail = "the creator (pid " + std::to_string(creator_pid) + ") " + describe_wait_status(st) +
             " without removing its segment; the segment " +
             (exists ? "was still there (shm_cpid " + std::to_string(ds.shm_cpid) + ", nattch " +
                           std::to_string(ds.shm_nattch) + ") with its data " +
                           (intact ? "intact" : "changed")
                     : std::string("was gone")) +
             ", and " + (gone ? "gone after IPC_RMID" : "still there after IPC_RMID");
  return o;
}

}  // namespace

std::vector<probe> sysv_shm_probes() {
  return {
      {"sysv_shm_whole_pages",
       "A System V shared memory segment is backed by whole pages: 4097 bytes take two",
       "tutorial 002, section 'shmget函数创建共享内存' (shmget: 4097 bytes get 8 KB, only 4 KB "
       "usable); tutorial 001, section 2.3 (only the size asked for is usable); man 2 shmget",
       "shmget(4097 bytes), shmat; compare shm_segsz (IPC_STAT) with the mapping's length "
       "in /proc/self/maps and the page size; touch the last mapped byte",
       whole_pages},
      {"sysv_shm_kernel_persistence",
       "A System V segment outlives the process that created it, until IPC_RMID (its lifetime "
       "follows the kernel, not the process)",
       "tutorial 001, section 2.2 (共享内存的生命周期随内核: lifetime follows the kernel); "
       "tutorial 002, section 'shmctl函数释放共享内存'; tutorial 004, section 3.1; man 2 shmctl",
       "a forked child creates a segment, fills it, sends its id and exits without IPC_RMID; the "
       "parent stats and reads it, then removes it and stats again",
       outlives_creator},
  };
}

}  // namespace ipcbench::probes
