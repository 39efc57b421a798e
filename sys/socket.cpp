#include "socket.hpp"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "error.hpp"
#include "retry.hpp"

namespace ipcbench {

unique_fd make_socket(int domain, int type) {
  return unique_fd(check(::socket(domain, type | SOCK_CLOEXEC, 0), "socket"));
}

void bind_to(int fd, const sockaddr* addr, socklen_t len, const std::string& what) {
  check(::bind(fd, addr, len), "bind(" + what + ")");
}

unique_fd accept_one(int listener, const std::string& what) {
  const int fd =
      retry_on_eintr([&] { return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); });
  if (fd < 0) throw_errno("accept(" + what + ")");
  return unique_fd(fd);
}

namespace {

// An interrupted connect goes on in the background (connect(2)): waits for it to finish and
// returns its error, 0 on success.
int finish_interrupted_connect(int fd, const std::string& what) {
  pollfd p{fd, POLLOUT, 0};
  if (retry_on_eintr([&] { return ::poll(&p, 1, -1); }) < 0)
    throw_errno("poll(connect " + what + ")");
  return get_int_option(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
}

}  // namespace

void connect_to(int fd, const sockaddr* addr, socklen_t len, const std::string& what) {
  if (::connect(fd, addr, len) == 0) return;
  if (errno != EINTR) throw_errno("connect(" + what + ")");
  if (int err = finish_interrupted_connect(fd, what); err != 0)
    throw_errno("connect(" + what + ")", err);
}

unique_fd connect_when_listening(int domain, const sockaddr* addr, socklen_t len,
                                 const std::string& what) {
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    // A socket whose connect failed is in an unspecified state (connect(2)): use a new one.
    unique_fd s = make_socket(domain, SOCK_STREAM);
    int err = ::connect(s.get(), addr, len) == 0 ? 0 : errno;
    if (err == EINTR) err = finish_interrupted_connect(s.get(), what);
    if (err == 0) return s;
    if (err != ENOENT && err != ECONNREFUSED) throw_errno("connect(" + what + ")", err);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
}

void set_int_option(int fd, int level, int name, int value, const char* what) {
  check(::setsockopt(fd, level, name, &value, sizeof value),
        std::string("setsockopt(") + what + ")");
}

int get_int_option(int fd, int level, int name, const char* what) {
  int v = 0;
  socklen_t len = sizeof v;
  check(::getsockopt(fd, level, name, &v, &len), std::string("getsockopt(") + what + ")");
  return v;
}

unique_fd listen_on_loopback(sockaddr_in& a, int backlog) {
  a = sockaddr_in{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  unique_fd s = make_socket(AF_INET, SOCK_STREAM);
  bind_to(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, "127.0.0.1:0");
  socklen_t len = sizeof a;
  check(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), "getsockname(127.0.0.1)");
  check(::listen(s.get(), backlog), "listen(127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + ")");
  return s;
}

sockaddr_un unix_address(const std::filesystem::path& p) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (p.native().size() >= sizeof a.sun_path)
    throw std::length_error("socket path too long for sockaddr_un: " + p.string());
  std::memcpy(a.sun_path, p.c_str(), p.native().size() + 1);
  return a;
}

std::size_t probe_max_datagram(int tx, int rx, std::size_t limit) {
  std::vector<std::byte> buf(limit);
  auto fits = [&](std::size_t n) {
    if (retry_on_eintr([&] { return ::send(tx, buf.data(), n, MSG_DONTWAIT | MSG_NOSIGNAL); }) <
        0) {
      if (errno == EMSGSIZE) return false;
      throw_errno("send(probe of " + std::to_string(n) + " bytes)");
    }
    std::byte sink;
    // MSG_TRUNC: the rest of the datagram is discarded.
    if (retry_on_eintr([&] { return ::recv(rx, &sink, 1, MSG_DONTWAIT | MSG_TRUNC); }) < 0)
      throw_errno("recv(probe of " + std::to_string(n) + " bytes)");
    return true;
  };
  if (fits(limit)) return limit;
  std::size_t lo = 0, hi = limit;  // lo fits (0 trivially), hi does not
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace ipcbench
