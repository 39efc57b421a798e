#include "mechanisms/pipes/pipe_splice.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

// What the drain wait is for, seen on this kernel: vmsplice a buffer, change it, read. A kernel
// that leaves the pages referenced returns the new bytes; FIONREAD on the write end counts the
// bytes still in the pipe (it is the same pipe for both ends).
std::string referenced_pages_observed() {
  auto p = make_pipe();
  std::vector<std::byte> page(64, std::byte{'a'});
  iovec iov{page.data(), page.size()};
  if (check(::vmsplice(p.write_end.get(), &iov, 1, 0), "vmsplice(probe)") !=
      static_cast<ssize_t>(page.size()))
    return "unknown: the probe's vmsplice took part of 64 bytes";
  int queued = -1;
  check(::ioctl(p.write_end.get(), FIONREAD, &queued), "ioctl(pipe write end, FIONREAD)");
  std::fill(page.begin(), page.end(), std::byte{'b'});
  std::vector<std::byte> got(page.size());
  if (read_exact(p.read_end.get(), got) != io_status::ok) return "unknown: the probe read EOF";
  const std::string queued_text =
      " (FIONREAD on the write end counted " + std::to_string(queued) + " of 64 bytes queued)";
  return got[0] == std::byte{'b'}
             ? "yes: a change to the buffer after vmsplice was what the reader read" + queued_text
             : "no: this kernel copied the bytes at vmsplice time" + queued_text;
}

}  // namespace

io_status splice_endpoint::send(std::span<const std::byte> msg) {
  while (!msg.empty()) {
    // vmsplice takes a non-const iovec; without SPLICE_F_GIFT the kernel only reads the pages.
    iovec iov{const_cast<std::byte*>(msg.data()), msg.size()};
    const ssize_t n = retry_on_eintr([&] { return ::vmsplice(out_.get(), &iov, 1, 0); });
    if (n < 0) {
      if (errno == EPIPE) return io_status::closed;
      throw_errno("vmsplice(fd " + std::to_string(out_.get()) + ", " + std::to_string(msg.size()) +
                  " bytes)");
    }
    // A full pipe takes part of the iovec (whole pages' worth) and returns the count.
    msg = msg.subspan(static_cast<std::size_t>(n));
  }
  // The pipe may still reference the last pages: the buffer is the caller's again only once the
  // partner has read every byte of it, which its ack says.
  std::byte ack{};
  if (read_exact(in_.get(), std::span(&ack, 1)) != io_status::ok) return io_status::closed;
  if (ack != kAck) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(ack));
    throw std::runtime_error(std::string("pipe.splice: read byte ") + hex +
                             " where the receiver's ack was due: the two ends are out of step");
  }
  return io_status::ok;
}

std::ptrdiff_t splice_endpoint::receive(std::span<std::byte> buf) {
  if (read_exact(in_.get(), buf) != io_status::ok) return kPeerGone;
  // Every byte is copied out, and read(2) released each page as it emptied it: the sender may
  // reuse its buffer. A partner gone before the ack shows at the next call.
  (void)write_all(out_.get(), std::span(&kAck, 1));
  return static_cast<std::ptrdiff_t>(buf.size());
}

mechanism_traits pipe_splice_channel::describe() {
  mechanism_traits t;
  t.id = "pipe.splice";
  t.mechanism = "pipe";
  t.variant = "splice";
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.single_copy = true;
  t.wait = "blocking read(2); the sender also in read(2) of the receiver's one-byte ack";
  t.description =
      "one copy: vmsplice(2) puts references to the sender's pages in an anonymous pipe per "
      "direction, the receiver copies them out with read(2) and acks, and send() returns only "
      "after the ack (the pipe no longer references the buffer); both patterns";
  auto p = make_pipe();
  t.notes["capacity_bytes"] =
      std::to_string(check(::fcntl(p.write_end.get(), F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)"));
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  t.notes["copies"] =
      "1: read(2) from the sender's pages, which vmsplice(2) without SPLICE_F_GIFT referenced "
      "in the pipe, into the receiver's buffer";
  t.notes["pages_referenced_observed"] = referenced_pages_observed();
  t.notes["drain_wait"] =
      "send() returns after the receiver's one-byte ack over the reverse pipe, written once it "
      "has read the whole message: one message in flight per direction (streams are "
      "stop-and-wait), up to four wake-ups per round trip instead of two; pipe.vmsplice is the "
      "same transfer without the wait (latency only)";
  t.notes["fan_out"] =
      "one staging pipe: each 32 KiB chunk vmspliced into it once, tee(2)d into every "
      "consumer's pipe, dropped by splice(2) to /dev/null, then acked by every consumer before "
      "the next (pipe_splice_tee.hpp)";
  return t;
}

pipe_splice_channel::pipe_splice_channel(const channel_config& cfg)
    : forward_(make_pipe()), back_(make_pipe()), threads_(cfg.peers_are_threads) {}

void pipe_splice_channel::opened() noexcept {
  // The coordinator's copies would keep each pipe alive after a peer dies, hiding the EOF.
  forward_ = {};
  back_ = {};
}

splice_endpoint pipe_splice_channel::open(role r) {
  // A forked peer closes its copies of the partner's ends, so a dead partner reads as EOF; a
  // thread would close them under its partner (threads_: they close with the process).
  if (r == role::producer) {
    if (!threads_) {
      forward_.read_end.reset();
      back_.write_end.reset();
    }
    return splice_endpoint(std::move(back_.read_end), std::move(forward_.write_end));
  }
  if (!threads_) {
    forward_.write_end.reset();
    back_.read_end.reset();
  }
  return splice_endpoint(std::move(forward_.read_end), std::move(back_.write_end));
}

}  // namespace ipcbench
