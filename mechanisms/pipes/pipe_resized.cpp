#include "mechanisms/pipes/pipe_resized.hpp"

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
  const long long v = require_limit(kMaxSizePath);
  if (v > INT_MAX)
    throw std::runtime_error(std::string("cannot read a pipe size from ") + kMaxSizePath);
  return static_cast<int>(v);
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
  pipe_channel probe(channel_config{});
  const int got = probe.set_capacity(want);
  t.notes["requested_capacity_bytes"] = std::to_string(want) + " (" + kMaxSizePath + ")";
  t.notes["obtained_capacity_bytes"] = std::to_string(got);
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  return t;
}

pipe_resized_channel::pipe_resized_channel(const channel_config& cfg) : pipes_(cfg) {
  pipes_.set_capacity(requested_capacity());
}

}  // namespace ipcbench
