#include "mechanisms/queues/posix_mq.hpp"

#include <fcntl.h>

#include <algorithm>
#include <stdexcept>

#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr const char* kMsgsizeMax = "/proc/sys/fs/mqueue/msgsize_max";
constexpr const char* kMsgMax = "/proc/sys/fs/mqueue/msg_max";
// Queue depth: the Linux default of msg_max, or less where the machine allows less. Deeper
// queues would count against RLIMIT_MSGQUEUE for nothing: one message is in flight in a
// ping-pong, and a stream only needs the sender not to wait on every message.
constexpr long kDepth = 10;

mq_handle open_queue(const std::string& name, int flags, mq_attr* attr = nullptr) {
  const mqd_t q = retry_on_eintr([&] {
    return attr ? ::mq_open(name.c_str(), flags | O_CLOEXEC, 0600, attr)
                : ::mq_open(name.c_str(), flags | O_CLOEXEC);
  });
  if (q == static_cast<mqd_t>(-1)) throw_errno("mq_open(" + name + ")");
  return mq_handle(q);
}

// Creates the queue `name` names exclusively with `want` and checks that the kernel kept the
// attributes.
void create_queue(named_object& queue, long msgsize, long depth) {
  const std::string& name = queue.name();
  mq_attr want{};
  want.mq_maxmsg = depth;
  want.mq_msgsize = msgsize;
  mq_handle q = open_queue(name, O_CREAT | O_EXCL | O_RDWR, &want);
  queue.created();
  mq_attr got{};
  check(::mq_getattr(q.get(), &got), "mq_getattr(" + name + ")");
  if (got.mq_msgsize != msgsize || got.mq_maxmsg != depth)
    throw std::runtime_error("mq_open(" + name + ") made mq_msgsize " +
                             std::to_string(got.mq_msgsize) + ", mq_maxmsg " +
                             std::to_string(got.mq_maxmsg) + " instead of " +
                             std::to_string(msgsize) + ", " + std::to_string(depth));
}

posix_mq_endpoint open_ends(const std::string& forward, const std::string& back, role r) {
  if (r == role::producer) {
    mq_handle out = open_queue(forward, O_WRONLY);
    return posix_mq_endpoint(open_queue(back, O_RDONLY), std::move(out));
  }
  mq_handle in = open_queue(forward, O_RDONLY);
  return posix_mq_endpoint(std::move(in), open_queue(back, O_WRONLY));
}

}  // namespace

mq_handle& mq_handle::operator=(mq_handle&& o) noexcept {
  if (this != &o) {
    if (q_ != static_cast<mqd_t>(-1)) ::mq_close(q_);
    q_ = o.q_;
    o.q_ = static_cast<mqd_t>(-1);
  }
  return *this;
}

mq_handle::~mq_handle() {
  if (q_ != static_cast<mqd_t>(-1)) ::mq_close(q_);
}

void posix_mq_endpoint::throw_send_failed() {
  throw_errno("mq_send");
}

void posix_mq_endpoint::throw_receive_failed() {
  throw_errno("mq_receive");
}

mechanism_traits posix_mq_channel::describe() {
  mechanism_traits t;
  t.id = t.mechanism = "posix_mq";
  t.variant = "default";
  t.family = "message queues";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "blocking mq_receive(3)";
  t.description =
      "POSIX message queue per direction, opened by name, unlinked once both peers opened";
  const auto msgsize_max = static_cast<long>(require_limit(kMsgsizeMax));
  const auto msg_max = static_cast<long>(require_limit(kMsgMax));
  t.max_message = static_cast<std::size_t>(msgsize_max);
  t.max_message_source = std::string(kMsgsizeMax) + " = " + std::to_string(msgsize_max);
  t.notes["msgsize_max"] = std::to_string(msgsize_max);
  t.notes["msg_max"] = std::to_string(msg_max);
  t.notes["mq_maxmsg"] = std::to_string(std::min(msg_max, kDepth));
  t.notes["mq_msgsize"] = "the message size";
  // Where the kernel has no POSIX queues (ENOSYS) this throws, and the registry reports the
  // mechanism unavailable with the reason.
  named_object probe(named_object::kind::posix_mq, names::unique_posix_name("probe"));
  create_queue(probe, 1, 1);
  return t;
}

posix_mq_channel::posix_mq_channel(const channel_config& cfg) : size_(cfg.message_size) {
  const long depth = std::min(static_cast<long>(require_limit(kMsgMax)), kDepth);
  const std::string base = names::unique_posix_name();
  // When the constructor throws, the queues made so far (members) are unlinked.
  forward_ = named_object(named_object::kind::posix_mq, base + "-fwd");
  create_queue(forward_, static_cast<long>(size_), depth);
  back_ = named_object(named_object::kind::posix_mq, base + "-back");
  create_queue(back_, static_cast<long>(size_), depth);
}

void posix_mq_channel::opened() noexcept {
  forward_.unlink();
  back_.unlink();
}

posix_mq_endpoint posix_mq_channel::open(role r) const {
  return open_ends(forward_.name(), back_.name(), r);
}

nlohmann::json posix_mq_channel::rendezvous() const {
  return {{"forward", forward_.name()}, {"back", back_.name()}, {"message_size", size_}};
}

posix_mq_endpoint posix_mq_channel::attach(const nlohmann::json& where, role r) {
  return open_ends(where.at("forward").get<std::string>(), where.at("back").get<std::string>(), r);
}

}  // namespace ipcbench
