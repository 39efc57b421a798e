#include "mechanisms/pipes/fifo.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "sys/error.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

unique_fd open_fifo(const std::filesystem::path& p, int flags) {
  // Opening one end blocks until the other end is opened (fifo(7)); the coordinator's watchdog
  // bounds that wait.
  const int fd = retry_on_eintr([&] { return ::open(p.c_str(), flags | O_CLOEXEC); });
  if (fd < 0) throw_errno("open(" + p.string() + ")");
  return unique_fd(fd);
}

// Both peers open `forward` first, so the two blocking opens pair up without deadlock.
stream_endpoint open_paths(const std::filesystem::path& forward, const std::filesystem::path& back,
                           role r) {
  if (r == role::producer) {
    unique_fd out = open_fifo(forward, O_WRONLY);
    unique_fd in = open_fifo(back, O_RDONLY);
    return stream_endpoint(std::move(in), std::move(out));
  }
  unique_fd in = open_fifo(forward, O_RDONLY);
  unique_fd out = open_fifo(back, O_WRONLY);
  return stream_endpoint(std::move(in), std::move(out));
}

}  // namespace

mechanism_traits fifo_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "fifo";
  t.variant = "default";
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = false;
  t.wait = "blocking read(2)";
  t.description =
      "FIFO (named pipe) per direction in a private 0700 directory, unlinked after open";
  t.notes["PIPE_BUF"] = std::to_string(PIPE_BUF);
  t.atomic_write_max = PIPE_BUF;
  return t;
}

fifo_channel::fifo_channel(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("fifo needs a private directory");
  forward_ = named_object(named_object::kind::path, (cfg.dir->path() / "forward.fifo").string());
  back_ = named_object(named_object::kind::path, (cfg.dir->path() / "back.fifo").string());
  for (auto* f : {&forward_, &back_}) {
    check(::mkfifo(f->c_str(), 0600), "mkfifo(" + f->name() + ")");
    f->created();
  }
}

void fifo_channel::opened() noexcept {
  forward_.unlink();
  back_.unlink();
}

stream_endpoint fifo_channel::open(role r) {
  return open_paths(forward_.name(), back_.name(), r);
}

nlohmann::json fifo_channel::rendezvous() const {
  return {{"forward", forward_.name()}, {"back", back_.name()}};
}

stream_endpoint fifo_channel::attach(const nlohmann::json& where, role r) {
  return open_paths(where.at("forward").get<std::string>(), where.at("back").get<std::string>(), r);
}

}  // namespace ipcbench
