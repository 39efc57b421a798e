#include "pipe_resized.hpp"

#include <fcntl.h>
#include <limits.h>

#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr const char* kMaxSizePath = "/proc/sys/fs/pipe-max-size";

// The capacity asked for: the machine's ceiling for unprivileged users, read now.
int requested_capacity() {
  const auto v = read_integer(kMaxSizePath);
  if (!v || *v <= 0 || *v > INT_MAX)
    throw std::runtime_error(std::string("cannot read a pipe size from ") + kMaxSizePath);
  return static_cast<int>(*v);
}

// Resizes one pipe; the kernel rounds up to a power-of-two number of pages and returns what it
// set (fcntl(2)). Throws naming the call when it refuses.
int resize(const fd_pair& p, int bytes) {
  return check(::fcntl(p.write_end.get(), F_SETPIPE_SZ, bytes),
               "fcntl(F_SETPIPE_SZ " + std::to_string(bytes) + ")");
}

}  // namespace

mechanism_traits pipe_resized_channel::describe() {
  mechanism_traits t;
  t.id = "pipe.resized";
  t.mechanism = "pipe";
  t.variant = "resized";
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2)";
  t.description =
      "anonymous pipe per direction, resized with F_SETPIPE_SZ to " + std::string(kMaxSizePath);
  const int want = requested_capacity();
  auto probe = make_pipe();
  const int got = resize(probe, want);
  t.notes["requested_capacity_bytes"] = std::to_string(want) + " (" + kMaxSizePath + ")";
  t.notes["obtained_capacity_bytes"] = std::to_string(got);
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  return t;
}

pipe_resized_channel::pipe_resized_channel(const channel_config&)
    : forward_(make_pipe()), back_(make_pipe()) {
  const int want = requested_capacity();
  resize(forward_, want);
  resize(back_, want);
}

void pipe_resized_channel::opened() noexcept {
  // The coordinator's copies would keep each pipe alive after a peer dies, hiding the EOF.
  forward_ = {};
  back_ = {};
}

stream_endpoint pipe_resized_channel::open(role r) {
  if (r == role::producer) {
    forward_.read_end.reset();
    back_.write_end.reset();
    return stream_endpoint(std::move(back_.read_end), std::move(forward_.write_end));
  }
  forward_.write_end.reset();
  back_.read_end.reset();
  return stream_endpoint(std::move(forward_.read_end), std::move(back_.write_end));
}

}  // namespace ipcbench
