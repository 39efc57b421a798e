#include "mechanisms/sockets/unix_stream.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <stdexcept>

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

}  // namespace ipcbench
