#include "mechanisms/queues/sysv_mq.hpp"

#include <sys/ipc.h>
#include <sys/msg.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr long kForward = 1;  // producer -> consumer
constexpr long kBack = 2;     // consumer -> producer

}  // namespace

// msgsnd(2) and msgrcv(2) take a struct msgbuf: a long, then the text. The long goes in the
// caller's headroom (kHeadroom); memcpy, because the headroom need not be aligned for a long.
io_status sysv_mq_endpoint::send(std::span<const std::byte> msg) {
  if (msg.size() > size_) throw std::length_error("sysv_mq: message larger than the channel's");
  // The contract makes the headroom the caller's writable memory, even behind a const span.
  std::byte* const msgbuf = const_cast<std::byte*>(msg.data()) - kHeadroom;
  std::memcpy(msgbuf, &send_type_, sizeof send_type_);
  if (retry_on_eintr([&] { return ::msgsnd(msqid_, msgbuf, msg.size(), 0); }) == 0)
    return io_status::ok;
  if (errno == EIDRM) return io_status::closed;
  throw_errno("msgsnd(msqid " + std::to_string(msqid_) + ")");
}

std::ptrdiff_t sysv_mq_endpoint::receive(std::span<std::byte> buf) {
  std::byte* const msgbuf = buf.data() - kHeadroom;
  // No MSG_NOERROR: a message longer than the buffer fails with E2BIG and stays queued,
  // instead of being cut to size unseen.
  const ssize_t n =
      retry_on_eintr([&] { return ::msgrcv(msqid_, msgbuf, buf.size(), receive_type_, 0); });
  if (n >= 0) return n;
  if (errno == E2BIG)
    throw std::length_error("sysv_mq: a message longer than the receive buffer of " +
                            std::to_string(buf.size()) + " bytes");
  if (errno == EIDRM) return kPeerGone;
  throw_errno("msgrcv(msqid " + std::to_string(msqid_) + ")");
}

mechanism_traits sysv_mq_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "sysv_mq";
  t.variant = "default";
  t.family = "message queues";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "blocking msgrcv(2)";
  t.description =
      "System V message queue, one queue with a message type per direction, removed after the run";
  const auto msgmax = static_cast<long>(require_limit("/proc/sys/kernel/msgmax"));
  const auto msgmnb = static_cast<long>(require_limit("/proc/sys/kernel/msgmnb"));
  // msgsnd(2) refuses a message above msgmax (EINVAL) and can never queue one above the queue's
  // capacity msg_qbytes, which starts at msgmnb (it would block for ever).
  t.max_message = static_cast<std::size_t>(std::min(msgmax, msgmnb));
  if (msgmax <= msgmnb)
    t.max_message_source =
        "/proc/sys/kernel/msgmax = " + std::to_string(msgmax) +
        " (a message must also fit the queue: msgmnb = " + std::to_string(msgmnb) + ")";
  else
    t.max_message_source = "/proc/sys/kernel/msgmnb = " + std::to_string(msgmnb) +
                           " (queue capacity, below msgmax = " + std::to_string(msgmax) +
                           ": a larger message can never be queued)";
  t.notes["msgmax"] = std::to_string(msgmax);
  t.notes["msgmnb"] = std::to_string(msgmnb);
  if (auto v = read_integer("/proc/sys/kernel/msgmni")) t.notes["msgmni"] = std::to_string(*v);
  t.notes["queues"] = "1, mtype 1 producer -> consumer, mtype 2 consumer -> producer";
  t.notes["copies"] =
      "2 per message, msgsnd(2) into the kernel and msgrcv(2) out, as with posix_mq; no staging "
      "copy: mtype is written in the headroom the harness leaves before each message and "
      "msgrcv(2) receives into the harness's buffer in place";
  return t;
}

sysv_mq_channel::sysv_mq_channel(const channel_config& cfg) : size_(cfg.message_size) {
  msqid_ = names::create_with_unique_key(
      [](key_t k) { return ::msgget(k, IPC_CREAT | IPC_EXCL | 0600); }, "msgget", key_);
  guard_ = cleanup::guard(cleanup::kind::sysv_msg, msqid_);
}

sysv_mq_channel::~sysv_mq_channel() {
  if (msqid_ >= 0) ::msgctl(msqid_, IPC_RMID, nullptr);
  guard_.release();
}

sysv_mq_endpoint sysv_mq_channel::open(role r) const {
  return r == role::producer ? sysv_mq_endpoint(msqid_, kForward, kBack, size_)
                             : sysv_mq_endpoint(msqid_, kBack, kForward, size_);
}

nlohmann::json sysv_mq_channel::rendezvous() const {
  return {{"msqid", msqid_}, {"key", names::key_text(key_)}, {"message_size", size_}};
}

sysv_mq_endpoint sysv_mq_channel::attach(const nlohmann::json& where, role r) {
  const int msqid = where.at("msqid").get<int>();
  const auto size = where.at("message_size").get<std::size_t>();
  // The id alone names the queue; IPC_STAT checks that it exists and that we may use it.
  msqid_ds ds{};
  check(::msgctl(msqid, IPC_STAT, &ds), "msgctl(msqid " + std::to_string(msqid) + ", IPC_STAT)");
  return r == role::producer ? sysv_mq_endpoint(msqid, kForward, kBack, size)
                             : sysv_mq_endpoint(msqid, kBack, kForward, size);
}

}  // namespace ipcbench
