// Fan-in over a stream socket the way a server takes its clients: the coordinator makes the
// listening socket before fork (a path in the private directory, or 127.0.0.1 on an ephemeral
// port), each producer connects a client of its own, and the consumer accepts the N
// connections and serves them from one epoll set. A stream has no record boundaries across
// connections, so the consumer reads a whole record from one connection before it looks at
// another: no record is ever interleaved with another's bytes, and every record arrives whole
// (fan-in's record mode, whatever its size). The channels (unix_stream_server_channel,
// tcp_server_channel) live beside their one-pair adapters; this is what they share. Fan-in
// only: the channel is made for N producers, in the fork process model.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <sys/epoll.h>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One member's end of a socket fan-in: a producer's connected client, or the consumer's
// accepted connections in an epoll set. In a peer only; owns its descriptors.
class stream_server_endpoint {
 public:
  // A producer's client: send() writes each record whole to it (looping over partial writes).
  explicit stream_server_endpoint(unique_fd client) noexcept : client_(std::move(client)) {}
  // The consumer: the accepted connections, watched by one epoll instance (level-triggered).
  // Throws std::system_error naming epoll_create1 or epoll_ctl.
  explicit stream_server_endpoint(std::vector<unique_fd> connections);

  // A producer's record, whole. The consumer sends nothing: std::logic_error.
  io_status send(std::span<const std::byte> msg);
  // The consumer: one whole record of buf.size() bytes from one connection. Serves every
  // connection the last epoll_wait(2) found readable, one record each, before it waits again,
  // so a busy client cannot starve the others. A connection at EOF (its producer closed or
  // died, possibly mid-record) leaves the set and the wait goes on over the rest, as a FIFO's
  // reader goes on while any writer remains: the coordinator sees a dead producer on its control
  // channel and ends the run. kPeerGone once every connection is gone. Throws std::system_error
  // when epoll_wait or read fails otherwise.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  void drop(std::size_t k) noexcept;

  unique_fd client_;                // producer
  unique_fd epoll_;                 // consumer
  std::vector<unique_fd> conns_;    // consumer: the accepted connections, by epoll data
  std::vector<epoll_event> ready_;  // the last epoll_wait's events
  std::size_t ready_count_ = 0;
  std::size_t ready_next_ = 0;  // the next of them to serve
  std::size_t open_ = 0;        // connections not yet at EOF
};

// The listening socket of a fan-in, made in the coordinator before fork and inherited by every
// member. The consumer accepts the producers' connections on it; everyone else closes it.
class stream_server {
 public:
  // `listener` is bound and listening with a backlog of at least `producers`.
  stream_server(unique_fd listener, std::size_t producers, std::string where) noexcept
      : listener_(std::move(listener)), producers_(producers), where_(std::move(where)) {}
  // Coordinator, once every member has opened its end.
  void close() noexcept { listener_.reset(); }
  // In the consumer: accepts the N connections (blocking: a producer that dies before it
  // connects is seen by the coordinator, which kills the members), calls tune(fd) on each,
  // closes the listener. Throws std::system_error naming accept and `where`.
  template <class Tune>
  stream_server_endpoint accept_all(Tune&& tune) {
    std::vector<unique_fd> conns;
    conns.reserve(producers_);
    for (std::size_t i = 0; i < producers_; ++i) {
      conns.push_back(accept_client());
      tune(conns.back().get());
    }
    listener_.reset();
    return stream_server_endpoint(std::move(conns));
  }
  // In a producer: drops the inherited listener (only the consumer accepts).
  void leave() noexcept { listener_.reset(); }
  const std::string& where() const noexcept { return where_; }

 private:
  unique_fd accept_client();

  unique_fd listener_;
  std::size_t producers_;
  std::string where_;
};

}  // namespace ipcbench
