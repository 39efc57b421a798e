// POSIX message queues (mq_open(3), mq_send(3), mq_receive(3)): two queues, one per direction,
// opened by name; the receiver waits in a blocking mq_receive(3). A message carries at most
// /proc/sys/fs/mqueue/msgsize_max bytes; each queue's mq_msgsize is exactly the message size.
#pragma once

#include <mqueue.h>

#include <cstddef>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"
#include "sys/retry.hpp"

namespace ipcbench {

// One open queue descriptor, closed (mq_close) on destruction. Move-only.
class mq_handle {
 public:
  mq_handle() noexcept = default;
  explicit mq_handle(mqd_t q) noexcept : q_(q) {}
  mq_handle(mq_handle&& o) noexcept : q_(o.q_) { o.q_ = static_cast<mqd_t>(-1); }
  mq_handle& operator=(mq_handle&& o) noexcept;
  mq_handle(const mq_handle&) = delete;
  mq_handle& operator=(const mq_handle&) = delete;
  ~mq_handle();
  mqd_t get() const noexcept { return q_; }

 private:
  mqd_t q_ = static_cast<mqd_t>(-1);
};

// A peer's two queues: it sends on one and receives on the other, straight from and into the
// harness's buffers. Throws std::system_error naming the call.
class posix_mq_endpoint {
 public:
  posix_mq_endpoint(mq_handle in, mq_handle out) noexcept
      : in_(std::move(in)), out_(std::move(out)) {}

  io_status send(std::span<const std::byte> msg) {
    if (retry_on_eintr([&] {
          return ::mq_send(out_.get(), reinterpret_cast<const char*>(msg.data()), msg.size(), 0);
        }) != 0)
      throw_send_failed();
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    const ssize_t n = retry_on_eintr([&] {
      return ::mq_receive(in_.get(), reinterpret_cast<char*>(buf.data()), buf.size(), nullptr);
    });
    if (n < 0) throw_receive_failed();
    return n;
  }

 private:
  [[noreturn]] static void throw_send_failed();
  [[noreturn]] static void throw_receive_failed();

  mq_handle in_, out_;
};

// Owns the two queue names "/ipcbench-<pid>-<random>-fwd" and "-back": created by the
// coordinator before fork (O_CREAT | O_EXCL, mode 0600, attributes checked with mq_getattr) as
// named_objects, opened by name in each peer (or an unrelated process, attach()), and unlinked as
// soon as both peers have opened them. Throws std::system_error.
class posix_mq_channel {
 public:
  // open(role) opens by name or id and closes nothing: two threads of one process may both.
  static constexpr bool kThreadPeers = true;
  static mechanism_traits describe();
  explicit posix_mq_channel(const channel_config& cfg);
  posix_mq_channel(const posix_mq_channel&) = delete;
  posix_mq_channel& operator=(const posix_mq_channel&) = delete;

  void opened() noexcept;
  posix_mq_endpoint open(role r) const;
  nlohmann::json rendezvous() const;  // {"forward", "back", "message_size"}
  static posix_mq_endpoint attach(const nlohmann::json& where, role r);

 private:
  named_object forward_, back_;
  std::size_t size_;
};

}  // namespace ipcbench
