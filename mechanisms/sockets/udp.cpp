#include "mechanisms/sockets/udp.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <string>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr std::size_t kIpv4Max = 65535 - 20 - 8;  // IP total length - IP header - UDP header

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
  t.notes["SO_SNDBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  return t;
}

udp_channel::udp_channel(const channel_config&) {
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
    consumer_.reset();
    return datagram_endpoint(std::move(producer_));
  }
  producer_.reset();
  return datagram_endpoint(std::move(consumer_));
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
  return datagram_endpoint(std::move(s));
}

}  // namespace ipcbench
