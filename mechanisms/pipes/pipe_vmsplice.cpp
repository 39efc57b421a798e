#include "mechanisms/pipes/pipe_vmsplice.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>

#include <cerrno>
#include <string>
#include <vector>

#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

// Whether this kernel really leaves the pages referenced: vmsplice a buffer, change it, read.
// A kernel that copied at vmsplice time returns the old bytes.
bool pages_stay_referenced() {
  auto p = make_pipe();
  std::vector<std::byte> page(64, std::byte{'a'});
  iovec iov{page.data(), page.size()};
  if (check(::vmsplice(p.write_end.get(), &iov, 1, 0), "vmsplice(probe)") !=
      static_cast<ssize_t>(page.size()))
    return false;
  std::fill(page.begin(), page.end(), std::byte{'b'});
  std::vector<std::byte> got(page.size());
  if (read_exact(p.read_end.get(), got) != io_status::ok) return false;
  return got[0] == std::byte{'b'};
}

}  // namespace

io_status vmsplice_endpoint::send(std::span<const std::byte> msg) {
  while (!msg.empty()) {
    // vmsplice takes a non-const iovec; without SPLICE_F_GIFT the kernel only reads the pages.
    iovec iov{const_cast<std::byte*>(msg.data()), msg.size()};
    const ssize_t n = retry_on_eintr([&] { return ::vmsplice(out_.get(), &iov, 1, 0); });
    if (n < 0) {
      if (errno == EPIPE) return io_status::closed;
      throw_errno("vmsplice(fd " + std::to_string(out_.get()) + ")");
    }
    // A full pipe takes part of the iovec and returns the count, like write(2).
    msg = msg.subspan(static_cast<std::size_t>(n));
  }
  return io_status::ok;
}

mechanism_traits pipe_vmsplice_channel::describe() {
  mechanism_traits t;
  t.id = "pipe.vmsplice";
  t.mechanism = "pipe";
  t.variant = "vmsplice";
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2)";
  t.supports_throughput = false;
  t.single_copy = true;  // vmsplice references the pages; the read(2) is the one copy
  t.description =
      "zero-copy on the sending side: vmsplice(2) hands the sender's pages to an anonymous pipe "
      "per direction, the receiver copies them out with read(2); latency only";
  auto p = make_pipe();
  t.notes["capacity_bytes"] =
      std::to_string(check(::fcntl(p.write_end.get(), F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)"));
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  t.notes["zero_copy"] =
      "sender only: vmsplice(2) without SPLICE_F_GIFT puts references to the sender's pages in "
      "the pipe instead of copying the bytes; the receiver's read(2) is the one copy";
  t.notes["zero_copy_observed"] =
      pages_stay_referenced()
          ? "yes: a change to the buffer after vmsplice was what the reader read"
          : "no: this kernel copied the bytes at vmsplice time (the reader saw the old bytes)";
  t.notes["latency_only"] =
      "the sender may not touch spliced pages until they are read; only ping-pong proves that";
  return t;
}

pipe_vmsplice_channel::pipe_vmsplice_channel(const channel_config& cfg)
    : forward_(make_pipe()), back_(make_pipe()), threads_(cfg.peers_are_threads) {}

void pipe_vmsplice_channel::opened() noexcept {
  // The coordinator's copies would keep each pipe alive after a peer dies, hiding the EOF.
  forward_ = {};
  back_ = {};
}

vmsplice_endpoint pipe_vmsplice_channel::open(role r) {
  if (r == role::producer) {
    if (!threads_) {
      forward_.read_end.reset();
      back_.write_end.reset();
    }
    return vmsplice_endpoint(std::move(back_.read_end), std::move(forward_.write_end));
  }
  if (!threads_) {
    forward_.write_end.reset();
    back_.read_end.reset();
  }
  return vmsplice_endpoint(std::move(forward_.read_end), std::move(back_.write_end));
}

}  // namespace ipcbench
