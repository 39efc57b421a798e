#include "mechanisms/sockets/tcp_netns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>

#include "sys/error.hpp"
#include "sys/socket.hpp"

namespace ipcbench {
namespace {

sockaddr_in consumer_address() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(tcp_netns_channel::kPort);
  ::inet_pton(AF_INET, veth_namespaces::kAddrB, &a.sin_addr);
  return a;
}

std::string where() {
  // Appended rather than "literal" + string, which trips GCC 12's -Wrestrict false positive.
  std::string w = veth_namespaces::kAddrB;
  w += ':';
  w += std::to_string(tcp_netns_channel::kPort);
  w += " (network namespace B, over the veth pair)";
  return w;
}

}  // namespace

mechanism_traits tcp_netns_channel::describe() {
  // Made once, so that a machine that forbids it says so before any benchmark runs.
  make_veth_namespaces();
  mechanism_traits t;
  t.id = "tcp.netns";
  t.mechanism = "tcp";
  t.variant = "netns";
  t.family = "sockets";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2)";
  t.description =
      "TCP between two network namespaces joined by a veth pair (two containers on one host), "
      "TCP_NODELAY on both ends";
  t.notes.emplace("TCP_NODELAY", "1");  // not operator[]: GCC 12 -Wrestrict false positive
  t.notes["namespaces"] =
      "two, made with unshare(CLONE_NEWNET) before fork and held only by descriptors (no "
      "/run/netns name): the kernel removes them with their last holder";
  std::string veth = veth_namespaces::kIfA;
  for (const char* part : {" ", veth_namespaces::kAddrA, "/24 <-> ", veth_namespaces::kIfB, " ",
                           veth_namespaces::kAddrB, "/24, MTU 1500"})
    veth += part;
  t.notes["veth"] = veth;
  t.notes["address"] = where();
  return t;
}

tcp_netns_channel::tcp_netns_channel(const channel_config& cfg)
    : ns_(make_veth_namespaces()), threads_(cfg.peers_are_threads) {}

stream_endpoint tcp_netns_channel::open(role r) {
  enter_netns(r == role::consumer ? ns_.b.get() : ns_.a.get());
  // A process peer's inherited references: its thread now holds its own namespace.
  if (!threads_) ns_ = {};
  const sockaddr_in a = consumer_address();
  const auto* sa = reinterpret_cast<const sockaddr*>(&a);
  unique_fd s;
  if (r == role::consumer) {
    unique_fd listener = make_socket(AF_INET, SOCK_STREAM);
    set_int_option(listener.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    bind_to(listener.get(), sa, sizeof a, where());
    check(::listen(listener.get(), 1), "listen(" + where() + ")");
    s = accept_one(listener.get(), where());
  } else {
    s = connect_when_listening(AF_INET, sa, sizeof a, where());
  }
  set_int_option(s.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  return stream_endpoint(std::move(s));
}

}  // namespace ipcbench
