// nng (nanomsg-next-generation) pair sockets, protocol pair1 in its default monogamous mode, over
// ipc:// on a path in the run's private directory. The coordinator makes no nng object (nng owns
// threads, which a fork does not copy): each peer opens its socket in open()/attach(), after
// fork. The consumer listens, the producer dials (nng retries until the listener exists); a
// one-byte hello and its answer, before open() returns, prove the pair connected, so the
// coordinator's opened() may unlink the path. One nng message is one harness message, received
// whole (a message larger than the receive buffer is an error, never a truncation); a full
// pipe makes nng_send(3) wait rather than drop. A named channel: forked and separately launched
// peers rendezvous the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// A peer's pair1 socket. Move-only. nng_close(3) may drop messages still queued, so closing
// says goodbye first: the consumer sends one byte when it closes (it has received everything by
// then), the producer waits for that byte (at most kByeTimeoutMs) before it closes, so the tail
// of a stream is never dropped. Throws std::system_error naming the nng call.
class nng_endpoint {
 public:
  static constexpr int kByeTimeoutMs = 60'000;

  nng_endpoint(role r);  // opens the socket with the suite's options (see describe())
  nng_endpoint(nng_endpoint&& o) noexcept;
  nng_endpoint& operator=(nng_endpoint&&) = delete;
  nng_endpoint(const nng_endpoint&) = delete;
  ~nng_endpoint();

  void listen(const std::string& url);  // consumer
  void dial(const std::string& url);    // producer, in the background until it connects
  void handshake();                     // the hello exchange above

  io_status send(std::span<const std::byte> msg);
  // One message: its length, or kPeerGone when the socket was closed.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  void close() noexcept;

  role role_;
  std::uint32_t socket_ = 0;  // nng_socket's id; 0 is never a valid socket
};

class nng_ipc_channel {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: chooses the path in the private directory (the consumer's listener creates the
  // socket file) and owns it as a named_object. Throws std::invalid_argument without a private
  // directory, std::length_error when the path does not fit an AF_UNIX address.
  explicit nng_ipc_channel(const channel_config& cfg);
  void opened() noexcept;
  nng_endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"path": socket path}
  static nng_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object path_;
};

}  // namespace ipcbench
