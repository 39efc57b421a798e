// Shared memory passed as a descriptor (memfd_create(2) with seals, sent with SCM_RIGHTS over a
// SOCK_SEQPACKET socketpair the coordinator makes before fork, notify_socket.hpp), in the two
// ways programs use it:
//   memfd.per_connection: the producer creates one memfd of two 16 MiB slots (one per
//     direction) when it opens its end, seals its size (F_SEAL_SHRINK | F_SEAL_GROW |
//     F_SEAL_SEAL), maps it and passes it once to the consumer, which checks the seals and the
//     size and maps it too; both close the descriptor, the mappings stay. A message is copied
//     into the sender's slot, announced by a record over the socket and read by the receiver
//     where it lies, which then acks it (the slot is free again): one copy. Up to 16 MiB; larger
//     sizes are skipped with the reason. Wayland's wl_shm_pool.
//   memfd.per_message: per message the sender creates a memfd, pwrite(2)s the message into it,
//     seals it (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), sends it with the
//     record and closes it; the receiver checks the seals (F_GET_SEALS) and the size, maps it
//     read-only, reads the message where it lies, unmaps and closes it, and acks. One copy (the
//     pwrite). The sender has at most `window` messages unacked, so that memfds in flight hold
//     at most 32 MiB (and at most 64 descriptors): the kernel charges descriptors in flight to
//     the sender's RLIMIT_NOFILE. Wayland's per-buffer wl_shm and sealed file passing.
// The receiver reads a message in place (harness/peer.hpp in_place_receiver), so its check is
// the one read. A partner that is gone reads as EOF on the socket. Every descriptor is owned by
// a unique_fd on every path; a memfd still in flight when a peer dies is released by the kernel
// with the socket. Related processes only; two threads of one process may open the two ends.
// Throws std::system_error naming the call, std::runtime_error on a broken protocol or seal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "mechanisms/adapter.hpp"
#include "mechanisms/single_copy/notify_socket.hpp"
#include "sys/io.hpp"
#include "sys/mapping.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

namespace memfd {
inline constexpr std::size_t kSlotBytes = std::size_t{16} << 20;
// Seals a per-message memfd carries, all checked by the receiver.
extern const unsigned kMessageSeals;
// Seals the per-connection memfd carries.
extern const unsigned kConnectionSeals;
// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); throws std::system_error.
unique_fd create(const char* name);
// The memfd's seals (F_GET_SEALS); throws std::system_error.
unsigned seals_of(int fd);
// "F_SEAL_WRITE | F_SEAL_GROW" for errors and notes.
std::string seal_names(unsigned seals);
}  // namespace memfd

// memfd.per_connection: one peer's end; owns its socket and its mapping of the memfd.
class memfd_slot_endpoint {
 public:
  memfd_slot_endpoint(unique_fd sock, mapping map, std::byte* out, const std::byte* in) noexcept
      : sock_(std::move(sock)), map_(std::move(map)), out_(out), in_(in) {}
  // Copies `msg` into this side's slot, announces it and waits for the partner's ack (the slot
  // is free again). closed when the partner is gone.
  io_status send(std::span<const std::byte> msg);
  // Waits for the next message and calls `check` with it where it lies in the partner's slot,
  // then acks it. Its length, or kPeerGone.
  template <class Check>
  std::ptrdiff_t receive_in_place(Check& check) {
    single_copy::record r;
    if (single_copy::expect_record(sock_.get(), single_copy::record_kind::message, received_, r,
                                   "memfd.per_connection receive") != io_status::ok)
      return kPeerGone;
    if (r.len > memfd::kSlotBytes)
      throw std::runtime_error("memfd.per_connection: " + single_copy::describe(r) +
                               " is larger than the slot of " + std::to_string(memfd::kSlotBytes));
    check(std::span<const std::byte>(in_, r.len));
    return ack(r);
  }
  // The same, copied out into `buf` (for callers other than the harness's in-place check).
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  std::ptrdiff_t ack(const single_copy::record& r);

  unique_fd sock_;
  mapping map_;
  std::byte* out_;
  const std::byte* in_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

class memfd_per_connection_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator, before fork: the socketpair. Throws std::system_error.
  explicit memfd_per_connection_channel(const channel_config& cfg);
  void opened() noexcept;
  // Producer: creates, seals, maps and sends the memfd. Consumer: receives it (blocks until
  // the producer has opened; the coordinator's watchdog bounds the wait), checks its seals and
  // size, maps it. Both close the descriptor.
  memfd_slot_endpoint open(role r);

 private:
  single_copy::notify_pair sockets_;
};

// memfd.per_message: one peer's end; owns its socket.
class memfd_message_endpoint {
 public:
  memfd_message_endpoint(unique_fd sock, std::uint64_t window) noexcept
      : sock_(std::move(sock)), window_(window) {}
  memfd_message_endpoint(memfd_message_endpoint&&) noexcept = default;
  memfd_message_endpoint& operator=(memfd_message_endpoint&&) noexcept = delete;
  // Waits (up to 5 s, less when the partner is gone) for the acks of the messages still
  // unacked before it closes the socket: an AF_UNIX socket closed with records unread in its
  // receive queue resets its partner's end (ECONNRESET), and the partner would lose the
  // messages still queued for it.
  ~memfd_message_endpoint();
  // Creates a memfd, writes `msg` into it, seals it and sends it; first waits for acks while
  // `window` messages are unacked. closed when the partner is gone.
  io_status send(std::span<const std::byte> msg);
  // Waits for the next message (taking the partner's acks of our messages on the way), checks
  // its memfd's seals and size, maps it read-only and calls `check` with the message where it
  // lies; unmaps, closes and acks it. Its length, or kPeerGone.
  template <class Check>
  std::ptrdiff_t receive_in_place(Check& check) {
    unique_fd fd;
    single_copy::record r;
    if (next_message(r, fd) != io_status::ok) return kPeerGone;
    {
      const mapping m = map_message(fd.get(), r);
      check(std::span<const std::byte>(m.data(), r.len));
    }
    fd.reset();
    return ack(r);
  }
  // The same, copied out into `buf` (for callers other than the harness's in-place check).
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  // The next message record with its memfd, its seals and size checked; acks met on the way
  // are counted off.
  io_status next_message(single_copy::record& r, unique_fd& fd);
  // A read-only mapping of the message (empty for 0 bytes). Throws std::system_error.
  static mapping map_message(int fd, const single_copy::record& r);
  // Counts off the ack in `r` (which must be of our oldest unacked message).
  void take_ack(const single_copy::record& r);
  std::ptrdiff_t ack(const single_copy::record& r);

  unique_fd sock_;
  std::uint64_t window_;
  std::uint64_t sent_ = 0;
  std::uint64_t unacked_ = 0;
  std::uint64_t received_ = 0;
};

class memfd_per_message_channel {
 public:
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  // Coordinator, before fork: the socketpair; the window from the message size. Throws
  // std::system_error.
  explicit memfd_per_message_channel(const channel_config& cfg);
  void opened() noexcept;
  memfd_message_endpoint open(role r);

  // Messages a sender may have unacked at this size: 32 MiB of memfds, from 1 to 64.
  static std::uint64_t window_for(std::size_t message_size) noexcept;

 private:
  single_copy::notify_pair sockets_;
  std::uint64_t window_;
};

}  // namespace ipcbench
