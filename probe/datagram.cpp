// Claim 7: the largest datagram. UDP over IPv4 carries at most 65535 - 20 (IP header) - 8 (UDP
// header) = 65507 bytes (udp(7)); a Unix datagram socket is limited by its send buffer
// (unix(7): SO_SNDBUF), not by IP's 64 KiB.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include <vector>

#include "probe/probe.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

// Sends one datagram of `size` bytes on `tx` (MSG_DONTWAIT) and receives it on `rx`: "ok" when
// the whole datagram arrived, otherwise the send's errno name (or "lost"/"truncated").
std::string round_trip(int tx, int rx, std::size_t size, std::vector<char>& buf,
                       const deadline& d) {
  if (buf.size() < size + 1) buf.resize(size + 1);
  if (retry_on_eintr([&] { return ::send(tx, buf.data(), size, MSG_DONTWAIT); }) < 0)
    return errno_name(errno);
  if (!wait_readable(rx, std::min(d.left(), std::chrono::milliseconds(1000)))) return "lost";
  const ssize_t n =
      retry_on_eintr([&] { return ::recv(rx, buf.data(), buf.size(), MSG_TRUNC | MSG_DONTWAIT); });
  if (n < 0) throw_errno("recv");
  return static_cast<std::size_t>(n) == size ? "ok" : "truncated";
}

struct search_result {
  std::size_t largest = 0;
  std::string above;  // what the next size got
};

// Binary search for the largest size in [1, hi] that round-trips.
search_result largest(const std::function<std::string(std::size_t)>& attempt, std::size_t hi,
                      const deadline& d) {
  std::size_t lo = 0;  // largest known good
  std::size_t bad = hi + 1;
  while (lo + 1 < bad) {
    d.check("searching the largest datagram");
    const std::size_t mid = lo + (bad - lo) / 2;
    if (attempt(mid) == "ok")
      lo = mid;
    else
      bad = mid;
  }
  return {lo, bad <= hi ? attempt(bad) : "not tried"};
}

outcome udp_largest(const deadline& d) {
  unique_fd s(
      check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket(AF_INET, SOCK_DGRAM)"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind(127.0.0.1:0)");
  socklen_t len = sizeof addr;
  check(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len), "getsockname");
  check(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "connect(self)");
  std::vector<char> buf;
  const auto r =
      largest([&](std::size_t n) { return round_trip(s.get(), s.get(), n, buf, d); }, 70000, d);
  outcome o;
  o.value = {{"largest", r.largest}, {"one byte more", r.above}};
  o.result = r.largest == 65507 ? verdict::holds : verdict::does_not_hold;
  o.detail = "a UDP socket on 127.0.0.1 sent to itself: datagrams up to " +
             std::to_string(r.largest) + " bytes arrived whole; " + std::to_string(r.largest + 1) +
             " bytes: " + r.above + " (65535 - 20 IPv4 header - 8 UDP header = 65507)";
  return o;
}

outcome unix_largest(const deadline& d) {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  check(::getsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), "getsockopt(SO_SNDBUF)");
  std::vector<char> buf;
  const auto r = largest([&](std::size_t n) { return round_trip(a.get(), b.get(), n, buf, d); },
                         static_cast<std::size_t>(sndbuf) + 1, d);
  const auto wmem = read_integer("/proc/sys/net/core/wmem_default");
  outcome o;
  o.value = {{"largest", r.largest},
             {"one byte more", r.above},
             {"SO_SNDBUF", sndbuf},
             {"wmem_default", wmem ? nlohmann::json(*wmem) : nlohmann::json(nullptr)}};
  const bool by_sndbuf = r.largest > 65535 && r.largest < static_cast<std::size_t>(sndbuf) &&
                         r.largest + 1024 > static_cast<std::size_t>(sndbuf);
  o.result = by_sndbuf ? verdict::holds : verdict::does_not_hold;
  o.detail = "a Unix datagram socketpair carried datagrams up to " + std::to_string(r.largest) +
             " bytes; one byte more: " + r.above + "; SO_SNDBUF is " + std::to_string(sndbuf) +
             " (the kernel keeps " + std::to_string(sndbuf - static_cast<int>(r.largest)) +
             " bytes for its own overhead)";
  return o;
}

}  // namespace

std::vector<probe> datagram_probes() {
  return {
      {"udp_max_datagram",
       "The largest UDP datagram over IPv4 loopback is 65507 bytes (65535 minus IP and UDP "
       "headers)",
       "man 7 udp; man 7 ip (the 65535-byte IPv4 packet)",
       "binary search: a UDP socket bound to 127.0.0.1 sends datagrams to itself (MSG_DONTWAIT) "
       "and "
       "receives each whole (MSG_TRUNC shows its real length)",
       udp_largest},
      {"unix_dgram_max_datagram",
       "The largest Unix-domain datagram is set by the send buffer (SO_SNDBUF), not by 64 KiB",
       "man 7 unix (SO_SNDBUF); man 7 socket",
       "binary search over a socketpair(AF_UNIX, SOCK_DGRAM): send (MSG_DONTWAIT), receive whole; "
       "compare with SO_SNDBUF",
       unix_largest},
  };
}

}  // namespace ipcbench::probes
