#include "mechanisms/sockets/unix_dgram.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <stdexcept>

#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {

mechanism_traits unix_dgram_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "unix_dgram";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::message;
  t.related_only = true;  // both sockets are made by the coordinator and inherited
  t.wait = "blocking recv(2)";
  t.description =
      "Unix-domain datagram sockets bound to paths in a private directory, connected to each "
      "other, paths unlinked after connect";
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  const int sndbuf = get_int_option(a.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
  // The kernel refuses a datagram above SO_SNDBUF less a small overhead (EMSGSIZE); ask it.
  const std::size_t max = probe_max_datagram(a.get(), b.get(), static_cast<std::size_t>(sndbuf));
  t.max_message = max;
  t.max_message_source =
      "probed: largest send(2) on an AF_UNIX SOCK_DGRAM socket = " + std::to_string(max) +
      " (SO_SNDBUF " + std::to_string(sndbuf) + ")";
  t.notes["SO_SNDBUF"] = std::to_string(sndbuf);
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(a.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  if (auto v = read_integer("/proc/sys/net/unix/max_dgram_qlen"))
    t.notes["max_dgram_qlen"] = std::to_string(*v);
  return t;
}

unix_dgram_channel::unix_dgram_channel(const channel_config& cfg)
    : threads_(cfg.peers_are_threads) {
  if (cfg.dir == nullptr) throw std::invalid_argument("unix_dgram needs a private directory");
  const auto bound = [&cfg](const char* file, named_object& path) {
    const auto p = cfg.dir->path() / file;
    const sockaddr_un a = unix_address(p);
    path = named_object(named_object::kind::path, p.string());
    unique_fd s = make_socket(AF_UNIX, SOCK_DGRAM);
    bind_to(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, path.name());
    path.created();
    return s;
  };
  producer_ = bound("producer.dgram", producer_path_);
  consumer_ = bound("consumer.dgram", consumer_path_);
}

void unix_dgram_channel::opened() noexcept {
  // A connected datagram socket keeps its peer without the path.
  producer_path_.unlink();
  consumer_path_.unlink();
  producer_.reset();
  consumer_.reset();
}

datagram_endpoint unix_dgram_channel::open(role r) {
  const bool producer = r == role::producer;
  unique_fd mine = std::move(producer ? producer_ : consumer_);
  if (!threads_) (producer ? consumer_ : producer_).reset();
  const std::string& to = (producer ? consumer_path_ : producer_path_).name();
  const sockaddr_un a = unix_address(to);
  connect_to(mine.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, to);
  return datagram_endpoint(std::move(mine));
}

}  // namespace ipcbench
