// Claim 4: the open rules of fifo(7) and open(2): opening for reading blocks until a writer
// opens; O_WRONLY|O_NONBLOCK without a reader fails with ENXIO; O_RDONLY|O_NONBLOCK succeeds.
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

constexpr auto kWindow = std::chrono::milliseconds(200);

outcome rdonly_blocks(const deadline& d) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  auto w = watch_blocking(
      [&](int ready) {
        announce(ready);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? 0 : 1;
      },
      kWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "open(O_RDONLY) of a FIFO without a writer did not block: the opener " + w.state;
    return o;
  }
  // The blocked reader already counts as a reader, so this open succeeds and releases it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  const std::string writer = fd >= 0 ? "opened" : errno_name(errno);
  unique_fd keep(fd);
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool opened = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"after 200 ms", w.state}, {"returned once a writer opened", opened}};
  o.result = opened ? verdict::holds : verdict::does_not_hold;
  o.detail = "the reader's open(2) was " + w.state + " after 200 ms; the writer's open: " + writer +
             (opened ? "; then the reader's open returned" : "; the reader's open did not return");
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
      {"fifo_open_write_nonblock_enxio",
       "Opening a FIFO with O_WRONLY|O_NONBLOCK while no reader has it open fails with ENXIO",
       "tutorial 000, section '阻塞问题' (blocking: the open returns -1); man 7 fifo; man 2 open "
       "(ENXIO)",
       "open(2) a fresh FIFO with O_WRONLY|O_NONBLOCK", wronly_nonblock_enxio},
      {"fifo_open_read_nonblock", "Opening a FIFO with O_RDONLY|O_NONBLOCK succeeds at once",
       "tutorial 000, section '阻塞问题' (blocking); man 7 fifo",
       "open(2) a fresh FIFO with O_RDONLY|O_NONBLOCK, timed", rdonly_nonblock},
  };
}

}  // namespace ipcbench::probes
