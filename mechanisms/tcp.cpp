#include "tcp.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mechanisms/socket_util.hpp"
#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {

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
  if (auto v = read_first_line("/proc/sys/net/ipv4/tcp_wmem")) t.notes["tcp_wmem"] = *v;
  if (auto v = read_first_line("/proc/sys/net/ipv4/tcp_rmem")) t.notes["tcp_rmem"] = *v;
  return t;
}

tcp_channel::tcp_channel(const channel_config&) {
  address_.sin_family = AF_INET;
  address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address_.sin_port = 0;
  listener_ = make_socket(AF_INET, SOCK_STREAM);
  set_int_option(listener_.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  bind_to(listener_.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_,
          "127.0.0.1:0");
  check(::listen(listener_.get(), 1), "listen(127.0.0.1)");
  socklen_t len = sizeof address_;
  check(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address_), &len),
        "getsockname");
}

void tcp_channel::opened() noexcept {
  listener_.reset();
}

stream_endpoint tcp_channel::open(role r) {
  // Appended rather than "literal" + string, which trips GCC 12's -Wrestrict false positive.
  std::string where = "127.0.0.1:";
  where += std::to_string(ntohs(address_.sin_port));
  unique_fd s;
  if (r == role::consumer) {
    s = accept_one(listener_.get(), where);
    listener_.reset();
  } else {
    listener_.reset();
    s = make_socket(AF_INET, SOCK_STREAM);
    connect_to(s.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_, where);
  }
  set_int_option(s.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  return stream_endpoint(std::move(s));
}

}  // namespace ipcbench
