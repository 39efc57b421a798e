#include "mechanisms/pipes/pipe.hpp"

#include <fcntl.h>
#include <limits.h>

#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {

mechanism_traits pipe_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "pipe";
  t.variant = "default";
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2)";
  t.description = "anonymous pipe, one per direction, default capacity";
  auto p = make_pipe();
  t.notes["capacity_bytes"] =
      std::to_string(check(::fcntl(p.write_end.get(), F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)"));
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  t.atomic_write_max = PIPE_BUF;
  return t;
}

pipe_channel::pipe_channel(const channel_config& cfg)
    : forward_(make_pipe()), back_(make_pipe()), threads_(cfg.peers_are_threads) {}

int pipe_channel::set_capacity(int bytes) {
  int got = 0;
  for (const fd_pair* p : {&forward_, &back_})
    got = check(::fcntl(p->write_end.get(), F_SETPIPE_SZ, bytes),
                "fcntl(F_SETPIPE_SZ " + std::to_string(bytes) + ")");
  return got;
}

void pipe_channel::opened() noexcept {
  // The coordinator's copies would keep each pipe alive after a peer dies, hiding the EOF.
  forward_ = {};
  back_ = {};
}

stream_endpoint pipe_channel::open(role r) {
  // A forked peer closes its copies of the partner's ends, so a dead partner reads as EOF; a
  // thread would close them under its partner (threads_: they close with the process).
  if (r == role::producer) {
    if (!threads_) {
      forward_.read_end.reset();
      back_.write_end.reset();
    }
    return stream_endpoint(std::move(back_.read_end), std::move(forward_.write_end));
  }
  if (!threads_) {
    forward_.write_end.reset();
    back_.read_end.reset();
  }
  return stream_endpoint(std::move(forward_.read_end), std::move(back_.write_end));
}

}  // namespace ipcbench
