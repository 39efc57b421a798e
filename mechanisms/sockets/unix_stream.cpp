#include "mechanisms/sockets/unix_stream.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {

mechanism_traits unix_stream_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "unix_stream";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::stream;
  t.related_only = false;
  t.wait = "blocking read(2)";
  t.description =
      "Unix-domain stream socket on a path in a private directory, unlinked after connect";
  auto s = make_socket(AF_UNIX, SOCK_STREAM);
  t.notes["SO_SNDBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  return t;
}

unix_stream_channel::unix_stream_channel(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("unix_stream needs a private directory");
  const auto p = cfg.dir->path() / "stream.sock";
  unix_address(p);  // fails now, in the coordinator, when the path is too long
  path_ = named_object(named_object::kind::path, p.string());
  path_.created();  // the consumer binds it; it is the coordinator's to unlink
}

void unix_stream_channel::opened() noexcept {
  path_.unlink();
}

stream_endpoint unix_stream_channel::open(role r) {
  return attach(rendezvous(), r);
}

nlohmann::json unix_stream_channel::rendezvous() const {
  return {{"path", path_.name()}};
}

stream_endpoint unix_stream_channel::attach(const nlohmann::json& where, role r) {
  const std::string path = where.at("path").get<std::string>();
  const sockaddr_un a = unix_address(path);
  const auto* sa = reinterpret_cast<const sockaddr*>(&a);
  if (r == role::consumer) {
    // The consumer creates the socket file; the directory is 0700, so only this user reaches it.
    unique_fd listener = make_socket(AF_UNIX, SOCK_STREAM);
    bind_to(listener.get(), sa, sizeof a, path);
    check(::listen(listener.get(), 1), "listen(" + path + ")");
    return stream_endpoint(accept_one(listener.get(), path));
  }
  return stream_endpoint(connect_when_listening(AF_UNIX, sa, sizeof a, path));
}

namespace {

// The listening socket of a fan-in on `path`, made before fork so the producers can connect
// whenever they start; the backlog holds every producer's connection until the consumer
// accepts it.
unique_fd listen_on(const sockaddr_un& a, const std::string& path, named_object& name,
                    std::size_t producers) {
  unique_fd listener = make_socket(AF_UNIX, SOCK_STREAM);
  bind_to(listener.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, path);
  name.created();
  check(::listen(listener.get(), static_cast<int>(producers)), "listen(" + path + ")");
  return listener;
}

std::string server_path(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("unix_stream needs a private directory");
  return (cfg.dir->path() / "fanin.sock").string();
}

}  // namespace

unix_stream_server_channel::unix_stream_server_channel(const channel_config& cfg,
                                                       std::size_t producers)
    : path_(named_object::kind::path, server_path(cfg)),
      address_(unix_address(path_.name())),
      server_(listen_on(address_, path_.name(), path_, producers), producers, path_.name()) {}

void unix_stream_server_channel::opened() noexcept {
  path_.unlink();
  server_.close();
}

stream_server_endpoint unix_stream_server_channel::open(role r) {
  if (r == role::consumer) return server_.accept_all([](int) {});
  server_.leave();
  return stream_server_endpoint(connect_when_listening(
      AF_UNIX, reinterpret_cast<const sockaddr*>(&address_), sizeof address_, path_.name()));
}

}  // namespace ipcbench
