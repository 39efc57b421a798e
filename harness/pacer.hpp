// A producer's send schedule at a target rate (messages/s): the i-th message since restart() is
// due at t0 + i/rate, an absolute schedule, so a late send (a preemption, a slow send) is made up
// by the ones after it instead of shifting all of them: the batch's mean rate does not drift.
// wait_turn() busy-waits on now_ns() (a vDSO read, no system call): a sleep would hand the CPU
// to the scheduler and wake up tens of microseconds late, longer than the gaps being paced.
// Rate 0 is unpaced: wait_turn() returns at once. A peer's own value; either side of a fork.
#pragma once

#include <cmath>
#include <cstdint>

#include "sys/system.hpp"

namespace ipcbench {

class pacer {
 public:
  explicit pacer(double rate_per_s = 0) noexcept
      : ns_per_message_(rate_per_s > 0 ? 1e9 / rate_per_s : 0) {}

  bool paced() const noexcept { return ns_per_message_ > 0; }
  double rate() const noexcept { return paced() ? 1e9 / ns_per_message_ : 0; }

  // Starts the schedule over: message 0 is due at t0.
  void restart(std::int64_t t0 = now_ns()) noexcept {
    t0_ = t0;
    next_ = 0;
  }

  // When message i of the current schedule is due: never before t0 + i/rate (rounded up).
  std::int64_t due(std::uint64_t i) const noexcept {
    return t0_ + static_cast<std::int64_t>(std::ceil(static_cast<double>(i) * ns_per_message_));
  }

  // Waits until the next message is due, then counts it as sent.
  void wait_turn() noexcept {
    if (!paced()) return;
    const std::int64_t at = due(next_++);
    while (now_ns() < at) cpu_pause();
  }

  // When the message wait_turn() last let go was due: its scheduled send time, from which a
  // paced stream's delay is measured (a late send then counts its lateness: no coordinated
  // omission). Paced only.
  std::int64_t last_due() const noexcept { return due(next_ - 1); }

  std::uint64_t sent() const noexcept { return next_; }  // since restart()

 private:
  double ns_per_message_ = 0;
  std::int64_t t0_ = 0;
  std::uint64_t next_ = 0;
};

}  // namespace ipcbench
