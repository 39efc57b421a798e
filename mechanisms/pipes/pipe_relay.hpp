// pipe.relay and pipe.relay.splice: one extra hop, priced. A third process, the relay, sits
// between producer and consumer (a sidecar, a proxy, a broker that only forwards): the producer's
// pipes go to the relay, the relay's go on to the consumer, one pipe per direction on each side,
// and the relay forwards whatever arrives on either side to the other. pipe.relay forwards with
// read(2) into a 64 KiB buffer and write(2) out (two more copies per message); pipe.relay.splice
// moves the pages from one pipe to the next with splice(2) (no copy through user space). Beside
// `pipe` in the same run, the report's relay_tax says what the hop costs.
//
// The relay is forked by the channel, before the peers, and owned by it like a daemon: its pid is
// a helper's (its CPU time counted per message, its death failing the run with the reason), it
// dies with the coordinator (PR_SET_PDEATHSIG) and is killed and reaped when the channel goes.
// When either side closes (a peer that exits or is killed) the relay closes every pipe end it
// holds, so the other peer sees EOF or EPIPE at once, and waits to be killed; it never exits on
// its own, so the end of a run is not mistaken for a dead helper.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "mechanisms/adapter.hpp"
#include "mechanisms/stream_endpoint.hpp"
#include "sys/child.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

enum class relay_copy { read_write, splice };

template <relay_copy How>
class pipe_relay_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit pipe_relay_channel(const channel_config& cfg);
  void opened() noexcept;
  stream_endpoint open(role r);
  std::vector<pid_t> helper_pids() const { return {relay_.pid()}; }
  // Empty while the relay runs; how it ended otherwise ("ipcbench-relay (pid 12) killed by
  // SIGKILL"). The relay's process name is ipcbench-relay.
  std::string helper_failure(std::chrono::milliseconds patience);

 private:
  // up: producer <-> relay; down: relay <-> consumer. fwd carries requests and the stream,
  // back the replies.
  fd_pair up_fwd_, up_back_, down_fwd_, down_back_;
  bool threads_;
  child_process relay_;
};

using pipe_relay_rw_channel = pipe_relay_channel<relay_copy::read_write>;
using pipe_relay_splice_channel = pipe_relay_channel<relay_copy::splice>;

extern template class pipe_relay_channel<relay_copy::read_write>;
extern template class pipe_relay_channel<relay_copy::splice>;

}  // namespace ipcbench
