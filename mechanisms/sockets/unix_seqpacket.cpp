#include "mechanisms/sockets/unix_seqpacket.hpp"

#include <unistd.h>

#include <stdexcept>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {

mechanism_traits unix_seqpacket_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "unix_seqpacket";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::message;
  t.related_only = true;  // the listening socket is made by the coordinator and inherited
  t.wait = "blocking recv(2)";
  t.description =
      "Unix-domain SOCK_SEQPACKET socket on a path in a private directory, unlinked after "
      "connect";
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  const int sndbuf = get_int_option(a.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
  const std::size_t max = probe_max_datagram(a.get(), b.get(), static_cast<std::size_t>(sndbuf));
  t.max_message = max;
  t.max_message_source =
      "probed: largest send(2) on an AF_UNIX SOCK_SEQPACKET socket = " + std::to_string(max) +
      " (SO_SNDBUF " + std::to_string(sndbuf) + ")";
  t.notes["SO_SNDBUF"] = std::to_string(sndbuf);
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(a.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  return t;
}

unix_seqpacket_channel::unix_seqpacket_channel(const channel_config& cfg)
    : threads_(cfg.peers_are_threads) {
  if (cfg.dir == nullptr) throw std::invalid_argument("unix_seqpacket needs a private directory");
  const auto p = cfg.dir->path() / "seqpacket.sock";
  const sockaddr_un a = unix_address(p);
  path_ = named_object(named_object::kind::path, p.string());
  listener_ = make_socket(AF_UNIX, SOCK_SEQPACKET);
  bind_to(listener_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, path_.name());
  path_.created();
  check(::listen(listener_.get(), 1), "listen(" + path_.name() + ")");
}

void unix_seqpacket_channel::opened() noexcept {
  path_.unlink();
  listener_.reset();
}

datagram_endpoint unix_seqpacket_channel::open(role r) {
  if (r == role::consumer) {
    unique_fd conn = accept_one(listener_.get(), path_.name());
    listener_.reset();
    return datagram_endpoint(std::move(conn));
  }
  if (!threads_) listener_.reset();
  const sockaddr_un a = unix_address(path_.name());
  unique_fd s = make_socket(AF_UNIX, SOCK_SEQPACKET);
  connect_to(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, path_.name());
  return datagram_endpoint(std::move(s));
}

}  // namespace ipcbench
