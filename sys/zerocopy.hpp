// MSG_ZEROCOPY's completion notifications (msg_zerocopy.rst in the kernel's networking docs),
// read from a socket's error queue: tcp.zerocopy's endpoint and the probe tcp_zerocopy_loopback.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ipcbench {

// The completion notifications of one socket's MSG_ZEROCOPY sends. The kernel numbers the send
// calls that carried data from 0 (one id per call) and reports finished ranges [lo, hi] of ids,
// possibly merged, in any order.
class zerocopy_completions {
 public:
  // One more send(2) call with MSG_ZEROCOPY returned a count > 0.
  void issued() noexcept { ++issued_; }
  std::uint32_t issued_count() const noexcept { return issued_; }
  // Every id below `upto` has completed.
  bool done_below(std::uint32_t upto) const noexcept {
    return static_cast<std::int32_t>(completed_ - upto) >= 0;
  }
  // Takes one notification's range; `copied` when the kernel copied the pages after all
  // (SO_EE_CODE_ZEROCOPY_COPIED).
  void completed(std::uint32_t lo, std::uint32_t hi, bool copied);
  // Ranges the kernel said it copied, of all completed.
  std::uint64_t copied_calls() const noexcept { return copied_; }
  std::uint64_t completed_calls() const noexcept { return completed_total_; }

 private:
  std::uint32_t issued_ = 0;
  std::uint32_t completed_ = 0;                                 // every id below this has completed
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ahead_;  // completed, not contiguous yet
  std::uint64_t copied_ = 0;
  std::uint64_t completed_total_ = 0;
};

// Reads every notification now on `fd`'s error queue into `c` without blocking. Returns false
// when the queue held none. Throws std::system_error on an error other than EAGAIN, and
// std::runtime_error on a queued error that is not a zerocopy notification (the socket failed).
bool drain_zerocopy_notifications(int fd, zerocopy_completions& c);

}  // namespace ipcbench
