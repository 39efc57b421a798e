#include "mechanisms/sockets/vsock.hpp"

#include <sys/socket.h>

#include <string>

#include "sys/error.hpp"
#include "sys/socket.hpp"

namespace ipcbench {
namespace {

// Listens on VMADDR_CID_LOCAL at a port the kernel picks (written to `a`).
unique_fd listen_local(sockaddr_vm& a) {
  a = {};
  a.svm_family = AF_VSOCK;
  a.svm_cid = VMADDR_CID_LOCAL;
  a.svm_port = VMADDR_PORT_ANY;
  unique_fd s = make_socket(AF_VSOCK, SOCK_STREAM);
  bind_to(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a,
          "vsock VMADDR_CID_LOCAL (the loopback transport, module vsock_loopback)");
  socklen_t len = sizeof a;
  check(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len), "getsockname(vsock)");
  check(::listen(s.get(), 1), "listen(vsock)");
  return s;
}

std::string where_of(const sockaddr_vm& a) {
  return "vsock " + std::to_string(a.svm_cid) + ":" + std::to_string(a.svm_port);
}

}  // namespace

mechanism_traits vsock_channel::describe() {
  // The loopback transport, tried end to end: listen, connect, accept.
  sockaddr_vm a{};
  unique_fd listener = listen_local(a);
  unique_fd client = make_socket(AF_VSOCK, SOCK_STREAM);
  connect_to(client.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, where_of(a));
  accept_one(listener.get(), where_of(a));

  mechanism_traits t;
  t.id = t.mechanism = "vsock";
  t.variant = "default";
  t.family = "sockets";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2)";
  t.description =
      "AF_VSOCK stream socket over the loopback transport (VMADDR_CID_LOCAL), listening before "
      "fork";
  t.notes["address"] = "VMADDR_CID_LOCAL (1), a port the kernel picks";
  t.notes["transport"] = "vsock_loopback";
  return t;
}

vsock_channel::vsock_channel(const channel_config& cfg)
    : listener_(listen_local(address_)), threads_(cfg.peers_are_threads) {
  where_ = where_of(address_);
}

stream_endpoint vsock_channel::open(role r) {
  if (r == role::consumer) {
    unique_fd s = accept_one(listener_.get(), where_);
    if (!threads_) listener_.reset();
    return stream_endpoint(std::move(s));
  }
  if (!threads_) listener_.reset();
  return stream_endpoint(connect_when_listening(
      AF_VSOCK, reinterpret_cast<const sockaddr*>(&address_), sizeof address_, where_));
}

}  // namespace ipcbench
