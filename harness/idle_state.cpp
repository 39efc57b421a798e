#include "harness/idle_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "sys/retry.hpp"

namespace ipcbench {

const char* to_string(idle_mode m) noexcept {
  return m == idle_mode::held ? "held" : "allowed";
}

std::optional<idle_mode> parse_idle_mode(const std::string& s) noexcept {
  if (s == "held") return idle_mode::held;
  if (s == "allowed") return idle_mode::allowed;
  return std::nullopt;
}

idle_state_request::idle_state_request(idle_mode requested, std::string device,
                                       const std::string& cpuidle_driver)
    : requested_(requested), device_(std::move(device)) {
  if (requested_ != idle_mode::held) return;
  // Whether the request can reach the idle loop, read before it is made.
  if (std::ifstream in(cpuidle_driver); !in) {
    no_effect_brief_ = "no cpuidle in this kernel";
    no_effect_ = "this kernel has no cpuidle (no " + cpuidle_driver + ")";
  } else {
    std::getline(in, driver_);
    if (driver_.empty() || driver_ == "none") {
      no_effect_brief_ = "no cpuidle driver";
      no_effect_ = "no cpuidle driver (" + cpuidle_driver + ": " +
                   (driver_.empty() ? std::string("empty") : driver_) + ")";
    }
  }
  if (!no_effect_.empty())
    no_effect_ +=
        ": idle CPUs take the architecture's default idle (HLT; on a VM a halt to the "
        "host), which a PM QoS request does not reach";
  unique_fd fd(::open(device_.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    reason_ = "open(" + device_ + "): " + std::strerror(errno);
    return;
  }
  // pm_qos(7)-style interface: a binary s32, the largest exit latency allowed, in µs.
  const std::int32_t zero = 0;
  const ssize_t n = retry_on_eintr([&] { return ::write(fd.get(), &zero, sizeof zero); });
  if (n != static_cast<ssize_t>(sizeof zero)) {
    reason_ = "write(" + device_ + ", 0): " + (n < 0 ? std::strerror(errno) : "short write");
    return;
  }
  fd_ = std::move(fd);
}

nlohmann::json idle_state_request::to_json() const {
  nlohmann::json j = {{"requested", to_string(requested_)},
                      {"in_force", to_string(in_force())},
                      {"device", device_}};
  if (in_force() == idle_mode::held) {
    j["latency_us"] = 0;
    j["takes_effect"] = takes_effect();
    j["effect"] =
        takes_effect() ? "idle CPUs poll (cpuidle driver " + driver_ + ")" : "none: " + no_effect_;
  }
  if (!reason_.empty()) j["reason"] = reason_;
  return j;
}

}  // namespace ipcbench
