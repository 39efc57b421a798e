// The notify channel of the single-copy and fd-passing mechanisms (cma, memfd.*): fixed-size
// records over one AF_UNIX SOCK_SEQPACKET socketpair made by the coordinator before fork, each
// record one packet (never split, never merged), optionally with one descriptor attached
// (SCM_RIGHTS). A partner that is gone reads as EOF or ECONNRESET and is `closed`, a value, not
// an exception. Both sides of a fork; the peers only.
#pragma once

#include <cstdint>
#include <string>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::single_copy {

enum class record_kind : std::uint32_t { hello = 1, message = 2, ack = 3 };

// What goes over the socket. hello: `pid` is the sender's process id. message: `len` bytes of
// message number `seq` (each direction counts its own from 0) lie at `addr` of the sender's
// address space (cma), or in the sender's slot (memfd.per_connection), or in the memfd attached
// (memfd.per_message). ack: the receiver is done with message `seq`.
struct record {
  record_kind kind = record_kind::message;
  std::int32_t pid = 0;
  std::uint64_t addr = 0;
  std::uint64_t len = 0;
  std::uint64_t seq = 0;
};

// Sends one record, with `pass_fd` attached when it is >= 0 (SCM_RIGHTS: the partner receives a
// descriptor of its own for the same open file). closed when the partner is gone (EPIPE,
// ECONNRESET; MSG_NOSIGNAL, no SIGPIPE); throws std::system_error naming the call otherwise.
io_status send_record(int sock, const record& r, int pass_fd = -1);

// Acknowledges message `r`, received whole: sends the ack of its sequence number and returns its
// length, what the receive returns. A partner gone before the ack shows at the next call.
std::ptrdiff_t acknowledge(int sock, const record& r);

// Receives one record; a descriptor that came with it is put in `*got` (closed when `got` is
// null: none leaks). closed on EOF or ECONNRESET. Throws std::system_error when recvmsg fails,
// std::runtime_error on a packet that is not one whole record or on a truncated control message
// (the descriptors that did arrive are closed first).
io_status receive_record(int sock, record& r, unique_fd* got = nullptr);

// Receives a record that must be of kind `want` (and, for an ack or a message, of sequence
// `seq`); closed as above. Throws std::runtime_error naming `what` on any other record.
io_status expect_record(int sock, record_kind want, std::uint64_t seq, record& r, const char* what,
                        unique_fd* got = nullptr);

// "ack 3", "message 7 (4096 bytes)", for errors.
std::string describe(const record& r);

// The SOCK_SEQPACKET socketpair a channel makes before fork, one end per peer.
class notify_pair {
 public:
  // Coordinator, before fork. Throws std::system_error.
  explicit notify_pair(bool peers_are_threads);
  // Coordinator, once the peers have their ends: its copies would keep the socket open after a
  // peer dies, hiding the EOF from the other.
  void release() noexcept;
  // In a peer: its end. A forked peer closes its copy of the partner's end; thread peers share
  // the descriptors and leave it to the partner.
  unique_fd take(role r);

 private:
  unique_fd ends_[2];  // [producer, consumer]
  bool threads_;
};

}  // namespace ipcbench::single_copy
