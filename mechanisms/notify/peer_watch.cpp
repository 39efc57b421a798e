#include "mechanisms/notify/peer_watch.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace ipcbench {

partner pid_exchange::meet(role r, std::chrono::milliseconds limit) const {
  const int me = r == role::producer ? 0 : 1;
  auto& pids = *pids_;
  pids[me].store(::getpid());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // Setup, not the timed loop: a short sleep between looks is enough.
    if (const pid_t other = pids[1 - me].load(); other != 0) return partner(other);
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(std::string("the ") + (me == 0 ? "consumer" : "producer") +
                               " never published its pid");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace ipcbench
