// System V message queue (msgget(2), msgsnd(2), msgrcv(2)): one queue, one message type per
// direction (1 producer -> consumer, 2 consumer -> producer); the receiver waits in a blocking
// msgrcv(2). A message carries at most min(msgmax, msgmnb) bytes, read from /proc/sys/kernel.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/cleanup.hpp"
#include "sys/io.hpp"

namespace ipcbench {

// One side of the queue, in a peer. The API wants the type in front of the text, so each
// direction copies through a buffer allocated here, once. A queue removed under it (EIDRM)
// reads as the peer gone. Throws std::system_error naming the call and the queue id.
class sysv_mq_endpoint {
 public:
  sysv_mq_endpoint(int msqid, long send_type, long receive_type, std::size_t message_size);

  io_status send(std::span<const std::byte> msg);
  std::ptrdiff_t receive(std::span<std::byte> buf);

 private:
  int msqid_;
  long send_type_, receive_type_;
  std::size_t size_;
  std::vector<std::byte> out_, in_;  // long mtype, then the text
};

// Owns the queue: created by the coordinator before fork (random key, IPC_CREAT | IPC_EXCL, mode
// 0600) and registered with the emergency cleanup. It cannot go early: IPC_RMID destroys a
// queue at once and fails the waiters with EIDRM, so the destructor removes it after the run.
// An unrelated peer attaches by the queue id from rendezvous().
class sysv_mq_channel {
 public:
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
