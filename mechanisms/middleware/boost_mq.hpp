// Boost.Interprocess message_queue (header-only): two named queues in POSIX shared memory, one
// per direction, each a ring of max_msg slots of max_msg_size bytes guarded by a process-shared
// mutex and two condition variables. The coordinator creates both before fork with names of the
// suite's scope (sys/names.hpp), exclusively and mode 0600, registered with the emergency
// cleanup; the peers open them by name (open_only), and the names are removed (shm_unlink) as
// soon as both opened them, or on any exit path before that. max_msg_size is the message size;
// max_msg fills a budget of kQueueBytes per queue, from 1 to kMaxMessages slots. A named
// channel: separately launched peers open the same names.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"

namespace ipcbench {

// A peer's two open queues: it sends on one and receives on the other, straight from and into
// the harness's buffers (each call copies the message once, into or out of the segment).
// Throws boost::interprocess::interprocess_exception.
class boost_mq_endpoint {
 public:
  boost_mq_endpoint(std::unique_ptr<boost::interprocess::message_queue> in,
                    std::unique_ptr<boost::interprocess::message_queue> out) noexcept
      : in_(std::move(in)), out_(std::move(out)) {}

  io_status send(std::span<const std::byte> msg) {
    out_->send(msg.data(), msg.size(), 0);
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    boost::interprocess::message_queue::size_type got = 0;
    unsigned int priority = 0;
    in_->receive(buf.data(), buf.size(), got, priority);
    return static_cast<std::ptrdiff_t>(got);
  }

 private:
  std::unique_ptr<boost::interprocess::message_queue> in_, out_;
};

class boost_mq_channel {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static constexpr std::size_t kQueueBytes = 8u << 20;  // slots' bytes per queue
  static constexpr std::size_t kMaxMessages = 64;

  // The queue depth (max_msg) for messages of `size` bytes: kQueueBytes / size, within
  // [1, kMaxMessages].
  static std::size_t depth_for(std::size_t size) noexcept;

  static mechanism_traits describe();
  // Coordinator: creates both queues ("/ipcbench-<scope>-<pid>-<random>-bmq-fwd" and "-back")
  // for cfg.message_size. Throws boost::interprocess::interprocess_exception or
  // std::system_error.
  explicit boost_mq_channel(const channel_config& cfg);
  void opened() noexcept;
  boost_mq_endpoint open(role r) const;
  nlohmann::json rendezvous() const;  // {"forward": name, "back": name}
  static boost_mq_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object forward_, back_;
};

}  // namespace ipcbench
