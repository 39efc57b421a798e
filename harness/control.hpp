// The control channel between the coordinator and one peer: length-prefixed JSON messages over a
// Unix stream socket, separate from the measured channel and never used inside the timed loop.
// Both sides of the fork use it.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sys/unique_fd.hpp"

namespace ipcbench {

// The other side closed its control socket: it exited or was killed.
struct peer_gone : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class control_link {
 public:
  control_link() = default;
  explicit control_link(unique_fd fd) noexcept : fd_(std::move(fd)) {}

  int fd() const noexcept { return fd_.get(); }
  void send(const nlohmann::json& msg);
  // Reads one whole message; blocks. Throws peer_gone on EOF.
  nlohmann::json receive();
  // Waits at most `timeout`; nullopt when it passed. Throws peer_gone on EOF.
  std::optional<nlohmann::json> receive_for(std::chrono::milliseconds timeout);
  // Waits for a message of `type`; an "error" message from the peer becomes std::runtime_error.
  nlohmann::json expect(const char* type, std::chrono::milliseconds timeout);

 private:
  unique_fd fd_;
};

}  // namespace ipcbench
