#include "mechanisms/pipes/pipe_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <vector>

#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

constexpr std::size_t kChunk = 64 * 1024;  // one read(2) or splice(2) of the relay at most
constexpr const char* kRelayName = "ipcbench-relay";

// Moves what `from` holds now to `to`. Returns false when the hop is over: EOF on `from`, or
// EPIPE on `to` (that side's peer is gone). Throws std::system_error on any other error.
bool forward(int from, int to, relay_copy how, std::vector<std::byte>& buf) {
  if (how == relay_copy::splice) {
    const ssize_t n =
        retry_on_eintr([&] { return ::splice(from, nullptr, to, nullptr, kChunk, SPLICE_F_MOVE); });
    if (n < 0 && errno == EPIPE) return false;
    if (n < 0) throw_errno("splice(relay)");
    return n > 0;
  }
  const ssize_t n = retry_on_eintr([&] { return ::read(from, buf.data(), buf.size()); });
  if (n < 0) throw_errno("read(relay)");
  if (n == 0) return false;
  return write_all(to, std::span(buf).first(static_cast<std::size_t>(n))) == io_status::ok;
}

// Closes every descriptor from 3 up but `keep`: whatever the coordinator had open when it forked
// the relay (the pipes of another channel of pairs/N) would keep those pipes from ending when
// their peer goes.
void close_all_but(std::array<int, 4> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 3;
  for (int k : keep) {
    const auto u = static_cast<unsigned>(k);
    if (u > lo) ::close_range(lo, u - 1, 0);
    lo = std::max(lo, u + 1);
  }
  ::close_range(lo, ~0U, 0);
}

// The relay's life: forwards both ways until either side is over, then closes every end (the
// other peer sees EOF or EPIPE) and waits to be killed.
int relay(unique_fd from_producer, unique_fd to_consumer, unique_fd from_consumer,
          unique_fd to_producer, relay_copy how) {
  ::prctl(PR_SET_NAME, kRelayName);  // its name in ps and /proc/<pid>/stat
  ::signal(SIGPIPE, SIG_IGN);        // a gone reader is EPIPE, not the relay's death
  close_all_but({from_producer.get(), to_consumer.get(), from_consumer.get(), to_producer.get()});
  std::vector<std::byte> buf(how == relay_copy::read_write ? kChunk : 0);
  std::array<pollfd, 2> fds{pollfd{from_producer.get(), POLLIN, 0},
                            pollfd{from_consumer.get(), POLLIN, 0}};
  bool open = true;
  while (open) {
    if (retry_on_eintr([&] { return ::poll(fds.data(), fds.size(), -1); }) < 0)
      throw_errno("poll(relay)");
    if (fds[0].revents != 0) open = forward(from_producer.get(), to_consumer.get(), how, buf);
    if (open && fds[1].revents != 0)
      open = forward(from_consumer.get(), to_producer.get(), how, buf);
  }
  from_producer.reset();
  to_consumer.reset();
  from_consumer.reset();
  to_producer.reset();
  for (;;) ::pause();
}

}  // namespace

template <relay_copy How>
mechanism_traits pipe_relay_channel<How>::describe() {
  const bool splice = How == relay_copy::splice;
  mechanism_traits t;
  t.mechanism = "pipe";
  t.variant = splice ? "relay.splice" : "relay";
  t.id = t.mechanism + "." + t.variant;
  t.family = "pipes & FIFOs";
  t.kind = channel_kind::stream;
  t.related_only = true;
  t.wait = "blocking read(2); the relay in poll(2) on both sides";
  t.description =
      splice ? "one extra hop: a relay process between the peers moves each message from the "
               "producer's pipe to the consumer's with splice(2), no copy through user space"
             : "one extra hop: a relay process between the peers reads each message into a "
               "64 KiB buffer and writes it on (two more copies)";
  t.notes["relay"] =
      "a third process forked by the channel, its CPU time in helper_cpu_ns_per_message; " +
      std::string(splice ? "splice(2) of up to 64 KiB from one pipe to the next, SPLICE_F_MOVE"
                         : "read(2) of up to 64 KiB, then write(2) of all of it");
  t.notes["relay_tax"] = "the report's relay_tax compares it with pipe";
  return t;
}

template <relay_copy How>
pipe_relay_channel<How>::pipe_relay_channel(const channel_config& cfg)
    : up_fwd_(make_pipe()),
      up_back_(make_pipe()),
      down_fwd_(make_pipe()),
      down_back_(make_pipe()),
      threads_(cfg.peers_are_threads) {
  relay_ = child_process::fork([this] {
    // The peers' ends are not the relay's: closed, so that a peer's exit reads as EOF here.
    up_fwd_.write_end.reset();
    up_back_.read_end.reset();
    down_fwd_.read_end.reset();
    down_back_.write_end.reset();
    return relay(std::move(up_fwd_.read_end), std::move(down_fwd_.write_end),
                 std::move(down_back_.read_end), std::move(up_back_.write_end), How);
  });
  // And the relay's ends are not the coordinator's nor the peers' (forked from it later).
  up_fwd_.read_end.reset();
  up_back_.write_end.reset();
  down_fwd_.write_end.reset();
  down_back_.read_end.reset();
}

template <relay_copy How>
void pipe_relay_channel<How>::opened() noexcept {
  up_fwd_ = {};
  up_back_ = {};
  down_fwd_ = {};
  down_back_ = {};
}

template <relay_copy How>
stream_endpoint pipe_relay_channel<How>::open(role r) {
  // A forked peer closes its copies of the other side's ends, so that side's end reads as EOF
  // in the relay when that peer goes; threads leave them to the other thread.
  if (r == role::producer) {
    if (!threads_) {
      down_fwd_ = {};
      down_back_ = {};
    }
    return stream_endpoint(std::move(up_back_.read_end), std::move(up_fwd_.write_end));
  }
  if (!threads_) {
    up_fwd_ = {};
    up_back_ = {};
  }
  return stream_endpoint(std::move(down_fwd_.read_end), std::move(down_back_.write_end));
}

template <relay_copy How>
std::string pipe_relay_channel<How>::helper_failure(std::chrono::milliseconds patience) {
  auto st = relay_.try_wait();
  if (!st && patience.count() > 0) st = relay_.wait_for(patience);
  if (!st) return "";
  return std::string(kRelayName) + " (pid " + std::to_string(relay_.pid()) + ") " +
         describe_wait_status(*st);
}

template class pipe_relay_channel<relay_copy::read_write>;
template class pipe_relay_channel<relay_copy::splice>;

}  // namespace ipcbench
