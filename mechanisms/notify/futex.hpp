// futex(2) notification on two 32-bit words in anonymous MAP_SHARED memory (made before fork, so
// related peers only), one per direction, with the shared (not _PRIVATE) FUTEX_WAIT and
// FUTEX_WAKE. A word is a binary semaphore: 0 empty, 1 posted, 2 empty with the receiver
// asleep; the sender calls FUTEX_WAKE only when it finds 2. The receiver sleeps in FUTEX_WAIT,
// untimed: a futex word cannot show a dead partner, so a peer left waiting is the coordinator's
// to end (it sees the dead peer's control channel close and kills the survivor). No payload:
// measured at size 0, latency only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/mapping.hpp"

namespace ipcbench {

// A peer's two words: it posts one and waits on the other. Throws std::system_error naming the
// call.
class futex_endpoint {
 public:
  futex_endpoint(std::atomic<std::uint32_t>* post, std::atomic<std::uint32_t>* wait) noexcept
      : post_(post), wait_(wait) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  std::atomic<std::uint32_t>* post_;
  std::atomic<std::uint32_t>* wait_;
};

// Owns the shared page with the two words (mapped by the coordinator before fork, unmapped in
// its destructor; the peers use their inherited mapping).
class futex_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit futex_channel(const channel_config& cfg);
  futex_channel(const futex_channel&) = delete;
  futex_channel& operator=(const futex_channel&) = delete;

  void opened() noexcept {}
  futex_endpoint open(role r) const;

 private:
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
  shared_page<std::array<std::atomic<std::uint32_t>, 2>> words_;  // [forward, back], 0: empty
};

}  // namespace ipcbench
