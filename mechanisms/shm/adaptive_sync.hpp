// Adaptive synchronisation, what a latency-minded expert deploys: a waiter first spins on the
// ring position for at most kSpinNs (reading the clock only every kClockEvery pauses), then
// sleeps on it with an untimed futex(2) FUTEX_WAIT exactly as futex_sync does. A partner that
// answers within the bound is seen without a system call on either side (the sender finds no
// waiting flag); one that takes longer costs at most kSpinNs of CPU per wait plus a futex round
// trip. When the peers may share a CPU (channel_config::peers_share_cpu) the spin phase yields
// (sched_yield) instead of pausing, so the partner on that CPU gets to run. Nothing to create or
// remove. A peer calls relax(), sleep() and wake().
#pragma once

#include <sched.h>

#include <cstdint>

#include "mechanisms/shm/futex_sync.hpp"
#include "mechanisms/shm/spin_sync.hpp"

namespace ipcbench {

class adaptive_sync {
 public:
  static constexpr const char* kName = "adaptive";
  static constexpr const char* kSynchronised =
      "spinning on the ring positions for up to 20 us, then futex(2) waits";
  static constexpr bool kSpins = false;
  static constexpr bool kCounted = false;
  // 20 us: a few times the cross-CPU futex wake-up (about 3 us here with idle states held) and
  // longer than the ring needs to pass a message of up to a chunk (64 KiB at memcpy speed), so a
  // ping-pong partner that is busy only copying is caught spinning; a partner that is idle for
  // longer costs the waiter at most this much CPU before it sleeps.
  static constexpr std::int64_t kSpinNs = 20'000;
  // Pauses between clock reads: a pause is tens of ns, so the bound overshoots by well under 1 us.
  static constexpr std::uint32_t kClockEvery = 64;
  static constexpr const char* kWait =
      "busy-wait on the ring position for up to 20 us (pause, or sched_yield() when the peers may "
      "share a CPU; the clock read every 64 iterations), then futex(2) FUTEX_WAIT, untimed; "
      "FUTEX_WAKE only when the waiter's flag is set and its target is reached";

  // Coordinator side: nothing to create; carries whether the peers may share a CPU.
  struct resources {
    explicit resources(const channel_config& cfg) noexcept : share_cpu(cfg.peers_share_cpu) {}
    nlohmann::json rendezvous() const { return {{"peers_share_cpu", share_cpu}}; }
    void opened() noexcept {}
    adaptive_sync open() const { return adaptive_sync(share_cpu); }
    static adaptive_sync attach(const nlohmann::json& j) {
      return adaptive_sync(j.at("peers_share_cpu").get<bool>());
    }
    bool share_cpu;
  };

  explicit adaptive_sync(bool yields) noexcept : yields_(yields) {}

  void relax(std::uint32_t /*i*/) const noexcept {
    if (yields_)
      ::sched_yield();
    else
      cpu_pause();
  }
  static shm::sleep_result sleep(int bell, std::uint32_t* word, std::uint32_t seen) {
    return futex_sync::sleep(bell, word, seen);
  }
  static void wake(int bell, std::uint32_t* word) { futex_sync::wake(bell, word); }

 private:
  bool yields_;
};

}  // namespace ipcbench
