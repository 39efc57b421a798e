// Claims 2 and 3: a pipe's capacity (pipe(7): 65536 bytes since Linux 2.6.11, F_SETPIPE_SZ up to
// /proc/sys/fs/pipe-max-size), what 13-byte writes fill of it, and the four read/write cases of
// pipe(7) and write(2).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {

std::size_t fill_until_eagain(int fd, const deadline& d) {
  // Whole pages first, then single bytes: anonymous pipe buffers merge small writes into the
  // last page, so the byte count that fits does not depend on the chunk size.
  static const std::vector<char> page(4096, 'p');
  std::size_t total = 0;
  for (std::size_t chunk : {page.size(), std::size_t{1}}) {
    for (;;) {
      const ssize_t n = retry_on_eintr([&] { return ::write(fd, page.data(), chunk); });
      if (n > 0) {
        total += static_cast<std::size_t>(n);
        if ((total & 0xFFFFF) == 0) d.check("filling the pipe");
        continue;
      }
      if (n < 0 && errno == EAGAIN) break;
      throw_errno("write(pipe, O_NONBLOCK)");
    }
  }
  return total;
}

namespace {

outcome capacity(const deadline& d) {
  auto p = make_pipe(O_NONBLOCK);
  const int size = check(::fcntl(p.write_end.get(), F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)");
  const std::size_t filled = fill_until_eagain(p.write_end.get(), d);
  outcome o;
  o.value = {{"filled until EAGAIN", filled}, {"F_GETPIPE_SZ", size}};
  const bool agree = filled == static_cast<std::size_t>(size);
  o.result = agree && filled == 65536 ? verdict::holds : verdict::does_not_hold;
  o.detail = "a fresh pipe took " + std::to_string(filled) +
             " bytes before EAGAIN; F_GETPIPE_SZ says " + std::to_string(size) +
             (agree ? " (they agree)" : " (they differ)");
  if (filled > 4096)
    o.detail +=
        ". Tutorial 002 calls 4 KB the kernel's pipe size (\"4KB是内核管道的大小\"): 4096 bytes "
        "is PIPE_BUF, the most one write carries atomically (ulimit -p shows it as 8 blocks of "
        "512 bytes), not what a pipe holds";
  return o;
}

// Tutorial 001 filled a pipe with 13-byte writes and saw it stop at 65520 bytes. pipe_write()
// (fs/pipe.c) merges a write into the last page only when all of it fits there; otherwise the
// write starts a fresh page. So a page takes 315 writes of 13 bytes (4095 bytes) and the 16 pages
// of a default pipe 5040 writes, 65520 bytes, where 1-byte writes fill all 65536.
outcome thirteen_byte_writes(const deadline& d) {
  constexpr std::size_t kChunk = 13;
  auto p = make_pipe(O_NONBLOCK);
  const int size = check(::fcntl(p.write_end.get(), F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)");
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const char chunk[kChunk] = {'t', 'h', 'i', 'r', 't', 'e', 'e', 'n', ' ', 'b', 'y', 't', 'e'};
  std::size_t filled = 0, writes = 0;
  for (;;) {
    const ssize_t n = retry_on_eintr([&] { return ::write(p.write_end.get(), chunk, kChunk); });
    if (n == static_cast<ssize_t>(kChunk)) {
      filled += kChunk;
      if ((++writes & 0xFFF) == 0) d.check("filling the pipe");
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    if (n >= 0)  // a write of at most PIPE_BUF bytes is all or nothing (pipe(7))
      throw std::runtime_error("a 13-byte write to a pipe wrote " + std::to_string(n) + " bytes");
    throw_errno("write(pipe, 13 bytes, O_NONBLOCK)");
  }
  const std::size_t pages = static_cast<std::size_t>(size) / page;
  const std::size_t per_page = page / kChunk * kChunk;
  const std::size_t packed = static_cast<std::size_t>(size) / kChunk * kChunk;
  outcome o;
  o.value = {{"bytes until EAGAIN", filled},
             {"13-byte writes", writes},
             {"F_GETPIPE_SZ", size},
             {"page size", page},
             {"whole pages of 13-byte writes", pages * per_page},
             {"bytes packed without page bounds", packed}};
  o.result = filled == 65520 ? verdict::holds : verdict::does_not_hold;
  o.detail = std::to_string(writes) + " writes of 13 bytes filled a fresh pipe at " +
             std::to_string(filled) + " bytes, not " + std::to_string(packed) +
             " (the last multiple of 13 within F_GETPIPE_SZ = " + std::to_string(size) + ")";
  if (filled == pages * per_page)
    o.detail +=
        ": a write that does not fit whole into the last page starts a new one, so each of "
        "the " +
        std::to_string(pages) + " pages of " + std::to_string(page) + " bytes holds " +
        std::to_string(page / kChunk) + " writes (" + std::to_string(per_page) + " bytes), " +
        std::to_string(pages) + " x " + std::to_string(per_page) + " = " +
        std::to_string(pages * per_page) +
        ". Tutorial 001 measured 65520 too but put it down to alignment (\"内存对齐\"); "
        "1-byte writes fill all " +
        std::to_string(size) + " bytes (pipe_capacity)";
  else
    o.detail += ", nor " + std::to_string(pages * per_page) + " (whole pages of 13-byte writes)";
  return o;
}

outcome max_size(const deadline& d) {
  const auto max = read_integer("/proc/sys/fs/pipe-max-size");
  if (!max || *max <= 0) {
    return {nullptr, verdict::not_applicable, "/proc/sys/fs/pipe-max-size cannot be read"};
  }
  auto p = make_pipe(O_NONBLOCK);
  const int set = check(::fcntl(p.write_end.get(), F_SETPIPE_SZ, static_cast<int>(*max)),
                        "fcntl(F_SETPIPE_SZ, " + std::to_string(*max) + ")");
  const std::size_t filled = fill_until_eagain(p.write_end.get(), d);

  // One page above the limit: refused with EPERM unless the caller has CAP_SYS_RESOURCE.
  auto q = make_pipe();
  const long long above = *max + 4096;
  const bool privileged = has_cap_sys_resource();
  std::string above_result;
  bool refused = false;
  if (above > (1LL << 31) - 1) {
    above_result = "not tried (above INT_MAX)";
  } else if (::fcntl(q.write_end.get(), F_SETPIPE_SZ, static_cast<int>(above)) < 0) {
    above_result = errno_name(errno);
    refused = errno == EPERM;
  } else {
    above_result = "accepted";
  }
  outcome o;
  o.value = {{"pipe-max-size", *max},
             {"F_SETPIPE_SZ(pipe-max-size) gives", set},
             {"filled until EAGAIN", filled},
             {"pipe-max-size + 4096", above_result},
             {"CAP_SYS_RESOURCE", privileged}};
  const bool reached = set == *max && filled == static_cast<std::size_t>(set);
  const bool limit_enforced = refused || (privileged && above_result == "accepted");
  o.result = reached && limit_enforced ? verdict::holds : verdict::does_not_hold;
  o.detail = "F_SETPIPE_SZ to pipe-max-size (" + std::to_string(*max) + ") gave " +
             std::to_string(set) + " and the pipe then took " + std::to_string(filled) +
             " bytes; one page more: " + above_result +
             (privileged ? " (this process has CAP_SYS_RESOURCE, which lifts the limit)"
                         : " (this process lacks CAP_SYS_RESOURCE)");
  return o;
}

outcome read_empty_blocks(const deadline& d) {
  auto p = make_pipe();
  auto w = watch_blocking(
      [&](int ready) {
        p.write_end.reset();  // the parent still holds a write end
        announce(ready);
        char b;
        const ssize_t n = ::read(p.read_end.get(), &b, 1);
        return n == 1 ? 0 : 1;
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "read(2) on an empty pipe did not block: the reader " + w.state;
    return o;
  }
  const char byte = 'x';
  check(::write(p.write_end.get(), &byte, 1), "write(pipe)");
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool woke = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"after 200 ms", w.state}, {"woke on write", woke}};
  o.result = woke ? verdict::holds : verdict::does_not_hold;
  o.detail = "the reader was " + w.state + " in read(2) 200 ms after it started, " +
             (woke ? "and returned the byte once the parent wrote one"
                   : "but did not return after the parent wrote a byte");
  return o;
}

outcome eof_after_writers_close(const deadline& d) {
  auto p = make_pipe();
  const std::string data = "abc";
  check(::write(p.write_end.get(), data.data(), data.size()), "write(pipe)");
  // The child holds a write end too (fork duplicates it); EOF needs every one closed.
  child_process writer = child_process::fork([&] { return 0; });
  wait_exit(writer, d, "waiting for the second writer to exit");
  p.write_end.reset();
  std::vector<long> reads;
  char buf[16];
  for (int i = 0; i < 3; ++i) {
    if (!wait_readable(p.read_end.get(), std::min(d.left(), std::chrono::milliseconds(2000)))) {
      reads.push_back(-2);  // would block: no EOF
      break;
    }
    const ssize_t n = ::read(p.read_end.get(), buf, sizeof buf);
    reads.push_back(n < 0 ? -1 : n);
    if (n <= 0) break;
  }
  outcome o;
  o.value = {{"read returns", reads}};
  const bool ok = reads.size() == 2 && reads[0] == 3 && reads[1] == 0;
  o.result = ok ? verdict::holds : verdict::does_not_hold;
  o.detail = ok ? "3 buffered bytes were still delivered after both writers closed, then read "
                  "returned 0"
                : "reads after every writer closed returned " + nlohmann::json(reads).dump() +
                      " (-2: would still block)";
  return o;
}

outcome write_no_reader(const deadline& d) {
  // Default disposition: the writer dies of SIGPIPE.
  auto p = make_pipe();
  p.read_end.reset();
  child_process dflt = child_process::fork([&] {
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    const char b = 'x';
    const ssize_t n = ::write(p.write_end.get(), &b, 1);
    return n < 0 ? 2 : 3;  // reached only when the signal did not kill us
  });
  const int st1 = wait_exit(dflt, d, "waiting for the writer");
  // Ignored: write fails with EPIPE.
  child_process ignored = child_process::fork([&] {
    ::signal(SIGPIPE, SIG_IGN);
    const char b = 'x';
    const ssize_t n = ::write(p.write_end.get(), &b, 1);
    return n < 0 && errno == EPIPE ? 0 : 1;
  });
  const int st2 = wait_exit(ignored, d, "waiting for the writer");
  const bool sigpipe = WIFSIGNALED(st1) && WTERMSIG(st1) == SIGPIPE;
  const bool epipe = WIFEXITED(st2) && WEXITSTATUS(st2) == 0;
  outcome o;
  o.value = {{"default disposition", describe_wait_status(st1)},
             {"SIGPIPE ignored", epipe ? "write returned -1, EPIPE"
                                       : "not EPIPE (" + describe_wait_status(st2) + ")"}};
  o.result = sigpipe && epipe ? verdict::holds : verdict::does_not_hold;
  o.detail = "a writer with default signal handling " + describe_wait_status(st1) +
             "; with SIGPIPE ignored, " +
             (epipe ? std::string("write(2) failed with EPIPE") : describe_wait_status(st2));
  return o;
}

outcome write_full_blocks(const deadline& d) {
  auto p = make_pipe();
  // O_NONBLOCK belongs to the open file description, which a child shares: set it to fill, clear
  // it before the child's blocking write.
  check(::fcntl(p.write_end.get(), F_SETFL, O_NONBLOCK), "fcntl(F_SETFL, O_NONBLOCK)");
  const std::size_t filled = fill_until_eagain(p.write_end.get(), d);
  check(::fcntl(p.write_end.get(), F_SETFL, 0), "fcntl(F_SETFL, 0)");
  auto w = watch_blocking(
      [&](int ready) {
        p.read_end.reset();
        announce(ready);
        const char b = 'x';
        return ::write(p.write_end.get(), &b, 1) == 1 ? 0 : 1;
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"EAGAIN after bytes", filled}, {"after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "a blocking write to the full pipe did not block: the writer " + w.state;
    return o;
  }
  std::vector<char> drain(4096);
  check(::read(p.read_end.get(), drain.data(), drain.size()), "read(pipe)");
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool done = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"EAGAIN after bytes", filled}, {"after 200 ms", w.state}, {"woke on read", done}};
  o.result = done ? verdict::holds : verdict::does_not_hold;
  o.detail =
      "with O_NONBLOCK, write(2) failed with EAGAIN after " + std::to_string(filled) +
      " bytes; without it the writer was " + w.state + " 200 ms later, " +
      (done ? "and completed once 4096 bytes were read" : "and did not complete after a read");
  return o;
}

}  // namespace

std::vector<probe> pipe_probes() {
  return {
      {"pipe_capacity", "A pipe holds 65536 bytes by default (16 pages)",
       "man 7 pipe (pipe capacity); tutorial 001, section 1.6 '管道的容量' (pipe capacity); "
       "tutorial 002, section '管道的大小' (pipe size: 4 KB is the kernel's pipe size)",
       "fill a fresh pipe with non-blocking writes (4096 bytes, then 1 byte) until EAGAIN; compare "
       "with fcntl(F_GETPIPE_SZ)",
       capacity},
      {"pipe_13_byte_writes",
       "A pipe written 13 bytes at a time holds 65520 bytes, not 65536: a small write never "
       "straddles a page of the pipe's buffer",
       "tutorial 001, section 1.6 '管道的容量' (pipe capacity: writes of 13 bytes stop at 65520)",
       "write 13 bytes at a time to a fresh pipe with O_NONBLOCK until EAGAIN; count the bytes; "
       "compare with F_GETPIPE_SZ and the page size",
       thirteen_byte_writes},
      {"pipe_max_size",
       "F_SETPIPE_SZ accepts up to /proc/sys/fs/pipe-max-size (1 MiB by default; more only with "
       "CAP_SYS_RESOURCE) and the pipe then holds that much",
       "man 7 pipe (/proc/sys/fs/pipe-max-size); man 2 fcntl (F_SETPIPE_SZ)",
       "fcntl(F_SETPIPE_SZ, pipe-max-size) on a fresh pipe, fill it until EAGAIN; then ask one "
       "page "
       "more on another pipe",
       max_size},
      {"pipe_read_empty_blocks", "read(2) on an empty pipe blocks while a writer is open",
       "tutorial 002, section '管道读写的四种特殊情况' (the four special cases), case 2; tutorial "
       "001, section 1.4; man 7 pipe",
       "a forked reader calls read(2) on an empty pipe whose write end the parent holds; after "
       "200 ms it must still be there and asleep; then the parent writes one byte",
       read_empty_blocks},
      {"pipe_read_eof",
       "Once every writer has closed, read(2) drains the data, then returns 0 (EOF)",
       "tutorial 002, section '管道读写的四种特殊情况' (the four special cases), case 3; tutorial "
       "001, section 1.4; man 7 pipe",
       "write 3 bytes, close every write end (the parent's and a forked child's), read until 0",
       eof_after_writers_close},
      {"pipe_write_sigpipe",
       "write(2) with every reader closed raises SIGPIPE, and fails with EPIPE when it is ignored",
       "tutorial 002, section '管道读写的四种特殊情况' (the four special cases), case 4; tutorial "
       "001, section 1.4; man 7 pipe",
       "close the read end; a forked child writes with SIGPIPE at its default (must die of it), "
       "another with SIGPIPE ignored (must get EPIPE)",
       write_no_reader},
      {"pipe_write_full_blocks",
       "write(2) to a full pipe blocks (fails with EAGAIN under O_NONBLOCK)",
       "tutorial 002, section '管道读写的四种特殊情况' (the four special cases), case 1; tutorial "
       "001, section 1.4; man 7 pipe",
       "fill a pipe with O_NONBLOCK writes until EAGAIN, clear O_NONBLOCK; a forked child writes "
       "one byte and must still be asleep after 200 ms; then the parent reads 4096 bytes",
       write_full_blocks},
  };
}

}  // namespace ipcbench::probes
