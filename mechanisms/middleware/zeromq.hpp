// ZeroMQ (libzmq, its C API): zeromq.ipc over ipc:// on a path in the run's private directory,
// zeromq.tcp over tcp:// on 127.0.0.1. Round trips use PAIR sockets; streams use PUSH/PULL, the
// pattern of libzmq's own perf/local_thr and remote_thr, with libzmq's default high-water mark
// from 16 KiB up (zeromq.cpp says why not below).
// The coordinator makes no ZeroMQ object (libzmq owns I/O threads, which a fork does not copy):
// each peer creates its own context and socket in open()/attach(), after fork. The consumer
// binds, the producer connects; a one-byte hello (and its answer, for PAIR), before open()
// returns, proves the pair connected, so the coordinator's opened() may unlink the ipc path. One
// zmq message is one harness message, received whole (a message larger than the receive buffer
// is an error, never a truncation). PAIR's high-water marks are unlimited (see zeromq.cpp: at
// libzmq 4.3.4's mark, 1-byte PAIR streams over ipc:// lost messages here); a PUSH socket at its
// mark blocks, so a stream loses nothing. Named channels: forked and separately launched peers
// rendezvous the same way; the rendezvous names the pattern.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// A peer's context and socket (PAIR, or PUSH/PULL for a stream). Move-only; closing waits
// (ZMQ_LINGER -1) until the messages still queued have reached the partner, so a producer that ends
// its stream and closes loses none. Throws std::system_error naming the zmq call.
class zeromq_endpoint {
 public:
  // Creates the context and the socket of `r` for pattern `p` and messages of `message_size`
  // bytes (a stream's high-water mark depends on it) with the suite's options (see
  // add_zeromq_notes()).
  zeromq_endpoint(pattern p, role r, std::size_t message_size);
  zeromq_endpoint(zeromq_endpoint&& o) noexcept;
  zeromq_endpoint& operator=(zeromq_endpoint&&) = delete;
  zeromq_endpoint(const zeromq_endpoint&) = delete;
  ~zeromq_endpoint();

  // Consumer: binds `endpoint`; with `listening_fd` >= 0 (tcp), hands libzmq that bound and
  // listening socket (ZMQ_USE_FD) instead of letting it bind one.
  void bind(const std::string& endpoint, unique_fd listening_fd = {});
  // Producer: connects (libzmq retries until the consumer has bound).
  void connect(const std::string& endpoint);
  // The hello exchange above: the producer sends one byte and (PAIR) waits for the answer, the
  // consumer waits for the byte and (PAIR) answers.
  void handshake(role r);

  io_status send(std::span<const std::byte> msg);
  // One message: its length, or kPeerGone when the context was terminated.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  void close() noexcept;
  static const char* socket_name(pattern p, role r) noexcept;

  void* context_ = nullptr;
  void* socket_ = nullptr;
  bool stream_ = false;  // PUSH/PULL: one way
};

// The facts every zeromq id records in its notes: library version and socket options.
void add_zeromq_notes(mechanism_traits& t);

class zeromq_ipc_channel {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: chooses the path in the private directory (the consumer's bind creates the
  // socket file) and owns it as a named_object. Throws std::invalid_argument without a private
  // directory, std::length_error when the path does not fit an AF_UNIX address.
  explicit zeromq_ipc_channel(const channel_config& cfg);
  void opened() noexcept;
  zeromq_endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"path": socket path, "pattern": ...}
  static zeromq_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object path_;
  pattern pat_;
  std::size_t size_;
};

class zeromq_tcp_channel {
 public:
  // open(role) leaves the port's reservation to opened() between threads: two threads of one
  // process may both open their ends.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator: reserves an ephemeral port on 127.0.0.1 as tcp does (bound, never listening,
  // SO_REUSEPORT); the consumer binds the same port with a listening socket of its own and hands
  // it to libzmq (ZMQ_USE_FD). Throws std::system_error.
  explicit zeromq_tcp_channel(const channel_config& cfg);
  void opened() noexcept;
  zeromq_endpoint open(role r);
  nlohmann::json rendezvous() const;  // {"address": "127.0.0.1", "port": N, "pattern": ...}
  static zeromq_endpoint attach(const nlohmann::json& where, role r);

 private:
  std::uint16_t port_ = 0;
  unique_fd reservation_;
  pattern pat_;
  std::size_t size_;
  bool threads_;  // the peers are threads: open() leaves the reservation alone
};

}  // namespace ipcbench
