// The wake-up floor: what it costs to wake a process sleeping on another CPU. Two forked
// processes pinned to the two CPUs bounce a counter through two futex words, each sleeping in
// FUTEX_WAIT until the other stores and wakes it: every round trip is two cross-CPU wake-ups,
// the least any blocking mechanism pays. With idle states allowed, on a VM it is mostly the
// virtual CPU's halt exit; with them held, the scheduler's own wake-up path. Each round starts
// after a 20 us pause, so the partner is asleep when it is woken.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>

#include "harness/calibrate.hpp"
#include "harness/floor_station.hpp"
#include "harness/histogram.hpp"
#include "sys/child.hpp"
#include "sys/mapping.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// How long the timing side waits before each round for its partner to be asleep again: far
// longer than the partner needs from its wake call to its wait (about a microsecond here).
constexpr std::int64_t kSettleNs = 20'000;

struct alignas(64) futex_word {
  std::atomic<std::uint32_t> value{0};
};

void wait_for(futex_word& w, std::uint32_t want) {
  for (;;) {
    const std::uint32_t v = w.value.load(std::memory_order_acquire);
    if (v == want) return;
    // Sleeps only while the word still holds v: a store and wake in between returns at once.
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&w.value), FUTEX_WAIT, v, nullptr,
              nullptr, 0);
  }
}

void store_and_wake(futex_word& w, std::uint32_t v) {
  w.value.store(v, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&w.value), FUTEX_WAKE, 1, nullptr, nullptr,
            0);
}

// The wake-up floor's state: the two futex words, the rounds asked for and the result.
struct wake_floor {
  futex_word ping, pong;
  std::uint32_t rounds = 0;
  wake_round_trip result;
  std::atomic<int> done{0};
};

int wake_echo(void* arg) {
  auto* sh = static_cast<wake_floor*>(arg);
  for (std::uint32_t i = 1; i <= sh->rounds; ++i) {
    wait_for(sh->ping, i);
    store_and_wake(sh->pong, i);
  }
  return 0;
}

int wake_timer(void* arg) {
  auto* sh = static_cast<wake_floor*>(arg);
  histogram h;
  for (std::uint32_t i = 1; i <= sh->rounds; ++i) {
    // A pause before each round, outside the timing, so the partner is asleep in FUTEX_WAIT
    // again: without it the two can fall into a rhythm where each finds the other's word
    // already stored and neither sleeps, and the "wake-up" is a system call.
    const std::int64_t settle = now_ns() + kSettleNs;
    while (now_ns() < settle) {
    }
    const std::int64_t t0 = now_ns();
    store_and_wake(sh->ping, i);
    wait_for(sh->pong, i);
    h.record(now_ns() - t0);
  }
  sh->result = {static_cast<double>(h.percentile(10)), static_cast<double>(h.percentile(50)),
                static_cast<double>(h.percentile(90)), static_cast<int>(sh->rounds)};
  sh->done.store(1, std::memory_order_release);
  return 0;
}

}  // namespace

std::optional<wake_round_trip> wakeup_round_trip(int cpu_a, int cpu_b, int rounds,
                                                 floor_station* station) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::optional<wake_round_trip> out;
  try {
    floor_memory mem(station, cpu_a, cpu_b, sizeof(wake_floor), "wake-up floor");
    auto* sh = ::new (mem.data()) wake_floor;
    sh->rounds = static_cast<std::uint32_t>(rounds);
    if (mem.run(&wake_timer, &wake_echo, sh, std::chrono::seconds(20)) &&
        sh->done.load(std::memory_order_acquire))
      out = sh->result;
  } catch (const std::exception&) {
    out.reset();
  }
  return out;
}

}  // namespace ipcbench
