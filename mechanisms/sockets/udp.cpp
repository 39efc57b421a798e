#include "mechanisms/sockets/udp.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <string>
#include <utility>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr std::size_t kIpv4Max = 65535 - 20 - 8;  // IP total length - IP header - UDP header

// What each socket buffer is raised to when the process may exceed net.core.{r,w}mem_max
// (CAP_NET_ADMIN: SO_RCVBUFFORCE/SO_SNDBUFFORCE). A bigger receive buffer lets the receiver fall
// further behind before the kernel drops; it does not change the rate it can take.
constexpr int kForcedBuffer = 64 << 20;

// How a socket buffer was sized: "SO_RCVBUFFORCE 67108864" or "SO_RCVBUF up to
// net.core.rmem_max = 4194304"; the effective size (getsockopt, which the kernel doubles for
// its bookkeeping) is read separately.
struct buffer_plan {
  int forced_name, plain_name;
  const char* forced_text;
  const char* plain_text;
  const char* sysctl;
};
constexpr buffer_plan kReceive{SO_RCVBUFFORCE, SO_RCVBUF, "SO_RCVBUFFORCE", "SO_RCVBUF",
                               "/proc/sys/net/core/rmem_max"};
constexpr buffer_plan kSend{SO_SNDBUFFORCE, SO_SNDBUF, "SO_SNDBUFFORCE", "SO_SNDBUF",
                            "/proc/sys/net/core/wmem_max"};

// Raises one buffer as far as the kernel lets this process, and says how. The forced option is
// tried first; EPERM (no CAP_NET_ADMIN) falls back to the plain one at the sysctl's limit.
std::string raise_buffer(int fd, const buffer_plan& p) {
  if (::setsockopt(fd, SOL_SOCKET, p.forced_name, &kForcedBuffer, sizeof kForcedBuffer) == 0)
    return std::string(p.forced_text) + " " + std::to_string(kForcedBuffer);
  if (errno != EPERM) throw_errno(p.forced_text);
  const auto max = read_first_line(p.sysctl);
  if (!max) return std::string("default (") + p.sysctl + " unreadable)";
  const int limit = std::stoi(*max);
  set_int_option(fd, SOL_SOCKET, p.plain_name, limit, p.plain_text);
  return std::string(p.plain_text) + " up to " + p.sysctl + " = " + *max;
}

// Both buffers raised, and SO_RXQ_OVFL on, so the receiver learns how many datagrams the kernel
// dropped (peer.hpp places a short message's sequence number with it). Returns how the buffers
// were sized.
std::pair<std::string, std::string> prepare(int fd) {
  set_int_option(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL");
  std::string rcv = raise_buffer(fd, kReceive);
  return {std::move(rcv), raise_buffer(fd, kSend)};
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

std::string where(std::uint16_t port) {
  // Appended rather than "literal" + string, which trips GCC 12's -Wrestrict false positive.
  std::string s = "127.0.0.1:";
  s += std::to_string(port);
  return s;
}

// A UDP socket bound to 127.0.0.1:`port` (0: an ephemeral one); returns the port bound.
unique_fd bound_socket(std::uint16_t port, std::uint16_t& bound) {
  unique_fd s = make_socket(AF_INET, SOCK_DGRAM);
  prepare(s.get());
  sockaddr_in a = loopback(port);
  bind_to(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, where(port));
  socklen_t len = sizeof a;
  check(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), "getsockname(udp)");
  bound = ntohs(a.sin_port);
  return s;
}

void connect_and_time_out(int fd, std::uint16_t to) {
  const sockaddr_in a = loopback(to);
  connect_to(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a, where(to));
  const timeval tv{0, static_cast<suseconds_t>(kUdpReceiveTimeout.count() * 1000)};
  check(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), "setsockopt(SO_RCVTIMEO)");
}

}  // namespace

mechanism_traits udp_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "udp";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.lossy = true;
  t.wait = "recv(2) with a 200 ms SO_RCVTIMEO";
  t.description =
      "UDP over loopback 127.0.0.1, connected sockets; lost, duplicated and reordered datagrams "
      "are counted";
  // A socket connected to itself: every accepted probe lands in its own receive queue.
  std::uint16_t port = 0;
  unique_fd s = bound_socket(0, port);
  const sockaddr_in self = loopback(port);
  connect_to(s.get(), reinterpret_cast<const sockaddr*>(&self), sizeof self, where(port));
  const std::size_t max = probe_max_datagram(s.get(), s.get(), 65535);
  t.max_message = max;
  t.max_message_source =
      "probed: largest send(2) on a UDP socket over 127.0.0.1 = " + std::to_string(max) +
      " (IPv4: 65535 - 20 IP - 8 UDP = " + std::to_string(kIpv4Max) + ")";
  t.notes["address"] = "127.0.0.1, ephemeral ports";
  t.notes["SO_RCVTIMEO"] = std::to_string(kUdpReceiveTimeout.count()) + " ms";
  // The same sizing as every channel's sockets (bound_socket() applied it); what the kernel
  // granted, as getsockopt(2) reads it back (twice the request: the kernel counts its overhead).
  const auto [rcv_how, snd_how] = prepare(s.get());
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  t.notes["SO_SNDBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
  t.notes["SO_RCVBUF set by"] = rcv_how;
  t.notes["SO_SNDBUF set by"] = snd_how;
  t.notes["SO_RXQ_OVFL"] =
      "on: the receiver reads the kernel's drop count to place 1-7 byte messages' sequence "
      "numbers";
  return t;
}

udp_channel::udp_channel(const channel_config& cfg) : threads_(cfg.peers_are_threads) {
  producer_ = bound_socket(0, producer_port_);
  consumer_ = bound_socket(0, consumer_port_);
  connect_and_time_out(producer_.get(), consumer_port_);
  connect_and_time_out(consumer_.get(), producer_port_);
}

void udp_channel::opened() noexcept {
  producer_.reset();
  consumer_.reset();
}

datagram_endpoint udp_channel::open(role r) {
  if (r == role::producer) {
    if (!threads_) consumer_.reset();
    return datagram_endpoint(std::move(producer_), true);
  }
  if (!threads_) producer_.reset();
  return datagram_endpoint(std::move(consumer_), true);
}

nlohmann::json udp_channel::rendezvous() const {
  producer_.reset();
  consumer_.reset();
  return {{"address", "127.0.0.1"},
          {"producer_port", producer_port_},
          {"consumer_port", consumer_port_}};
}

datagram_endpoint udp_channel::attach(const nlohmann::json& where_to, role r) {
  const auto p = where_to.at("producer_port").get<std::uint16_t>();
  const auto c = where_to.at("consumer_port").get<std::uint16_t>();
  const bool producer = r == role::producer;
  std::uint16_t bound = 0;
  unique_fd s = bound_socket(producer ? p : c, bound);
  connect_and_time_out(s.get(), producer ? c : p);
  return datagram_endpoint(std::move(s), true);
}

}  // namespace ipcbench
