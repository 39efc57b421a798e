// Claim 6: System V shared memory (shmget(2), shmctl(2)). A segment is backed by whole pages, so
// 4097 bytes map as two; a segment has kernel persistence: it outlives its creator until
// IPC_RMID (and the last detach); after IPC_RMID an attached segment stays usable and, on Linux
// only, can still be attached by its id; SHM_LOCK keeps the pages in memory and synchronises
// nothing.
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

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

outcome segment_outlives_creator(const deadline& d) {
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

// A private segment of `size` bytes, removed (IPC_RMID) when it goes out of scope unless removed
// before.
class segment {
 public:
  explicit segment(std::size_t size)
      : id_([size] {
          key_t key = 0;
          return names::create_with_unique_key(
              [size](key_t k) { return ::shmget(k, size, IPC_CREAT | IPC_EXCL | 0600); }, "shmget",
              key);
        }()),
        guard_(cleanup::kind::sysv_shm, id_) {}
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;
  ~segment() { remove(); }
  int id() const noexcept { return id_; }
  // Marks the segment for removal: it goes when the last attachment does.
  void remove() noexcept {
    if (removed_) return;
    ::shmctl(id_, IPC_RMID, nullptr);
    removed_ = true;
    guard_.release();
  }

 private:
  int id_;
  cleanup::guard guard_;
  bool removed_ = false;
};

// Exit codes of the child that attaches a removed segment by its id.
enum reattach_step { kReattachOk = 0, kReattachFailed, kReattachWrongData };

outcome rmid_attached(const deadline& d) {
  constexpr std::size_t kSize = 4096;
  segment seg(kSize);
  attachment a(seg.id());
  std::memset(a.data(), 0x11, kSize);
  seg.remove();
  shmid_ds ds{};
  const bool stat_ok = ::shmctl(seg.id(), IPC_STAT, &ds) == 0;
  const bool marked = stat_ok && (ds.shm_perm.mode & SHM_DEST) != 0;

  // Still attached: read what was there, write something new.
  bool usable = true;
  for (std::size_t i = 0; i < kSize; ++i) usable &= a.data()[i] == 0x11;
  std::memset(a.data(), 0x22, kSize);
  for (std::size_t i = 0; i < kSize; ++i) usable &= a.data()[i] == 0x22;

  // A new attach by id, from another process. Linux allows it (shmat(2), NOTES); POSIX does not
  // specify it and many other systems refuse. The child's inherited attachment is dropped first, so
  // its attach is a new one.
  auto result = make_pipe();
  const int id = seg.id();
  unsigned char* const inherited = a.data();
  child_process child = child_process::fork([&]() -> int {
    result.read_end.reset();
    ::shmdt(inherited);
    void* p = ::shmat(id, nullptr, 0);
    const int err = errno;
    if (p == reinterpret_cast<void*>(-1)) {
      (void)write_all(result.write_end.get(), std::as_bytes(std::span(&err, 1)));
      return kReattachFailed;
    }
    auto* bytes = static_cast<unsigned char*>(p);
    bool seen = true;
    for (std::size_t i = 0; i < kSize; ++i) seen &= bytes[i] == 0x22;
    std::memset(bytes, 0x33, kSize);
    ::shmdt(p);
    return seen ? kReattachOk : kReattachWrongData;
  });
  result.write_end.reset();
  const int st = wait_exit(child, d, "waiting for the child that attaches by id");
  int err = 0;
  const bool got_err = read_exact(result.read_end.get(),
                                  std::as_writable_bytes(std::span(&err, 1))) == io_status::ok;
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  bool child_write_seen = true;
  for (std::size_t i = 0; i < kSize; ++i) child_write_seen &= a.data()[i] == 0x33;
  const bool reattached = code == kReattachOk && child_write_seen;
  const std::string attach_result =
      code == kReattachOk                  ? std::string("attached")
      : code == kReattachWrongData         ? std::string("attached, but saw other data")
      : code == kReattachFailed && got_err ? errno_name(err)
                                           : "child " + describe_wait_status(st);

  outcome o;
  o.value = {{"marked for removal (SHM_DEST)", marked},
             {"attached segment usable after IPC_RMID", usable},
             {"new shmat by id in another process", attach_result},
             {"its write seen through the old attachment", child_write_seen}};
  o.result = usable && reattached ? verdict::holds : verdict::does_not_hold;
  o.detail = std::string("after IPC_RMID the segment ") +
             (marked ? "was marked SHM_DEST, " : "was not marked SHM_DEST, ") +
             (usable ? "and the attachment kept reading and writing it; "
                     : "and the attachment did not keep its data; ") +
             "a forked child's shmat by the id: " + attach_result +
             (reattached ? ", and its write showed through the parent's attachment. Linux-specific "
                           "(shmat(2)): POSIX does not specify a new attach once IPC_RMID is "
                           "given and many other systems refuse it. Tutorial 004 says no new "
                           "process can attach a marked segment "
                           "(\"是不能映射的\"): on Linux one can"
                         : "");
  return o;
}

outcome lock_not_sync(const deadline& d) {
  constexpr std::size_t kSize = 4096;
  segment seg(kSize);
  if (::shmctl(seg.id(), SHM_LOCK, nullptr) != 0) {
    const int err = errno;
    return {{{"shmctl(SHM_LOCK)", errno_name(err)}},
            verdict::not_applicable,
            "shmctl(SHM_LOCK) failed with " + errno_name(err) +
                (err == EPERM ? " (needs CAP_IPC_LOCK or RLIMIT_MEMLOCK room)" : "")};
  }
  struct unlocker {
    int id;
    ~unlocker() { ::shmctl(id, SHM_UNLOCK, nullptr); }
  } unlock_at_end{seg.id()};
  shmid_ds ds{};
  check(::shmctl(seg.id(), IPC_STAT, &ds), "shmctl(IPC_STAT)");
  const bool locked = (ds.shm_perm.mode & SHM_LOCKED) != 0;
  attachment a(seg.id());
  std::memset(a.data(), 0x44, kSize);
  // While locked, another process attaches, reads and writes at once: SHM_LOCK keeps the pages
  // in RAM (no swapping) and is no lock on access.
  const int id = seg.id();
  const auto t0 = now_ns();
  child_process child = child_process::fork([&]() -> int {
    attachment b(id);
    bool seen = true;
    for (std::size_t i = 0; i < kSize; ++i) seen &= b.data()[i] == 0x44;
    std::memset(b.data(), 0x55, kSize);
    return seen ? 0 : 1;
  });
  const auto finished =
      child.wait_for(std::min<std::chrono::milliseconds>(std::chrono::seconds(2), d.left()));
  const double ms = static_cast<double>(now_ns() - t0) / 1e6;
  if (!finished) {
    d.check("waiting for the writer");
    return {{{"SHM_LOCKED after SHM_LOCK", locked}, {"other process after 2 s", "still running"}},
            verdict::does_not_hold,
            "a forked child that attaches, reads and writes the locked segment had not finished "
            "after 2 s"};
  }
  const int st = *finished;
  bool written = true;
  for (std::size_t i = 0; i < kSize; ++i) written &= a.data()[i] == 0x55;
  const bool child_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  outcome o;
  o.value = {{"SHM_LOCKED after SHM_LOCK", locked},
             {"other process read and wrote while locked", child_ok && written},
             {"its fork, attach, read and write took ms", std::round(ms * 1000) / 1000}};
  o.result = locked && child_ok && written ? verdict::holds : verdict::does_not_hold;
  o.detail = std::string("after shmctl(SHM_LOCK) the segment ") +
             (locked ? "was marked SHM_LOCKED" : "was not marked SHM_LOCKED") +
             "; a forked child attached it, " +
             (child_ok ? "read the parent's data" : "did not read the parent's data") + " and " +
             (written ? "wrote its own, which the parent saw" : "its write was not seen") +
             ", while the segment was locked (" + rounded(ms, 3) +
             " ms from fork to exit). SHM_LOCK only keeps the pages in memory (no swapping). "
             "Tutorial 003 names SHM_LOCK and SHM_UNLOCK as a way to synchronise access "
             "(\"SHM_LOCK、SHM_UNLOCK等来实现\"): they synchronise nothing; access needs a "
             "semaphore, futex or mutex";
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
       segment_outlives_creator},
      {"sysv_shm_rmid_attached",
       "After IPC_RMID a segment still attached stays usable, and on Linux a new shmat by its id "
       "still works (until the last detach)",
       "tutorial 004, section 3 '5.删除共享内存' (deleting shared memory: after IPC_RMID no new "
       "attach); man 2 shmctl (IPC_RMID, SHM_DEST); man 2 shmat (NOTES: Linux attaches a segment "
       "marked for deletion)",
       "shmget and shmat a segment, fill it, IPC_RMID; read and write through the attachment; a "
       "forked child detaches its inherited copy and shmat's the segment by id, checks the data "
       "and writes; the parent looks for that write",
       rmid_attached},
      {"sysv_shm_lock_not_sync",
       "shmctl(SHM_LOCK) keeps a segment's pages in memory; it does not synchronise access "
       "(another process reads and writes it at once)",
       "tutorial 003, section '2.3.3 共享内存' (shared memory: SHM_LOCK and SHM_UNLOCK to "
       "synchronise); man 2 shmctl (SHM_LOCK)",
       "shmctl(SHM_LOCK) on a fresh segment, check SHM_LOCKED in IPC_STAT; a forked child "
       "attaches, reads and writes it while it is locked; the parent looks for the write",
       lock_not_sync},
  };
}

}  // namespace ipcbench::probes
