// Claim 4: the open rules of fifo(7) and open(2): opening for reading blocks until a writer
// opens, and for writing until a reader opens; O_WRONLY|O_NONBLOCK without a reader fails with
// ENXIO; O_RDONLY|O_NONBLOCK succeeds; O_RDWR, which POSIX leaves undefined, succeeds at once on
// Linux (fifo(7)), the opener counting as its own reader and writer.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "probe/probe.hpp"
#include "sys/error.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

// open(2) of a FIFO for one side blocks until the other side opens: a watched child opens for
// `side` (reading or writing), and once it is asleep the parent opens the other side without
// blocking (O_WRONLY|O_NONBLOCK succeeds once a reader is waiting; O_RDONLY|O_NONBLOCK always),
// which must release it.
outcome open_blocks_until_the_other_side(bool reader, const deadline& d) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  const char* self = reader ? "reader" : "writer";
  const char* other = reader ? "writer" : "reader";
  auto w = watch_blocking(
      [&](int ready) {
        announce(ready);
        const int fd = ::open(path.c_str(), (reader ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        return fd >= 0 ? 0 : 1;
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = std::string("open(") + (reader ? "O_RDONLY" : "O_WRONLY") +
               ") of a FIFO without a " + other + " did not block: the opener " + w.state;
    return o;
  }
  const int fd = ::open(path.c_str(), (reader ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
  const std::string other_open = fd >= 0 ? "opened" : errno_name(errno);
  unique_fd keep(fd);
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool opened = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"after 200 ms", w.state},
             {std::string("returned once a ") + other + " opened", opened}};
  o.result = opened ? verdict::holds : verdict::does_not_hold;
  o.detail = std::string("the ") + self + "'s open(2) was " + w.state + " after 200 ms; the " +
             other + "'s open: " + other_open + "; " + (opened ? "then the " : "the ") + self +
             "'s open " + (opened ? "returned" : "did not return");
  return o;
}

outcome rdonly_blocks(const deadline& d) {
  return open_blocks_until_the_other_side(true, d);
}
outcome wronly_blocks(const deadline& d) {
  return open_blocks_until_the_other_side(false, d);
}

// Exit codes of the O_RDWR opener.
enum rdwr_step { kRdwrOk = 0, kRdwrOpenFailed, kRdwrWriteFailed, kRdwrReadFailed };

outcome rdwr(const deadline& d) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  // In a child: should the open block after all, the watch reports it and kills the opener.
  auto w = watch_blocking(
      [&](int ready) -> int {
        announce(ready);
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return kRdwrOpenFailed;
        // The opener is the FIFO's only reader and writer: it reads back what it wrote.
        const char out = 'r';
        char in = 0;
        if (::write(fd, &out, 1) != 1) return kRdwrWriteFailed;
        if (::read(fd, &in, 1) != 1 || in != out) return kRdwrReadFailed;
        return kRdwrOk;
      },
      kBlockingWindow, d);
  outcome o;
  if (w.blocked) {
    o.value = {{"open(O_RDWR) after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "open(O_RDWR) of a FIFO without another process blocked: the opener was " + w.state +
               " after 200 ms";
    return o;
  }
  const int st = w.early_status.value_or(-1);
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::string open_result = "succeeded at once", read_back = "yes";
  if (code == kRdwrOpenFailed) open_result = "failed";
  if (code != kRdwrOk) read_back = code == kRdwrOpenFailed ? "not tried" : "no";
  if (code < 0 || code > kRdwrReadFailed) open_result = read_back = "opener " + w.state;
  o.value = {{"open(O_RDWR)", open_result}, {"reads back its own write", read_back}};
  o.result = code == kRdwrOk ? verdict::holds : verdict::does_not_hold;
  o.detail =
      code == kRdwrOk
          ? "open(O_RDWR) of a FIFO no other process had open returned within the 200 ms window "
            "without blocking, and the opener read back the byte it wrote itself. Tutorial 000 "
            "says a program cannot open a FIFO O_RDWR (\"不能以O_RDWR\") and that its behaviour is "
            "undefined: POSIX leaves it undefined, but Linux defines it (fifo(7)), and the text's "
            "warning that the opener reads back its own output is what happens"
          : "the O_RDWR opener " + w.state + " (open " + open_result + ", read back " + read_back +
                ")";
  return o;
}

outcome wronly_nonblock_enxio(const deadline&) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  const int err = errno;
  unique_fd keep(fd);
  outcome o;
  o.value = {{"open(O_WRONLY|O_NONBLOCK)", fd >= 0 ? std::string("succeeded") : errno_name(err)}};
  o.result = fd < 0 && err == ENXIO ? verdict::holds : verdict::does_not_hold;
  o.detail = fd >= 0 ? "the open succeeded without a reader"
                     : "the open failed with " + errno_name(err) + " (" + std::strerror(err) + ")";
  return o;
}

outcome rdonly_nonblock(const deadline&) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  const auto t0 = now_ns();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  const int err = errno;
  const double ms = static_cast<double>(now_ns() - t0) / 1e6;
  unique_fd keep(fd);
  outcome o;
  o.value = {{"open(O_RDONLY|O_NONBLOCK)", fd >= 0 ? std::string("succeeded") : errno_name(err)},
             {"ms", std::round(ms * 1000) / 1000}};
  o.result = fd >= 0 ? verdict::holds : verdict::does_not_hold;
  o.detail =
      fd >= 0 ? "the open returned a descriptor in " + std::to_string(ms) + " ms without any writer"
              : "the open failed with " + errno_name(err);
  return o;
}

}  // namespace

std::vector<probe> fifo_probes() {
  return {
      {"fifo_open_read_blocks", "Opening a FIFO for reading blocks until a writer opens it",
       "tutorial 000, section '阻塞问题' (blocking); tutorial 004, section 2.2 '命名管道' (named "
       "pipes); man 7 fifo",
       "a forked child opens a fresh FIFO with O_RDONLY; after 200 ms it must still be there and "
       "asleep; then the parent opens the write end",
       rdonly_blocks},
      {"fifo_open_write_blocks", "Opening a FIFO for writing blocks until a reader opens it",
       "tutorial 000, section '阻塞问题' (blocking); tutorial 004, section 2.2 '命名管道' (named "
       "pipes); man 7 fifo",
       "a forked child opens a fresh FIFO with O_WRONLY; after 200 ms it must still be there and "
       "asleep; then the parent opens the read end with O_RDONLY|O_NONBLOCK",
       wronly_blocks},
      {"fifo_open_write_nonblock_enxio",
       "Opening a FIFO with O_WRONLY|O_NONBLOCK while no reader has it open fails with ENXIO",
       "tutorial 000, section '阻塞问题' (blocking: the open returns -1); man 7 fifo; man 2 open "
       "(ENXIO)",
       "open(2) a fresh FIFO with O_WRONLY|O_NONBLOCK", wronly_nonblock_enxio},
      {"fifo_open_read_nonblock", "Opening a FIFO with O_RDONLY|O_NONBLOCK succeeds at once",
       "tutorial 000, section '阻塞问题' (blocking); man 7 fifo",
       "open(2) a fresh FIFO with O_RDONLY|O_NONBLOCK, timed", rdonly_nonblock},
      {"fifo_open_rdwr",
       "On Linux, opening a FIFO with O_RDWR succeeds at once, without another reader or writer "
       "(POSIX leaves it undefined), and the opener reads back its own writes",
       "tutorial 000, section '打开命名管道' (opening a named pipe: not with O_RDWR); man 7 fifo",
       "a forked child opens a fresh FIFO with O_RDWR (no O_NONBLOCK), writes one byte and reads "
       "it back; it must have finished within 200 ms",
       rdwr},
  };
}

}  // namespace ipcbench::probes
