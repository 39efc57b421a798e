#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "error.hpp"
#include "io.hpp"
#include "retry.hpp"
#include "unique_fd.hpp"

namespace ipcbench {

fd_pair make_pipe(int extra_flags) {
  int fds[2];
  check(::pipe2(fds, O_CLOEXEC | extra_flags), "pipe2");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

std::pair<unique_fd, unique_fd> make_socketpair(int type) {
  int fds[2];
  check(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), "socketpair");
  return {unique_fd(fds[0]), unique_fd(fds[1])};
}

io_status write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t n = retry_on_eintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) {
      if (errno == EPIPE || errno == ECONNRESET) return io_status::closed;
      throw_errno("write");
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return io_status::ok;
}

io_status send_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t n =
        retry_on_eintr([&] { return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL); });
    if (n < 0) {
      if (errno == EPIPE || errno == ECONNRESET) return io_status::closed;
      throw_errno("send");
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return io_status::ok;
}

io_status read_exact(int fd, std::span<std::byte> data) {
  while (!data.empty()) {
    const ssize_t n = retry_on_eintr([&] { return ::read(fd, data.data(), data.size()); });
    if (n < 0) {
      if (errno == ECONNRESET) return io_status::closed;
      throw_errno("read");
    }
    if (n == 0) return io_status::closed;
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return io_status::ok;
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  pollfd p{fd, POLLIN, 0};
  // Each try waits for what is left of the timeout, not all of it again.
  const int rc = retry_on_eintr([&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    return ::poll(&p, 1, static_cast<int>(left.count()));
  });
  if (rc < 0) throw_errno("poll");
  return rc > 0;
}

}  // namespace ipcbench
