// What every shared-memory mechanism puts in its segment and needs around it: the layout (a
// header with the peers' pids and, per direction, a byte ring with its control words), the mapping
// of a segment, pre-faulting, and the check whether the partner process is still alive. Usable on
// both sides of a fork; failures throw std::system_error.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mechanisms/adapter.hpp"
#include "sys/mapping.hpp"
#include "sys/partner.hpp"

namespace ipcbench::shm {

// Per direction: messages larger than the ring stream through it in pieces. A power of two.
inline constexpr std::uint32_t kRingBytes = 256 * 1024;
// Most bytes copied in or out before the position is published, so a large message is drained
// while it is still being written.
inline constexpr std::uint32_t kChunkBytes = 64 * 1024;
// A spinning peer (spin_sync) checks this often that its partner is still alive. Blocking waits
// are untimed: a dead partner is the coordinator's to handle.
inline constexpr int kPollMs = 100;
// Control words: 128, not 64: Intel's adjacent-line prefetcher fetches cache lines in pairs, so
// words of the two sides 64 bytes apart still bounce between the cores.
inline constexpr std::size_t kLineBytes = 128;
// Payload alignment in the ring: the cache line of x86-64 (and most arm64 cores), so no copy
// into or out of the ring splits a line at its start. The prefetcher pairing that sets
// kLineBytes concerns words two cores write at once, not a copy's alignment; aligning to 128
// would cost each message 64 more bytes of ring for no gain in the copy.
inline constexpr std::uint32_t kPayloadAlign = 64;
inline constexpr std::size_t kHeaderBytes = 4096;
inline constexpr std::size_t kSegmentBytes = kHeaderBytes + 2 * std::size_t{kRingBytes};

static_assert((kRingBytes & (kRingBytes - 1)) == 0, "ring positions wrap with a mask");
static_assert(kRingBytes % kPayloadAlign == 0 && kHeaderBytes % kPayloadAlign == 0,
              "a position that is a multiple of kPayloadAlign is an aligned address");
static_assert(kChunkBytes <= kRingBytes / 2, "a sender and a receiver never both wait");

// Control words of one ring, accessed only through std::atomic_ref. Positions count bytes modulo
// 2^32 (the ring is far smaller, so head - tail is exact); they double as futex words. A waiter
// states what it waits for as a target position: the other side wakes it only once its position
// has reached the target (hysteresis), not on every small step. The flag and the target are one
// word, so the other side takes (compare-and-swap) the flag of exactly the wait whose target it
// checked: as two words, a flag left set by a wait that had just ended could be checked against
// that wait's (reached) target and then taken from the next wait, whose target was not reached,
// and that waiter slept with nobody left to wake it (pairs/8 over the futex rings hung in 3 of
// 60 runs here).
inline constexpr std::uint64_t kWaiting = std::uint64_t{1} << 32;
struct ring_control {
  alignas(kLineBytes) std::uint32_t head;  // written by the sender: bytes published
  std::uint64_t data_wait;                 // 0, or kWaiting | the head the receiver waits for
  alignas(kLineBytes) std::uint32_t tail;  // written by the receiver: bytes consumed
  std::uint64_t space_wait;                // 0, or kWaiting | the tail the sender waits for
};

// The start of every segment. All zero is the initial state, which shm_open + ftruncate, shmget,
// a new file and anonymous memory all provide.
struct segment_header {
  alignas(kLineBytes) std::uint32_t pid[2];  // producer's and consumer's pid, set on open
  ring_control ring[2];                      // [0] producer -> consumer, [1] consumer -> producer
  // Several producers on ring 0 (fan-in, shm_shared.hpp): the lock a producer holds for the
  // whole of one message. 0 free, 1 held, 2 held with (possible) sleepers.
  alignas(kLineBytes) std::uint32_t producer_lock;
};
static_assert(sizeof(segment_header) <= kHeaderBytes);

// A synchronisation policy's bells: one per ring and direction of waiting, ring * 2 for data
// (its receiver waits) and ring * 2 + 1 for space (its sender waits). Ring 0 carries producer ->
// consumer, ring 1 the reply.
inline constexpr int kBells = 4;
constexpr int data_bell(int ring) noexcept {
  return ring * 2;
}
constexpr int space_bell(int ring) noexcept {
  return ring * 2 + 1;
}
// The two bells the peer in role `r` rings (wakes the partner on): data on the ring it sends
// on, space on the ring it receives from.
constexpr std::array<int, 2> bells_rung_by(role r) noexcept {
  return r == role::producer ? std::array<int, 2>{data_bell(0), space_bell(1)}
                             : std::array<int, 2>{data_bell(1), space_bell(0)};
}

// What a synchronisation policy's (untimed) sleep reports.
enum class sleep_result {
  posted,       // woken by the partner (a counted primitive: one post taken)
  interrupted,  // EINTR or the word had already moved: nothing taken
};

// What every shared-memory mechanism declares alike: family, kind, and the ring's facts as notes.
void describe_ring(mechanism_traits& t);

// mmap(MAP_SHARED) of a whole segment from `fd`, after checking with fstat that it has
// kSegmentBytes. `what` names the object in errors.
mapping map_segment(int fd, const std::string& what);

// Faults in every page of [data, data + size) writable without changing its contents
// (MADV_POPULATE_WRITE; older kernels: a read of every page), so no fault lands in a timed loop.
void prefault(std::byte* data, std::size_t size);

// Records this process as `r`'s peer in the segment.
void announce(segment_header& h, role r) noexcept;

// Watches the partner whose pid the segment holds at `pid_slot`. gone() is for the slow path
// only (a spinning waiter's periodic check): it watches the pid found in the slot
// (sys/partner.hpp), so an exited partner counts as gone even before it is reaped.
class partner_watch {
 public:
  explicit partner_watch(const std::uint32_t* pid_slot) noexcept : slot_(pid_slot) {}
  // True when the partner has opened its end and has since exited. Throws std::system_error.
  bool gone();

 private:
  const std::uint32_t* slot_;
  partner partner_;
};

}  // namespace ipcbench::shm
