// unique_fd owns one file descriptor: move-only, -1 is empty, closed in the destructor.
// Safe on both sides of a fork (each process closes its own copy).
#pragma once

#include <unistd.h>

#include <utility>

namespace ipcbench {

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  // close(2) is never retried: on Linux the descriptor is gone even when it reports EINTR.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct fd_pair {
  unique_fd read_end;
  unique_fd write_end;
};

// pipe2(2) with O_CLOEXEC; throws std::system_error.
fd_pair make_pipe(int extra_flags = 0);

// socketpair(2) of the given type with SOCK_CLOEXEC; throws std::system_error.
std::pair<unique_fd, unique_fd> make_socketpair(int type);

}  // namespace ipcbench
