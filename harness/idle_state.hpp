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
//
// Where the request reaches nothing (no cpuidle driver) or cannot be made, `held` keeps the CPUs
// from idling another way: an idle_poller, one busy loop per CPU the run may use, pinned there at
// idle priority (SCHED_IDLE), which runs when nothing else on that CPU wants to. A CPU then never
// reaches the idle loop, and on a VM a virtual CPU never halts to the host. On the 2-vCPU VM of
// 2026-11-29 (no cpuidle driver) the host moved halted vCPUs between a state with a cache-line
// round trip of about 135 ns and a slow one (529-885 ns as the floor's one pair of lines then read
// it; see harness/calibrate.cpp) every 0.06-0.34 s, 30 % of a
// default run's repetitions had the host move during them, and a pipe's 64 B round trip read
// 13.5 us in one repetition and 277 us in the next; with the pollers the cache-line round trip
// held one value for whole minutes and that round trip 22-28 us in every repetition, and two
// default runs' latency |delta p50| fell from a median of 16 % to 5.6 %. A wake-up is then an
// interrupt to a running CPU, which preempts the poller at once, not the wake of a halted one.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/child.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

enum class idle_mode { held, allowed };
const char* to_string(idle_mode m) noexcept;
std::optional<idle_mode> parse_idle_mode(const std::string& s) noexcept;

inline constexpr const char* kCpuDmaLatency = "/dev/cpu_dma_latency";
inline constexpr const char* kCpuidleDriver = "/sys/devices/system/cpu/cpuidle/current_driver";

class idle_poller;

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
  // What became of a held request that takes no effect, where idle pollers take over: "made,
  // to no effect: " and no_effect() (or no_effect_brief() when `brief`), or "not made: " and
  // reason(). Empty where it takes effect or held was not asked for.
  std::string outcome(bool brief = false) const;
  int fd() const noexcept { return fd_.get(); }
  // Drops the request now (as the destructor does).
  void release() noexcept { fd_.reset(); }
  // {"requested", "in_force", "device", "latency_us" (held), "takes_effect" and "effect"
  // (held), "reason" (when not in force)}. With `poller` (held by one): "in_force" held,
  // "held_by" "poller", "takes_effect" true, "effect" the pollers', "poller" {"cpus", "policy",
  // "nice"}, and "pm_qos" what became of the request (its no-effect reason, or why it was not
  // made). Otherwise "held_by" is "pm_qos" where the request is in force.
  nlohmann::json to_json(const idle_poller* poller = nullptr) const;

 private:
  idle_mode requested_;
  std::string device_;
  std::string reason_;
  std::string driver_;  // the cpuidle driver, where one is named
  std::string no_effect_, no_effect_brief_;
  unique_fd fd_;
};

// One busy loop per CPU in `cpus`, each pinned to its CPU at idle priority (SCHED_IDLE, and nice
// kPollerNice so that /proc/stat counts its time as nice, apart from the peers' user time), with
// no descriptor of the coordinator's open; they die with the coordinator (PR_SET_PDEATHSIG) and
// are killed and reaped when the poller is destroyed. The constructor returns once every loop
// runs under that policy; it throws std::runtime_error (naming the CPU) when one cannot be started
// or exits, and std::system_error when fork() fails.
inline constexpr int kPollerNice = 19;
class idle_poller {
 public:
  explicit idle_poller(std::vector<int> cpus);
  idle_poller(const idle_poller&) = delete;
  idle_poller& operator=(const idle_poller&) = delete;
  const std::vector<int>& cpus() const noexcept { return cpus_; }
  std::vector<pid_t> pids() const;
  // "idle CPUs never halt: ..." for the report and stderr.
  std::string effect() const;

 private:
  std::vector<int> cpus_;
  std::vector<child_process> loops_;
};

// The idle states as the bench program and the probes hold them: the request for `requested`
// (through `device`, honoured by `cpuidle_driver`), and, where held was asked for and the request
// does not take effect, idle pollers on `cpus`. Never throws for pollers that cannot start:
// no_poller() says why, and the request stands alone.
class idle_hold {
 public:
  idle_hold(idle_mode requested, std::vector<int> cpus, std::string device = kCpuDmaLatency,
            const std::string& cpuidle_driver = kCpuidleDriver);
  const idle_state_request& request() const noexcept { return request_; }
  // The pollers holding the idle states; null where the request does or none could start.
  const idle_poller* poller() const noexcept { return poller_ ? &*poller_ : nullptr; }
  // Why no poller runs where one was wanted; empty otherwise.
  const std::string& no_poller() const noexcept { return no_poller_; }
  // The report's "idle_states" (idle_state_request::to_json).
  nlohmann::json to_json() const { return request_.to_json(poller()); }

 private:
  idle_state_request request_;
  std::optional<idle_poller> poller_;
  std::string no_poller_;
};

}  // namespace ipcbench
