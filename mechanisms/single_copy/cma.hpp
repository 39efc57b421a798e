// Cross Memory Attach (process_vm_readv(2)): one copy per message, straight from the sender's
// buffer into the receiver's. The sender keeps the message in its own buffer and sends a notify
// record (its address, length and sequence number) over a SOCK_SEQPACKET socketpair made by the
// coordinator before fork (notify_socket.hpp); the receiver pulls the bytes with
// process_vm_readv(2) from the sender's address space into its buffer, looping over partial
// counts, and sends an ack, after which the sender may reuse its buffer: send() returns only
// then. At open the two peers exchange their pids over the socket, and each allows the other to
// read its memory (prctl(PR_SET_PTRACER, partner)): under Yama's ptrace_scope 1 two sibling
// processes may not otherwise; scope 2 (CAP_SYS_PTRACE only) and 3 (none), or a seccomp filter
// in a container, forbid it regardless. describe() probes a read between a parent and its forked
// child once, and throws with the errno and ptrace_scope when it fails: the registry then makes
// the mechanism `unavailable` with that reason. Related processes only (the socketpair is
// inherited); two threads of one process may open the two ends (a process reads its own memory).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "mechanisms/adapter.hpp"
#include "mechanisms/single_copy/notify_socket.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One peer's end: its socket and its partner's pid. In a peer only; owns its socket.
class cma_endpoint {
 public:
  cma_endpoint(unique_fd sock, pid_t partner) noexcept
      : sock_(std::move(sock)), partner_(partner) {}
  // Announces `msg` and waits until the partner has read it (its ack): then the caller may
  // change the buffer. closed when the partner is gone. Throws std::system_error or
  // std::runtime_error (an unexpected record).
  io_status send(std::span<const std::byte> msg);
  // Waits for the next message's record and reads its bytes from the partner into `buf`, then
  // acks it. Returns its length, or kPeerGone. Throws std::system_error when process_vm_readv
  // fails (EPERM: ptrace access refused), std::runtime_error when the message is larger than
  // `buf` or a record is out of order.
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  unique_fd sock_;
  pid_t partner_;
  std::uint64_t sent_ = 0;      // messages sent
  std::uint64_t received_ = 0;  // messages received
};

class cma_channel {
 public:
  static constexpr bool kThreadPeers = true;
  // Throws std::runtime_error with the reason when process_vm_readv does not work here
  // (probe_process_vm_readv below).
  static mechanism_traits describe();
  // Coordinator, before fork. Throws std::system_error.
  explicit cma_channel(const channel_config& cfg);
  void opened() noexcept;
  // In a peer: takes its end, exchanges pids with the partner (blocks until the partner has
  // opened its end too; the coordinator's watchdog bounds the wait) and allows it to read this
  // process's memory.
  cma_endpoint open(role r);

 private:
  single_copy::notify_pair sockets_;
};

// Whether process_vm_readv(2) works here as the peers use it: a forked child reads a buffer of
// its parent, which has allowed it with PR_SET_PTRACER. Empty when it does, else the reason
// ("process_vm_readv: Operation not permitted (EPERM); /proc/sys/kernel/yama/ptrace_scope: 2").
// Coordinator side (forks once).
std::string probe_process_vm_readv();

// "0".."3" from /proc/sys/kernel/yama/ptrace_scope, or "absent (no Yama)".
std::string yama_ptrace_scope();

}  // namespace ipcbench
