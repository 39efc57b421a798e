#include "mechanisms/middleware/boost_mq.hpp"

#include <boost/interprocess/permissions.hpp>
#include <boost/version.hpp>

#include <algorithm>
#include <string>

#include "sys/names.hpp"

namespace ipcbench {
namespace {

namespace bip = boost::interprocess;

// Boost.Interprocess names its shared memory without the leading '/' (it adds one for
// shm_open(3)); named_object keeps the full POSIX name for shm_unlink(3).
const char* boost_name(const std::string& posix_name) {
  return posix_name.c_str() + (posix_name.starts_with('/') ? 1 : 0);
}

void create_queue(named_object& name, std::size_t size) {
  bip::permissions only_me(0600);
  // create_only is O_CREAT | O_EXCL: the name is ours once this returns. The coordinator's
  // mapping goes right away; the peers map the queue themselves.
  bip::message_queue q(bip::create_only, boost_name(name.name()), boost_mq_channel::depth_for(size),
                       std::max<std::size_t>(size, 1), only_me);
  name.created();
}

std::unique_ptr<bip::message_queue> open_queue(const std::string& name) {
  return std::make_unique<bip::message_queue>(bip::open_only, boost_name(name));
}

}  // namespace

std::size_t boost_mq_channel::depth_for(std::size_t size) noexcept {
  return std::clamp<std::size_t>(kQueueBytes / std::max<std::size_t>(size, 1), 1, kMaxMessages);
}

mechanism_traits boost_mq_channel::describe() {
  mechanism_traits t;
  t.id = "boost.message_queue";
  t.mechanism = "boost.message_queue";
  t.variant = "default";
  t.family = "middleware";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "a process-shared condition variable in the segment (pthread_cond_wait, futex)";
  t.description =
      "Boost.Interprocess message_queue per direction in POSIX shared memory, opened by name, "
      "unlinked after both opens";
  t.notes["boost_version"] = std::to_string(BOOST_VERSION / 100000) + "." +
                             std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                             std::to_string(BOOST_VERSION % 100);
  t.notes["max_msg_size"] = "the message size";
  t.notes["max_msg"] = std::to_string(kQueueBytes) + " / message size, from 1 to " +
                       std::to_string(kMaxMessages) + " (per queue)";
  t.notes["send/receive"] =
      "send copies the message into a slot, receive copies it out, under the queue's mutex";
  return t;
}

boost_mq_channel::boost_mq_channel(const channel_config& cfg)
    : forward_(named_object::kind::posix_shm, names::unique_posix_name("bmq-fwd")),
      back_(named_object::kind::posix_shm, names::unique_posix_name("bmq-back")) {
  create_queue(forward_, cfg.message_size);
  create_queue(back_, cfg.message_size);
}

void boost_mq_channel::opened() noexcept {
  forward_.unlink();
  back_.unlink();
}

boost_mq_endpoint boost_mq_channel::open(role r) const {
  return attach(rendezvous(), r);
}

nlohmann::json boost_mq_channel::rendezvous() const {
  return {{"forward", forward_.name()}, {"back", back_.name()}};
}

boost_mq_endpoint boost_mq_channel::attach(const nlohmann::json& where, role r) {
  const auto forward = where.at("forward").get<std::string>();
  const auto back = where.at("back").get<std::string>();
  // The producer sends forward and receives back; the consumer the other way round.
  if (r == role::producer) {
    auto out = open_queue(forward);
    return boost_mq_endpoint(open_queue(back), std::move(out));
  }
  auto in = open_queue(forward);
  return boost_mq_endpoint(std::move(in), open_queue(back));
}

}  // namespace ipcbench
