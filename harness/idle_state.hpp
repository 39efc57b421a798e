// CPU idle states as a condition of the run. `held` makes a PM QoS request for an exit latency
// of 0 µs through /dev/cpu_dma_latency (what cyclictest does): the kernel keeps idle CPUs out of
// deep states, and on a VM keeps idle virtual CPUs from halting to the host, for as long as the
// descriptor stays open, and drops the request when it closes, so every exit path (SIGKILL too)
// releases it. `allowed` leaves the machine as it is. Where the request cannot be made (not
// root, no such device), the run goes on with the idle states allowed and the reason recorded.
// The request reaches the idle loop only through the kernel's cpuidle governors: with no
// cpuidle driver (current_driver reads `none`, or the kernel has no cpuidle), an idle CPU takes
// the architecture's default idle (HLT on x86; on a VM a halt to the host) whatever it asks, so
// a held request is then recorded as made and as taking no effect, with why.
// Coordinator side; forked peers inherit the descriptor, which keeps the request no longer than
// they live.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sys/unique_fd.hpp"

namespace ipcbench {

enum class idle_mode { held, allowed };
const char* to_string(idle_mode m) noexcept;
std::optional<idle_mode> parse_idle_mode(const std::string& s) noexcept;

inline constexpr const char* kCpuDmaLatency = "/dev/cpu_dma_latency";
inline constexpr const char* kCpuidleDriver = "/sys/devices/system/cpu/cpuidle/current_driver";

class idle_state_request {
 public:
  // Makes the request when `requested` is held; never throws for a device that cannot be
  // written (reason() says why).
  explicit idle_state_request(idle_mode requested, std::string device = kCpuDmaLatency,
                              const std::string& cpuidle_driver = kCpuidleDriver);
  idle_mode requested() const noexcept { return requested_; }
  // held only while the request is made.
  idle_mode in_force() const noexcept { return fd_ ? idle_mode::held : idle_mode::allowed; }
  // Why held was asked for and is not in force; empty otherwise.
  const std::string& reason() const noexcept { return reason_; }
  // Held, and a cpuidle driver is there to honour it.
  bool takes_effect() const noexcept { return fd_ && no_effect_.empty(); }
  // Why a held request takes no effect (no cpuidle driver); empty otherwise.
  const std::string& no_effect() const noexcept { return no_effect_; }
  // The same in a few words ("no cpuidle driver"), for a table cell.
  const std::string& no_effect_brief() const noexcept { return no_effect_brief_; }
  int fd() const noexcept { return fd_.get(); }
  // Drops the request now (as the destructor does).
  void release() noexcept { fd_.reset(); }
  // {"requested", "in_force", "device", "latency_us" (held), "takes_effect" and "effect"
  // (held), "reason" (when not in force)}.
  nlohmann::json to_json() const;

 private:
  idle_mode requested_;
  std::string device_;
  std::string reason_;
  std::string driver_;  // the cpuidle driver, where one is named
  std::string no_effect_, no_effect_brief_;
  unique_fd fd_;
};

}  // namespace ipcbench
