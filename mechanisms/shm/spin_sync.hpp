// Synchronisation by pure spinning: a waiter re-reads the ring position with an acquire load,
// with a pause instruction between reads; the other side only stores with release. No system
// call, at the price of a CPU kept busy while waiting. When the peers may share a CPU
// (channel_config::peers_share_cpu: placement same, or not pinned), each iteration after
// kPauses pauses calls sched_yield(), so the partner on that CPU gets to run; on CPUs of their
// own the waiter never yields, which would only add a trip through the scheduler. Every
// shm::kPollMs the waiter checks that its partner is alive (a cheap pidfd poll, off the hot
// path). A peer calls relax().
#pragma once

#include <sched.h>

#include <cstdint>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/system.hpp"

namespace ipcbench {

class spin_sync {
 public:
  static constexpr const char* kName = "spin";
  static constexpr const char* kSynchronised = "spinning on the ring positions";
  static constexpr bool kSpins = true;
  static constexpr bool kCounted = false;
  static constexpr std::int64_t kSpinNs = 0;  // not adaptive: spins for ever
  static constexpr std::uint32_t kPauses = 1024;
  static constexpr const char* kWait =
      "busy-wait on the ring position (acquire loads and pause); only when the peers may share a "
      "CPU (placement same or none) sched_yield() per iteration after 1024 pauses; partner check "
      "every 100 ms";

  // Coordinator side: nothing to create; carries whether the peers may share a CPU.
  struct resources {
    explicit resources(const channel_config& cfg) noexcept : share_cpu(cfg.peers_share_cpu) {}
    nlohmann::json rendezvous() const { return {{"peers_share_cpu", share_cpu}}; }
    void opened() noexcept {}
    spin_sync open() const { return spin_sync(share_cpu); }
    static spin_sync attach(const nlohmann::json& j) {
      return spin_sync(j.at("peers_share_cpu").get<bool>());
    }
    bool share_cpu;
  };

  explicit spin_sync(bool yields) noexcept : yields_(yields) {}

  // Spin iteration `i` of one wait.
  void relax(std::uint32_t i) const noexcept {
    if (i < kPauses || !yields_)
      cpu_pause();
    else
      ::sched_yield();
  }

 private:
  bool yields_;
};

}  // namespace ipcbench
