#include "mechanisms/sockets/stream_server.hpp"

#include <sys/epoll.h>

#include <stdexcept>

#include "sys/error.hpp"
#include "sys/retry.hpp"
#include "sys/socket.hpp"

namespace ipcbench {

stream_server_endpoint::stream_server_endpoint(std::vector<unique_fd> connections)
    : conns_(std::move(connections)), ready_(conns_.size()), open_(conns_.size()) {
  epoll_ = unique_fd(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
  for (std::size_t k = 0; k < conns_.size(); ++k) {
    epoll_event ev{};
    // Level-triggered: a connection with more than one record waiting is reported again by the
    // next wait, after the others had their turn.
    ev.events = EPOLLIN;
    ev.data.u64 = k;
    check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, conns_[k].get(), &ev),
          "epoll_ctl(EPOLL_CTL_ADD)");
  }
}

io_status stream_server_endpoint::send(std::span<const std::byte> msg) {
  if (!client_)
    throw std::logic_error("the fan-in consumer's end of a stream server sends nothing");
  // MSG_NOSIGNAL: a consumer that is gone is `closed`, not a SIGPIPE.
  return send_all(client_.get(), msg);
}

void stream_server_endpoint::drop(std::size_t k) noexcept {
  // Closing would remove it too, unless a copy of the descriptor lived on somewhere.
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, conns_[k].get(), nullptr);
  conns_[k].reset();
  --open_;
}

std::ptrdiff_t stream_server_endpoint::receive(std::span<std::byte> buf) {
  for (;;) {
    while (ready_next_ < ready_count_) {
      const auto k = static_cast<std::size_t>(ready_[ready_next_++].data.u64);
      if (!conns_[k]) continue;
      // EPOLLIN (or EPOLLHUP/EPOLLERR, which read reports) says the connection has a first
      // byte; the rest of the record follows on the same connection, read to its end here,
      // partial reads and all, before any other connection is served.
      if (read_exact(conns_[k].get(), buf) == io_status::ok)
        return static_cast<std::ptrdiff_t>(buf.size());
      drop(k);
    }
    if (open_ == 0) return kPeerGone;
    const int n = retry_on_eintr([&] {
      return ::epoll_wait(epoll_.get(), ready_.data(), static_cast<int>(ready_.size()), -1);
    });
    if (n < 0) throw_errno("epoll_wait");
    ready_count_ = static_cast<std::size_t>(n);
    ready_next_ = 0;
  }
}

unique_fd stream_server::accept_client() {
  return accept_one(listener_.get(), where_);
}

}  // namespace ipcbench
