// Claim 10: mmap(2) of a file. A MAP_SHARED mapping is the file's page cache: a write through it
// is seen by every process that maps the file shared and by read(2) of the file at once, without
// msync. A MAP_PRIVATE mapping is copied on the first write: neither other processes nor the file
// see the write.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "sys/error.hpp"
#include "sys/mapping.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

constexpr unsigned char kFile = 'f', kChild = 'c';

// Whether `n` bytes at `p` are all `byte`.
bool all_are(const std::byte* p, std::size_t n, unsigned char byte) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != std::byte{byte}) return false;
  return true;
}

// Whether the `n` bytes of the file at `offset` are all `byte` (pread(2)).
bool file_holds(int fd, off_t offset, std::size_t n, unsigned char byte) {
  std::vector<std::byte> buf(n);
  const ssize_t got = check(::pread(fd, buf.data(), n, offset), "pread(file)");
  return static_cast<std::size_t>(got) == n && all_are(buf.data(), n, byte);
}

outcome shared_against_private(const deadline& d) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const private_dir dir;
  const std::string path = (dir.path() / "mapped-file").string();
  unique_fd fd(check(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
                     "open(" + path + ", O_CREAT)"));
  // Two pages of kFile: the first is mapped shared, the second private, so that the two
  // mappings never show each other's page.
  const std::vector<unsigned char> content(2 * page, kFile);
  if (check(::pwrite(fd.get(), content.data(), content.size(), 0), "pwrite(file)") !=
      static_cast<ssize_t>(content.size()))
    throw std::runtime_error("short write to " + path);
  mapping shared = map_shared(fd.get(), page, "mmap(file, MAP_SHARED)");
  void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(),
                   static_cast<off_t>(page));
  if (p == MAP_FAILED) throw_errno("mmap(file, MAP_PRIVATE)");
  const mapping priv(p, page);
  // The parent reads its private page first, so it is faulted in from the file before the fork.
  const bool private_read = all_are(priv.data(), page, kFile);

  child_process child = child_process::fork([&] {
    std::memset(shared.data(), kChild, page);
    std::memset(priv.data(), kChild, page);
    return 0;
  });
  const int st = wait_exit(child, d, "waiting for the writer");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    throw std::runtime_error("the writing child " + describe_wait_status(st));

  const bool shared_seen = all_are(shared.data(), page, kChild);
  const bool shared_in_file = file_holds(fd.get(), 0, page, kChild);
  const bool private_seen = all_are(priv.data(), page, kChild);
  const bool private_in_file = file_holds(fd.get(), static_cast<off_t>(page), page, kChild);
  const bool private_intact = all_are(priv.data(), page, kFile) &&
                              file_holds(fd.get(), static_cast<off_t>(page), page, kFile);
  outcome o;
  o.value = {{"MAP_SHARED: the parent sees the child's write", shared_seen},
             {"MAP_SHARED: the file holds it (pread)", shared_in_file},
             {"MAP_PRIVATE: the parent sees the child's write", private_seen},
             {"MAP_PRIVATE: the file holds it (pread)", private_in_file}};
  const bool as_claimed = private_read && shared_seen && shared_in_file && private_intact;
  o.result = as_claimed ? verdict::holds : verdict::does_not_hold;
  o.detail = "a forked child filled one page through each mapping of a " +
             std::to_string(2 * page) + "-byte file and exited. MAP_SHARED: the parent's mapping " +
             (shared_seen ? "showed" : "did not show") +
             " the child's bytes, and pread(2) of the file " +
             (shared_in_file ? "returned them at once (no msync)" : "did not return them") +
             ". MAP_PRIVATE: the parent's mapping " + (private_seen ? "showed" : "did not show") +
             " them, and pread(2) " + (private_in_file ? "returned them" : "did not return them") +
             (private_intact ? ": the child wrote its own copy of the page" : "");
  if (as_claimed)
    o.detail +=
        ". Tutorial 003's example marks its MAP_SHARED line \"父子进程各自独占映射区\" (parent and "
        "child each own the region) and its MAP_PRIVATE line as shared: the two comments are "
        "swapped; the text above them is right";
  return o;
}

}  // namespace

std::vector<probe> mmap_probes() {
  return {
      {"mmap_shared_private",
       "A write through a MAP_SHARED file mapping is seen by the other process and reaches the "
       "file; through a MAP_PRIVATE mapping, by neither",
       "tutorial 000, section '文件 内存映射' (file memory mapping: MAP_SHARED, MAP_PRIVATE); "
       "tutorial 003, section 'mmap进程间通信' (mmap between processes); man 2 mmap",
       "a file of two pages in a private directory; the parent maps page 1 MAP_SHARED and page 2 "
       "MAP_PRIVATE (and reads it), forks; the child fills both pages through its mappings and "
       "exits; the parent checks its own mappings and the file with pread(2)",
       shared_against_private},
  };
}

}  // namespace ipcbench::probes
