// iceoryx 2.0 (Eclipse iceoryx, the Debian packages): publish/subscribe through shared memory
// managed by the RouDi daemon (iox-roudi), which the channel starts for the benchmark and stops
// when it goes. Each peer creates its runtime after fork, registers with RouDi, and makes an
// untyped publisher and subscriber for service ("ipcbench", <instance>, "request" | "reply"):
// the producer publishes requests (and subscribes to replies in ping-pong), the consumer the
// reverse. A subscriber's queue is QueueFullPolicy::BLOCK_PRODUCER and a publisher's
// ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER, so a stream loses nothing: a full queue makes the
// publisher busy-wait (sched_yield) until the subscriber takes a chunk. A receiver waits in a
// WaitSet (a semaphore in the shared memory), as iceoryx's own examples do.
//   iceoryx.copy: the producer loans a chunk and copies the harness's message into it; the
//     consumer copies the chunk out into its buffer, checking it in the same pass, and
//     releases it. One copy on each side, as a user passing buffers through iceoryx would.
//   iceoryx.zerocopy: the producer loans a chunk and writes the message straight into it (its
//     pattern computed in place); the consumer checks every byte where it lies and releases the
//     chunk. No copy at all; the check still reads every byte.
//   iceoryx.zerocopy.busy: the same, but a receiver busy-polls Subscriber::take() instead of
//     sleeping in a WaitSet, as iceoryx's own benchmark (iceperf) does: no wake-up, one CPU
//     spent per waiting peer (sched_yield between polls when the peers share a CPU).
//   iceoryx.zerocopy.busy.header_only: iceperf's measurement, as it is: busy-polling, and only
//     the message's header (sequence number and length, 24 bytes) written into the loaned chunk
//     and checked; the payload is never touched. Latency only, and left out of a run unless
//     asked for (--header-only): its round trip is a chunk's pointer passed back and forth,
//     whatever the size, never a measure of moving data.
//
// RouDi's names are fixed machine-wide (/dev/shm/iceoryx_mgmt, /dev/shm/<user>, /tmp/roudi,
// /tmp/roudi.lock, /tmp/iox-unique-roudi.lock): one RouDi per machine. The channel therefore
// first takes a machine-wide lock (an abstract Unix socket name, so a killed holder leaves
// nothing), waiting for another ipcbench process's iceoryx benchmark to end; a RouDi that is not
// ours makes ours refuse to start, and the benchmark fails with RouDi's own words. The names are
// journalled once RouDi is ready (sys/cleanup.hpp kind::fixed_names), so that a killed
// coordinator's next run sweeps them when no RouDi is running, and every exit path removes what a
// killed RouDi left. The peers' runtimes leave a socket /tmp/<runtime name> and a lock file
// /tmp/<runtime name>.lock each (they _exit() without deregistering): named by the channel,
// journalled and removed with the rest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/cleanup.hpp"
#include "sys/helper_daemon.hpp"
#include "sys/named.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {

// One peer's iceoryx ports. Move-only; in a peer, after fork (the runtime is per process).
class iceoryx_endpoint {
 public:
  struct state;
  explicit iceoryx_endpoint(std::unique_ptr<state> s) noexcept;
  iceoryx_endpoint(iceoryx_endpoint&&) noexcept;
  iceoryx_endpoint& operator=(iceoryx_endpoint&&) noexcept;
  ~iceoryx_endpoint();

 protected:
  // A chunk of `n` bytes of the shared memory, the publisher's until publish(). Throws
  // std::runtime_error naming iceoryx's AllocationError.
  std::byte* loan(std::size_t n);
  void publish(std::byte* chunk) noexcept;
  // The next chunk of the subscriber's queue, waiting in the WaitSet while there is none (or
  // polling take() again, for a busy-polling endpoint); its user-payload size in `n`. Throws
  // std::runtime_error naming iceoryx's ChunkReceiveResult.
  const std::byte* take(std::size_t& n);
  void release(const std::byte* chunk) noexcept;

 private:
  std::unique_ptr<state> s_;
};

// iceoryx.copy's endpoint: a copy into the loaned chunk, and a copy out of the taken one.
class iceoryx_copy_endpoint : public iceoryx_endpoint {
 public:
  using iceoryx_endpoint::iceoryx_endpoint;
  io_status send(std::span<const std::byte> message) {
    std::byte* chunk = loan(message.size());
    if (!message.empty()) std::memcpy(chunk, message.data(), message.size());
    publish(chunk);
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buffer) {
    std::size_t n = 0;
    const std::byte* chunk = take(n);
    const bool fits = n <= buffer.size();
    if (fits && n != 0) std::memcpy(buffer.data(), chunk, n);
    release(chunk);
    if (!fits) throw_too_large(n, buffer.size());
    return static_cast<std::ptrdiff_t>(n);
  }
  // Copies out and checks in one pass (harness/peer.hpp fused_receiver): copier(dst, src, n,
  // offset) copies and checks a piece.
  template <class Copier>
  std::ptrdiff_t receive(std::span<std::byte> buffer, Copier& copier) {
    std::size_t n = 0;
    const std::byte* chunk = take(n);
    const bool fits = n <= buffer.size();
    if (fits && n != 0) copier(buffer.data(), chunk, n, 0);
    release(chunk);
    if (!fits) throw_too_large(n, buffer.size());
    return static_cast<std::ptrdiff_t>(n);
  }

  [[noreturn]] static void throw_too_large(std::size_t n, std::size_t room);
};

// iceoryx.zerocopy's endpoint: the message is written into the loaned chunk and checked where it
// lies (harness/peer.hpp loaning_sender and in_place_receiver); send() and receive() copy, for
// callers without a zero-copy path.
class iceoryx_zerocopy_endpoint : public iceoryx_copy_endpoint {
 public:
  using iceoryx_copy_endpoint::iceoryx_copy_endpoint;
  // write(span) fills the loaned chunk (harness/message.hpp message_writer).
  template <class Writer>
  io_status send_loaned(std::size_t n, const Writer& write) {
    std::byte* chunk = loan(n);
    write({chunk, n});
    publish(chunk);
    return io_status::ok;
  }
  // check(span) reads the chunk where it lies (harness/message.hpp in_place_check).
  template <class Check>
  std::ptrdiff_t receive_in_place(Check& check) {
    std::size_t n = 0;
    const std::byte* chunk = take(n);
    check({chunk, n});
    release(chunk);
    return static_cast<std::ptrdiff_t>(n);
  }
};

// iceoryx.zerocopy.busy.header_only's endpoint: the loaned chunk gets the header alone, and the
// receiver checks the header alone (the writer's and the check's header(), harness/message.hpp);
// harness/peer.hpp reports its verification as "header only".
class iceoryx_header_endpoint : public iceoryx_copy_endpoint {
 public:
  static constexpr bool kHeaderOnly = true;
  using iceoryx_copy_endpoint::iceoryx_copy_endpoint;
  template <class Writer>
  io_status send_loaned(std::size_t n, const Writer& write) {
    std::byte* chunk = loan(n);
    write.header({chunk, n});
    publish(chunk);
    return io_status::ok;
  }
  template <class Check>
  std::ptrdiff_t receive_in_place(Check& check) {
    std::size_t n = 0;
    const std::byte* chunk = take(n);
    check.header({chunk, n});
    release(chunk);
    return static_cast<std::ptrdiff_t>(n);
  }
};

// What the variants share on the coordinator's side: the machine-wide lock, RouDi's generated
// configuration, RouDi itself and every name it and the peers' runtimes create.
class iceoryx_broker {
 public:
  // The subscriber queue's capacity for messages of `size` bytes: kQueueBytes / size, within
  // [kMinQueue, kMaxQueue] (iceoryx's MAX_SUBSCRIBER_QUEUE_CAPACITY is 256).
  static constexpr std::size_t kQueueBytes = 32u << 20;
  static constexpr std::size_t kMinQueue = 2, kMaxQueue = 256;
  static std::size_t queue_for(std::size_t size) noexcept;
  // How long a channel waits for another process's iceoryx benchmark to end.
  static constexpr std::chrono::seconds kLockPatience{300};

  // Throws std::runtime_error (iox-roudi missing, the lock not had in time, RouDi exiting before
  // it was ready, with its last words) and std::system_error.
  // `busy_poll`: the receivers busy-poll take() (iceoryx.zerocopy.busy); rendezvous() says so,
  // and whether they yield between polls (the peers share a CPU).
  iceoryx_broker(const channel_config& cfg, bool busy_poll);
  // Kills RouDi (SIGKILL: the peers are gone), then removes its names.
  ~iceoryx_broker();
  iceoryx_broker(const iceoryx_broker&) = delete;
  iceoryx_broker& operator=(const iceoryx_broker&) = delete;

  // {"instance": "...", "queue": Q, "latency": bool, "busy_poll": bool, "yield": bool,
  //  "runtime": {"producer": "...", "consumer": "..."}}
  nlohmann::json rendezvous() const;
  std::vector<pid_t> helper_pids() const { return {roudi_.pid()}; }
  std::string helper_failure(std::chrono::milliseconds patience) {
    return roudi_.failure(patience);
  }

 private:
  pattern pat_;
  bool busy_poll_, yield_;
  std::size_t queue_;
  std::string instance_;
  std::string runtime_[2];  // producer, consumer
  unique_fd lock_;          // the abstract socket bound as the machine-wide lock
  // Declared before the daemon, so destroyed after it: removed once RouDi has stopped.
  named_object config_, log_;
  std::vector<named_object> roudi_names_, runtime_files_;
  cleanup::guard roudi_journal_;
  helper_daemon roudi_;
};

// How a receiver waits for a chunk.
enum class iceoryx_wait { waitset, busy_poll };

template <class Endpoint, bool ZeroCopy, iceoryx_wait Wait = iceoryx_wait::waitset>
class iceoryx_channel {
 public:
  static constexpr const char* kNoThreadPeers =
      "iceoryx registers one runtime per process with RouDi, and each peer needs its own";
  using endpoint_type = Endpoint;
  // Why pairs/N runs only at N = 1 (registry/make_entry.hpp).
  static constexpr const char* kOnePerMachine =
      "each iceoryx channel starts its own RouDi, and there is one RouDi per machine: N pairs "
      "at once would need one RouDi shared by N services, which this adapter does not do";
  // Throws (the mechanism is unavailable) when iox-roudi is not in $PATH.
  static mechanism_traits describe();
  explicit iceoryx_channel(const channel_config& cfg)
      : broker_(cfg, Wait == iceoryx_wait::busy_poll) {}
  void opened() noexcept {}
  Endpoint open(role r) { return attach(broker_.rendezvous(), r); }
  nlohmann::json rendezvous() const { return broker_.rendezvous(); }
  // In a peer: its runtime, its ports, and a wait until RouDi has connected them.
  static Endpoint attach(const nlohmann::json& where, role r);
  std::vector<pid_t> helper_pids() const { return broker_.helper_pids(); }
  std::string helper_failure(std::chrono::milliseconds patience) {
    return broker_.helper_failure(patience);
  }

 private:
  iceoryx_broker broker_;
};

using iceoryx_copy_channel = iceoryx_channel<iceoryx_copy_endpoint, false>;
using iceoryx_zerocopy_channel = iceoryx_channel<iceoryx_zerocopy_endpoint, true>;
using iceoryx_zerocopy_busy_channel =
    iceoryx_channel<iceoryx_zerocopy_endpoint, true, iceoryx_wait::busy_poll>;
using iceoryx_header_only_channel =
    iceoryx_channel<iceoryx_header_endpoint, true, iceoryx_wait::busy_poll>;

// The peer side of attach(): the runtime and the ports.
iceoryx_copy_endpoint iceoryx_attach_copy(const nlohmann::json& where, role r);
iceoryx_zerocopy_endpoint iceoryx_attach_zerocopy(const nlohmann::json& where, role r);
iceoryx_header_endpoint iceoryx_attach_header_only(const nlohmann::json& where, role r);
// `header_only`: iceoryx.zerocopy.busy.header_only (with zero_copy and busy_poll).
mechanism_traits iceoryx_describe(bool zero_copy, iceoryx_wait wait, bool header_only = false);

template <class Endpoint, bool ZeroCopy, iceoryx_wait Wait>
mechanism_traits iceoryx_channel<Endpoint, ZeroCopy, Wait>::describe() {
  return iceoryx_describe(ZeroCopy, Wait, std::is_same_v<Endpoint, iceoryx_header_endpoint>);
}

template <class Endpoint, bool ZeroCopy, iceoryx_wait Wait>
Endpoint iceoryx_channel<Endpoint, ZeroCopy, Wait>::attach(const nlohmann::json& where, role r) {
  if constexpr (std::is_same_v<Endpoint, iceoryx_header_endpoint>)
    return iceoryx_attach_header_only(where, r);
  else if constexpr (ZeroCopy)
    return iceoryx_attach_zerocopy(where, r);
  else
    return iceoryx_attach_copy(where, r);
}

}  // namespace ipcbench
