#include "mechanisms/uring/uring_stream.hpp"

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>
#include <utility>

#include "mechanisms/uring/uring_ring.hpp"
#include "sys/error.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

uring_options options_for(uring_submit how) {
  uring_options o;
  o.sqpoll = how == uring_submit::sqpoll;
  o.sq_idle_ms = 50;
  // A peer pinned to one CPU (placement cross or same) pins its SQPOLL thread beside it. Left
  // to the scheduler, the two threads of a pair landed each on the other peer's CPU in some
  // repetitions and on its own in others, and the round trip moved 3-4x between the two.
  if (o.sqpoll) {
    const std::vector<int> cpus = allowed_cpus();
    if (cpus.size() == 1) o.sq_cpu = cpus.front();
  }
  return o;
}

// Whether this process may pin memory beyond RLIMIT_MEMLOCK (CAP_IPC_LOCK in its effective
// set): io_uring then does not account registered buffers at all.
bool has_ipc_lock() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> CAP_IPC_LOCK) & 1u;
  }
  return false;
}

// The buffers pinned per run: each peer registers the sender's two stamped buffers and its
// receive buffer, and both peers' rings count against the same user's RLIMIT_MEMLOCK.
constexpr std::size_t kPinnedBuffersPerRun = 6;

}  // namespace

uring_stream_endpoint::uring_stream_endpoint(unique_fd in, unique_fd out, uring_submit how)
    : in_(std::move(in)),
      out_(std::move(out)),
      ring_(std::make_unique<uring_ring>(options_for(how))) {
  register_files();
}

uring_stream_endpoint::uring_stream_endpoint(unique_fd both, uring_submit how)
    : in_(std::move(both)), ring_(std::make_unique<uring_ring>(options_for(how))) {
  register_files();
}

uring_stream_endpoint::uring_stream_endpoint(uring_stream_endpoint&&) noexcept = default;
uring_stream_endpoint& uring_stream_endpoint::operator=(uring_stream_endpoint&&) noexcept = default;
// The ring goes first (io_uring_queue_exit drops its registered files and buffers), then the
// descriptors: members are destroyed in reverse order.
uring_stream_endpoint::~uring_stream_endpoint() = default;

void uring_stream_endpoint::register_files() {
  int fds[2] = {in_.get(), out_ ? out_.get() : in_.get()};
  const unsigned n = out_ ? 2 : 1;
  const int rc = io_uring_register_files(ring_->get(), fds, n);
  if (rc < 0) throw_errno("io_uring_register_files", -rc);
  in_index_ = 0;
  out_index_ = n - 1;
}

unsigned uring_stream_endpoint::buffer_index(const std::byte* p, std::size_t n) {
  for (unsigned i = 0; i < buffers_.size(); ++i) {
    const auto* base = static_cast<const std::byte*>(buffers_[i].iov_base);
    if (p >= base && p + n <= base + buffers_[i].iov_len) return i;
  }
  // A buffer not seen before: the table is registered again with it (the harness hands an
  // endpoint the same few buffers for its whole life, so this happens in the warm-up). A span
  // that overlaps a registered one (a larger message in the same buffer) replaces it with the
  // union of the two: both were handed in, so the whole union is mapped.
  if (!buffers_.empty()) {
    const int rc = io_uring_unregister_buffers(ring_->get());
    if (rc < 0) throw_errno("io_uring_unregister_buffers", -rc);
  }
  const std::byte* lo = p;
  const std::byte* hi = p + n;
  for (auto it = buffers_.begin(); it != buffers_.end();) {
    const auto* base = static_cast<const std::byte*>(it->iov_base);
    if (base < hi && lo < base + it->iov_len) {
      lo = std::min(lo, base);
      hi = std::max(hi, base + it->iov_len);
      it = buffers_.erase(it);
    } else {
      ++it;
    }
  }
  p = lo;
  n = static_cast<std::size_t>(hi - lo);
  buffers_.push_back({const_cast<std::byte*>(p), n});
  const int rc = io_uring_register_buffers(ring_->get(), buffers_.data(),
                                           static_cast<unsigned>(buffers_.size()));
  if (rc < 0) {
    buffers_.pop_back();
    std::string what = "io_uring_register_buffers(" + std::to_string(n) + " bytes";
    if (rc == -ENOMEM) {
      rlimit lim{};
      ::getrlimit(RLIMIT_MEMLOCK, &lim);
      what += ", RLIMIT_MEMLOCK " + std::to_string(lim.rlim_cur) + " bytes per user";
    }
    throw_errno(what + ")", -rc);
  }
  ++registrations_;
  return static_cast<unsigned>(buffers_.size() - 1);
}

int uring_stream_endpoint::transfer(bool write, unsigned file, std::byte* p, std::size_t n) {
  const unsigned buf = buffer_index(p, n);
  io_uring_sqe* sqe = ring_->sqe();
  // Offset 0: pipes ignore it, and sockets refuse any other (sock_read_iter: ESPIPE).
  if (write)
    io_uring_prep_write_fixed(sqe, static_cast<int>(file), p, static_cast<unsigned>(n), 0,
                              static_cast<int>(buf));
  else
    io_uring_prep_read_fixed(sqe, static_cast<int>(file), p, static_cast<unsigned>(n), 0,
                             static_cast<int>(buf));
  sqe->flags |= IOSQE_FIXED_FILE;
  return ring_->submit_and_wait_one().res;
}

io_status uring_stream_endpoint::send(std::span<const std::byte> msg) {
  auto* p = const_cast<std::byte*>(msg.data());  // WRITE_FIXED only reads it
  std::size_t left = msg.size();
  while (left > 0) {
    const int res = transfer(true, out_index_, p, left);
    if (res == -EPIPE || res == -ECONNRESET) return io_status::closed;
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res < 0) throw_errno("io_uring WRITE_FIXED", -res);
    p += res;
    left -= static_cast<std::size_t>(res);
  }
  return io_status::ok;
}

std::ptrdiff_t uring_stream_endpoint::receive(std::span<std::byte> buf) {
  std::byte* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    const int res = transfer(false, in_index_, p, left);
    if (res == 0 || res == -ECONNRESET) return kPeerGone;  // EOF: the partner is gone
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res < 0) throw_errno("io_uring READ_FIXED", -res);
    p += res;
    left -= static_cast<std::size_t>(res);
  }
  return static_cast<std::ptrdiff_t>(buf.size());
}

mechanism_traits uring_stream_traits(const char* id, const char* mechanism, const char* variant,
                                     const char* family, uring_submit how) {
  const bool sqpoll = how == uring_submit::sqpoll;
  if (const std::string& why = uring_unavailable(sqpoll); !why.empty())
    throw std::runtime_error(why);
  mechanism_traits t;
  t.id = id;
  t.mechanism = mechanism;
  t.variant = variant;
  t.family = family;
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = sqpoll ? "io_uring_enter(2) GETEVENTS for the completion (SQPOLL thread submits)"
                  : "io_uring_enter(2) submit and wait for the completion";
  t.notes["io_uring"] =
      "IORING_OP_READ_FIXED/WRITE_FIXED, registered file (IOSQE_FIXED_FILE) and registered "
      "buffer (the harness's own buffers, registered on first use), one ring per peer made "
      "after fork, one SQE in flight; short transfers resubmitted";
  t.notes["copies"] = "two (user pages into the kernel's buffer and out), as read(2)/write(2)";
  if (sqpoll) {
    t.kernel_threads = true;
    t.notes["sqpoll"] =
        "IORING_SETUP_SQPOLL, sq_thread_idle 50 ms: a kernel thread per ring (two per pair) "
        "polls the submission queue and spins for 50 ms after the last submission; pinned to "
        "its peer's CPU (IORING_SETUP_SQ_AFF) where the peer is pinned to one (placement cross "
        "or same): the peer sleeps in GETEVENTS while its poller works; placement none leaves "
        "it to the scheduler";
  }
  rlimit lim{};
  ::getrlimit(RLIMIT_MEMLOCK, &lim);
  if (has_ipc_lock() || lim.rlim_cur == RLIM_INFINITY) {
    t.notes["registered_buffers_limit"] =
        has_ipc_lock() ? "none: CAP_IPC_LOCK (registered buffers not accounted)"
                       : "none: RLIMIT_MEMLOCK unlimited";
  } else {
    // Each registered buffer pins its pages (plus one for an unaligned start); both peers' six
    // buffers count against the user's RLIMIT_MEMLOCK together.
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t pages = lim.rlim_cur / kPinnedBuffersPerRun / page;
    t.max_message = pages > 2 ? (pages - 2) * page : 0;
    t.max_message_source =
        "RLIMIT_MEMLOCK " + std::to_string(lim.rlim_cur) +
        " bytes per user over six registered buffers (three per peer), a page spare each";
  }
  return t;
}

namespace {

// The SO_SNDBUF/SO_RCVBUF of a fresh AF_UNIX stream socket, as unix_stream records them.
void socket_notes(mechanism_traits& t) {
  auto s = make_socket(AF_UNIX, SOCK_STREAM);
  t.notes["SO_SNDBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
  t.notes["SO_RCVBUF"] =
      std::to_string(get_int_option(s.get(), SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
}

}  // namespace

template <uring_submit How>
mechanism_traits uring_pipe_channel<How>::describe() {
  const bool sq = How == uring_submit::sqpoll;
  mechanism_traits t = uring_stream_traits(sq ? "pipe.io_uring.sqpoll" : "pipe.io_uring", "pipe",
                                           sq ? "io_uring.sqpoll" : "io_uring", "io_uring", How);
  t.description = std::string("anonymous pipe, one per direction, read and written through ") +
                  (sq ? "an SQPOLL io_uring" : "an io_uring") + " per peer";
  return t;
}

template <uring_submit How>
uring_stream_endpoint uring_pipe_channel<How>::open(role r) {
  if (r == role::producer) {
    if (!threads_) {
      forward_.read_end.reset();
      back_.write_end.reset();
    }
    return uring_stream_endpoint(std::move(back_.read_end), std::move(forward_.write_end), How);
  }
  if (!threads_) {
    forward_.write_end.reset();
    back_.read_end.reset();
  }
  return uring_stream_endpoint(std::move(forward_.read_end), std::move(back_.write_end), How);
}

template <uring_submit How>
mechanism_traits uring_socket_channel<How>::describe() {
  const bool sq = How == uring_submit::sqpoll;
  mechanism_traits t =
      uring_stream_traits(sq ? "unix_stream.io_uring.sqpoll" : "unix_stream.io_uring",
                          "unix_stream", sq ? "io_uring.sqpoll" : "io_uring", "io_uring", How);
  t.description =
      std::string("Unix-domain stream socketpair made before fork, read and written through ") +
      (sq ? "an SQPOLL io_uring" : "an io_uring") + " per peer";
  socket_notes(t);
  return t;
}

template <uring_submit How>
uring_socket_channel<How>::uring_socket_channel(const channel_config& cfg)
    : threads_(cfg.peers_are_threads) {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  producer_ = std::move(a);
  consumer_ = std::move(b);
}

template <uring_submit How>
uring_stream_endpoint uring_socket_channel<How>::open(role r) {
  // A forked peer closes the partner's end, so a dead partner reads as EOF.
  if (r == role::producer) {
    if (!threads_) consumer_.reset();
    return uring_stream_endpoint(std::move(producer_), How);
  }
  if (!threads_) producer_.reset();
  return uring_stream_endpoint(std::move(consumer_), How);
}

template class uring_pipe_channel<uring_submit::enter>;
template class uring_pipe_channel<uring_submit::sqpoll>;
template class uring_socket_channel<uring_submit::enter>;
template class uring_socket_channel<uring_submit::sqpoll>;

}  // namespace ipcbench
