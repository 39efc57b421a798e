#include "mechanisms/sockets/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

std::string where_of(const sockaddr_in& a) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
  // Appended rather than "literal" + string, which trips GCC 12's -Wrestrict false positive.
  std::string where = text;
  where += ':';
  where += std::to_string(ntohs(a.sin_port));
  return where;
}

// A TCP socket that may share its port with the other sockets of this user that set the same
// option (socket(7)): the reservation and the consumer's listener.
unique_fd make_shared_port_socket() {
  unique_fd s = make_socket(AF_INET, SOCK_STREAM);
  set_int_option(s.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  set_int_option(s.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  return s;
}

void set_nodelay(int fd) {
  set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
}

stream_server loopback_server(sockaddr_in& a, std::size_t producers) {
  // Listening before fork, with room in its backlog for every producer.
  unique_fd s = listen_on_loopback(a, static_cast<int>(producers));
  return stream_server(std::move(s), producers, where_of(a));
}

}  // namespace

mechanism_traits tcp_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "tcp";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::stream;
  t.related_only = false;
  t.wait = "blocking read(2)";
  t.description = "TCP over loopback 127.0.0.1, TCP_NODELAY on both ends";
  t.notes.emplace("TCP_NODELAY", "1");
  t.notes["address"] = "127.0.0.1, ephemeral port";
  t.notes["rendezvous"] =
      "the coordinator reserves the port (bound, not listening, SO_REUSEPORT); the consumer "
      "listens on it, the producer connects";
  if (auto v = read_first_line("/proc/sys/net/ipv4/tcp_wmem")) t.notes["tcp_wmem"] = *v;
  if (auto v = read_first_line("/proc/sys/net/ipv4/tcp_rmem")) t.notes["tcp_rmem"] = *v;
  return t;
}

tcp_channel::tcp_channel(const channel_config& cfg) : threads_(cfg.peers_are_threads) {
  address_.sin_family = AF_INET;
  address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address_.sin_port = 0;
  reservation_ = make_shared_port_socket();
  bind_to(reservation_.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_,
          "127.0.0.1:0");
  socklen_t len = sizeof address_;
  check(::getsockname(reservation_.get(), reinterpret_cast<sockaddr*>(&address_), &len),
        "getsockname");
}

void tcp_channel::opened() noexcept {
  reservation_.reset();
}

stream_endpoint tcp_channel::open(role r) {
  return stream_endpoint(open_socket(r));
}

unique_fd tcp_channel::open_socket(role r) {
  if (!threads_) reservation_.reset();  // this peer's inherited copy
  return attach_socket(rendezvous(), r);
}

nlohmann::json tcp_channel::rendezvous() const {
  return {{"address", "127.0.0.1"}, {"port", ntohs(address_.sin_port)}};
}

stream_endpoint tcp_channel::attach(const nlohmann::json& where, role r) {
  return stream_endpoint(attach_socket(where, r));
}

unique_fd tcp_channel::attach_socket(const nlohmann::json& where, role r) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(where.at("port").get<std::uint16_t>());
  const std::string address = where.at("address").get<std::string>();
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
    throw std::invalid_argument("tcp rendezvous: not an IPv4 address: " + address);
  const std::string what = where_of(a);
  const auto* sa = reinterpret_cast<const sockaddr*>(&a);
  unique_fd s;
  if (r == role::consumer) {
    unique_fd listener = make_shared_port_socket();
    bind_to(listener.get(), sa, sizeof a, what);
    check(::listen(listener.get(), 1), "listen(" + what + ")");
    s = accept_one(listener.get(), what);
  } else {
    s = connect_when_listening(AF_INET, sa, sizeof a, what);
  }
  set_nodelay(s.get());
  return s;
}

tcp_server_channel::tcp_server_channel(const channel_config&, std::size_t producers)
    : server_(loopback_server(address_, producers)) {}

void tcp_server_channel::opened() noexcept {
  server_.close();
}

stream_server_endpoint tcp_server_channel::open(role r) {
  if (r == role::consumer) return server_.accept_all(set_nodelay);
  server_.leave();
  unique_fd s = connect_when_listening(AF_INET, reinterpret_cast<const sockaddr*>(&address_),
                                       sizeof address_, server_.where());
  set_nodelay(s.get());
  return stream_server_endpoint(std::move(s));
}

}  // namespace ipcbench
