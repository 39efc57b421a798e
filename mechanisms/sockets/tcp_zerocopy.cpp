#include "mechanisms/sockets/tcp_zerocopy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/retry.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

void enable_zerocopy(int fd) {
  set_int_option(fd, SOL_SOCKET, SO_ZEROCOPY, 1, "SO_ZEROCOPY");
}

// Whether the kernel copied after all on loopback: one 16 KiB MSG_ZEROCOPY send between two
// sockets of this process, read whole, then its notification (up to 2 s). Throws
// std::system_error when SO_ZEROCOPY or the send is refused.
std::string loopback_outcome() {
  sockaddr_in a{};
  unique_fd listener = listen_on_loopback(a, 1);
  unique_fd client = make_socket(AF_INET, SOCK_STREAM);
  check(::connect(client.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), "connect");
  unique_fd server(check(::accept(listener.get(), nullptr, nullptr), "accept"));
  enable_zerocopy(client.get());
  std::vector<std::byte> out(16 * 1024, std::byte{1}), in(out.size());
  const ssize_t n = check(::send(client.get(), out.data(), out.size(), MSG_ZEROCOPY | MSG_NOSIGNAL),
                          "send(MSG_ZEROCOPY)");
  if (read_exact(server.get(), std::span(in).first(static_cast<std::size_t>(n))) != io_status::ok)
    return "unknown: the probe's connection closed";
  zerocopy_completions c;
  c.issued();
  for (int i = 0; i < 20 && !c.done_below(1); ++i) {
    pollfd p{client.get(), 0, 0};
    ::poll(&p, 1, 100);
    drain_zerocopy_notifications(client.get(), c);
  }
  if (!c.done_below(1)) return "unknown: no notification came within 2 s";
  return c.copied_calls() > 0
             ? "no: the kernel reported the send as copied (SO_EE_CODE_ZEROCOPY_COPIED): on "
               "loopback it copies the pinned pages when it hands them to the receiving socket"
             : "yes: the kernel reported the pages sent without a copy";
}

}  // namespace

io_status zerocopy_endpoint::send(std::span<const std::byte> msg) {
  while (!msg.empty()) {
    const ssize_t n = retry_on_eintr(
        [&] { return ::send(s_.get(), msg.data(), msg.size(), MSG_ZEROCOPY | MSG_NOSIGNAL); });
    if (n < 0) {
      if (errno == EPIPE || errno == ECONNRESET) return io_status::closed;
      // ENOBUFS: the socket's notifications have used up its optmem; wait for one to come.
      if (errno == ENOBUFS && !done_.done_below(done_.issued_count())) {
        if (await(done_.issued_count()) == io_status::closed) return io_status::closed;
        continue;
      }
      throw_errno("send(MSG_ZEROCOPY, fd " + std::to_string(s_.get()) + ")");
    }
    done_.issued();
    msg = msg.subspan(static_cast<std::size_t>(n));
  }
  // The harness stamps the next message over the previous one's buffer as soon as this returns.
  const std::uint32_t earlier = previous_end_;
  previous_end_ = done_.issued_count();
  return await(earlier);
}

io_status zerocopy_endpoint::await(std::uint32_t upto) {
  while (!done_.done_below(upto)) {
    if (drain_zerocopy_notifications(s_.get(), done_)) continue;
    // events 0: poll(2) still reports POLLERR (a notification queued) and POLLHUP; POLLRDHUP
    // says the peer shut down, after which no ACK can release the pages.
    pollfd p{s_.get(), POLLRDHUP, 0};
    if (retry_on_eintr([&] { return ::poll(&p, 1, -1); }) < 0) throw_errno("poll(MSG_ERRQUEUE)");
    if ((p.revents & POLLERR) != 0) continue;
    if ((p.revents & (POLLHUP | POLLRDHUP)) != 0) {
      drain_zerocopy_notifications(s_.get(), done_);
      return done_.done_below(upto) ? io_status::ok : io_status::closed;
    }
  }
  return io_status::ok;
}

mechanism_traits tcp_zerocopy_channel::describe() {
  mechanism_traits t = tcp_channel::describe();
  t.id = "tcp.zerocopy";
  t.variant = "zerocopy";
  t.supports_throughput = false;
  t.wait = "blocking read(2); the sender also waits in poll(2) for MSG_ZEROCOPY notifications";
  t.description =
      "TCP over loopback 127.0.0.1 with MSG_ZEROCOPY sends (SO_ZEROCOPY), TCP_NODELAY on both "
      "ends; each send returns once the previous message's pages are released; latency only";
  t.notes["zero_copy"] =
      "sender only: MSG_ZEROCOPY pins the sender's pages instead of copying them into the "
      "socket buffer; completion notifications come on the error queue (recvmsg(MSG_ERRQUEUE))";
  t.notes["zero_copy_observed"] = loopback_outcome();
  t.notes["latency_only"] =
      "the harness reuses two message buffers, so a stream would wait for the receiver's "
      "(possibly delayed) ACK of every previous message; the probe tcp_zerocopy_loopback "
      "measures streaming from a pool of buffers";
  if (auto v = read_first_line("/proc/sys/net/core/optmem_max")) t.notes["optmem_max"] = *v;
  return t;
}

zerocopy_endpoint tcp_zerocopy_channel::open(role r) {
  unique_fd s = tcp_.open_socket(r);
  enable_zerocopy(s.get());
  return zerocopy_endpoint(std::move(s));
}

zerocopy_endpoint tcp_zerocopy_channel::attach(const nlohmann::json& where, role r) {
  unique_fd s = tcp_channel::attach_socket(where, r);
  enable_zerocopy(s.get());
  return zerocopy_endpoint(std::move(s));
}

}  // namespace ipcbench
