#include "harness/idle_state.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "sys/retry.hpp"
#include "sys/system.hpp"

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

std::string idle_state_request::outcome(bool brief) const {
  if (requested_ != idle_mode::held || takes_effect()) return {};
  if (in_force() == idle_mode::held)
    return "made, to no effect: " + (brief ? no_effect_brief_ : no_effect_);
  return "not made: " + reason_;
}

nlohmann::json idle_state_request::to_json(const idle_poller* poller) const {
  nlohmann::json j = {{"requested", to_string(requested_)},
                      {"in_force", to_string(poller ? idle_mode::held : in_force())},
                      {"device", device_}};
  if (poller) {
    j["held_by"] = "poller";
    j["takes_effect"] = true;
    j["effect"] = poller->effect();
    j["poller"] = {{"cpus", poller->cpus()}, {"policy", "SCHED_IDLE"}, {"nice", kPollerNice}};
    j["pm_qos"] = outcome();
    if (in_force() == idle_mode::held) j["latency_us"] = 0;
    return j;
  }
  if (in_force() == idle_mode::held) {
    j["held_by"] = "pm_qos";
    j["latency_us"] = 0;
    j["takes_effect"] = takes_effect();
    j["effect"] =
        takes_effect() ? "idle CPUs poll (cpuidle driver " + driver_ + ")" : "none: " + no_effect_;
  }
  if (!reason_.empty()) j["reason"] = reason_;
  return j;
}

namespace {

// The loop's body in the child: pinned (a failure said on stderr, exit 70), nothing of the
// coordinator's kept open, idle priority last (the parent waits for that policy, so by then the
// rest is done).
int idle_loop(int cpu) {
  pin_to_cpu(cpu);
  for (int fd = 0; fd < 3; ++fd) {  // nothing to read or write, and no pipe kept open
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
  ::close_range(3, ~0U, 0);
  if (::setpriority(PRIO_PROCESS, 0, kPollerNice) != 0) return 4;
  const sched_param param{};
  if (::sched_setscheduler(0, SCHED_IDLE, &param) != 0) return 5;
  for (;;) cpu_pause();
}

}  // namespace

idle_poller::idle_poller(std::vector<int> cpus) : cpus_(std::move(cpus)) {
  using namespace std::chrono_literals;
  for (int cpu : cpus_) {
    loops_.push_back(child_process::fork([cpu] { return idle_loop(cpu); }));
    // Running once its policy is set; a loop that exits could not set it.
    const pid_t pid = loops_.back().pid();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      if (::sched_getscheduler(pid) == SCHED_IDLE) break;
      if (const auto st = loops_.back().try_wait())
        throw std::runtime_error("the idle poller for CPU " + std::to_string(cpu) + " " +
                                 describe_wait_status(*st) +
                                 " before it ran (70: pinning it failed, said on stderr; 4: "
                                 "setpriority, 5: sched_setscheduler(SCHED_IDLE) failed)");
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the idle poller for CPU " + std::to_string(cpu) +
                                 " did not start within 5 s");
      std::this_thread::sleep_for(1ms);
    }
  }
}

idle_hold::idle_hold(idle_mode requested, std::vector<int> cpus, std::string device,
                     const std::string& cpuidle_driver)
    : request_(requested, std::move(device), cpuidle_driver) {
  if (requested != idle_mode::held || request_.takes_effect()) return;
  try {
    poller_.emplace(std::move(cpus));
  } catch (const std::exception& e) {
    poller_.reset();
    no_poller_ = e.what();
  }
}

std::vector<pid_t> idle_poller::pids() const {
  std::vector<pid_t> out;
  for (const auto& l : loops_) out.push_back(l.pid());
  return out;
}

std::string idle_poller::effect() const {
  std::string list;
  for (int cpu : cpus_) {
    if (!list.empty()) list += ',';
    list += std::to_string(cpu);
  }
  return "idle CPUs never halt: a busy loop at idle priority (SCHED_IDLE, nice " +
         std::to_string(kPollerNice) + ") on each of CPUs " + list +
         " runs whenever nothing else there wants to";
}

}  // namespace ipcbench
