// Synchronisation by pure spinning: a waiter re-reads the ring position with an acquire load,
// with a pause instruction between reads; the other side only stores with release. No system
// call, at the price of a CPU kept busy while waiting. After kPauses spins each further
// iteration calls sched_yield(), so peers pinned to one CPU (placement same) still take turns,
// and every 100 ms the waiter checks that its partner is alive. A peer calls relax().
#pragma once

#include <sched.h>

#include <cstdint>

#include "mechanisms/shm/shm_segment.hpp"

namespace ipcbench {

class spin_sync {
 public:
  static constexpr const char* kName = "spin";
  static constexpr const char* kSynchronised = "spinning on the ring positions";
  static constexpr bool kSpins = true;
  static constexpr bool kCounted = false;
  static constexpr std::uint32_t kPauses = 1024;
  static constexpr const char* kWait =
      "busy-wait on the ring position (acquire loads and pause); after 1024 spins sched_yield() "
      "per iteration, so peers sharing one CPU still finish; partner check every 100 ms";

  // Coordinator side: nothing to create.
  struct resources {
    nlohmann::json rendezvous() const { return nlohmann::json::object(); }
    void opened() noexcept {}
    spin_sync open() const { return {}; }
    static spin_sync attach(const nlohmann::json&) { return {}; }
  };

  // Spin iteration `i` of one wait.
  static void relax(std::uint32_t i) noexcept {
    if (i < kPauses)
      cpu_pause();
    else
      ::sched_yield();
  }

 private:
  static void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  }
};

}  // namespace ipcbench
