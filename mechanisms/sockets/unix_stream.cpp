#include "mechanisms/sockets/unix_stream.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

sockaddr_un address_of(const std::filesystem::path& p) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (p.native().size() >= sizeof a.sun_path)
    throw std::length_error("socket path too long for sockaddr_un: " + p.string());
  std::memcpy(a.sun_path, p.c_str(), p.native().size() + 1);
  return a;
}

}  // namespace

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
  path_ = cfg.dir->path() / "stream.sock";
  address_of(path_);  // fails now, in the coordinator, when the path is too long
  guard_ = cleanup::guard(cleanup::kind::path, -1, path_.c_str());
}

unix_stream_channel::~unix_stream_channel() {
  unlink_path();
}

void unix_stream_channel::unlink_path() noexcept {
  if (!path_.empty()) ::unlink(path_.c_str());
  guard_.release();
}

void unix_stream_channel::opened() noexcept {
  unlink_path();
}

stream_endpoint unix_stream_channel::open(role r) {
  return attach(rendezvous(), r);
}

nlohmann::json unix_stream_channel::rendezvous() const {
  return {{"path", path_.string()}};
}

stream_endpoint unix_stream_channel::attach(const nlohmann::json& where, role r) {
  const std::string path = where.at("path").get<std::string>();
  const sockaddr_un a = address_of(path);
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
