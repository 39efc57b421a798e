// System V message queue (msgget(2), msgsnd(2), msgrcv(2)): one queue, one message type per
// direction (1 producer -> consumer, 2 consumer -> producer); the receiver waits in a blocking
// msgrcv(2). A message carries at most min(msgmax, msgmnb) bytes, read from /proc/sys/kernel.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/cleanup.hpp"
#include "sys/io.hpp"

namespace ipcbench {

// One side of the queue, in a peer. The API wants a `long mtype` in front of the text; the
// endpoint declares that as headroom (kHeadroom, mechanisms/adapter.hpp), so every caller leaves
// sizeof(long) writable bytes before the spans it passes, and send() writes the type there and
// hands msgsnd(2) the caller's bytes in place, receive() lets msgrcv(2) write type and text
// straight into the caller's buffer: no staging copy on either side, as with posix_mq. A caller
// without that headroom breaks the contract (the endpoint would write before its buffer). A
// queue removed under it (EIDRM) reads as the peer gone. Throws std::system_error naming the
// call and the queue id, std::length_error for a message longer than the send limit or the
// receive buffer.
class sysv_mq_endpoint {
 public:
  static constexpr std::size_t kHeadroom = sizeof(long);

  sysv_mq_endpoint(int msqid, long send_type, long receive_type, std::size_t message_size) noexcept
      : msqid_(msqid), send_type_(send_type), receive_type_(receive_type), size_(message_size) {}

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  int msqid_;
  long send_type_, receive_type_;
  std::size_t size_;
};

// Owns the queue: created by the coordinator before fork (random key, IPC_CREAT | IPC_EXCL, mode
// 0600) and registered with the emergency cleanup. It cannot go early: IPC_RMID destroys a
// queue at once and fails the waiters with EIDRM, so the destructor removes it after the run.
// An unrelated peer attaches by the queue id from rendezvous().
class sysv_mq_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit sysv_mq_channel(const channel_config& cfg);
  ~sysv_mq_channel();
  sysv_mq_channel(const sysv_mq_channel&) = delete;
  sysv_mq_channel& operator=(const sysv_mq_channel&) = delete;

  void opened() noexcept {}
  sysv_mq_endpoint open(role r) const;
  nlohmann::json rendezvous() const;  // {"msqid", "key", "message_size"}
  static sysv_mq_endpoint attach(const nlohmann::json& where, role r);

 private:
  key_t key_ = 0;
  int msqid_ = -1;
  std::size_t size_;
  cleanup::guard guard_;
};

}  // namespace ipcbench
