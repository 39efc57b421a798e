// The adapter interface every mechanism implements, and the traits it declares.
//
// A mechanism is a channel type C with:
//   static mechanism_traits describe();       // reads the kernel's limits at run time
//   explicit C(const channel_config&);        // coordinator, before fork: creates the channel
//   void opened();                            // coordinator, once both peers have opened their
//                                             // ends: drops its own copies, unlinks names early
//   endpoint open(role);                      // in a peer, after fork: takes the ends it needs
//                                             // and closes the rest of its copy
// and its endpoint type has, non-virtual so the timed loop has no indirect call:
//   io_status send(std::span<const std::byte> message);   // the whole message
//   std::ptrdiff_t receive(std::span<std::byte> buffer);  // one message: its length, or
//                                                          // kPeerGone, or kTimedOut (lossy
//                                                          // mechanisms whose message never came)
// and optionally, when the mechanism's API wants a header in front of the bytes (msgsnd(2) and
// msgrcv(2) want a `long mtype`):
//   static constexpr std::size_t kHeadroom = sizeof(long);
// Then every caller of send() and receive() guarantees kHeadroom writable bytes right before the
// span it passes (span.data() - kHeadroom .. span.data()), which the endpoint may overwrite, so it
// builds its header in place instead of copying the message through a staging buffer. The
// harness's message buffers (message_codec) provide it; endpoint_headroom<E> reads it (0 when
// the endpoint declares none). Endpoints without kHeadroom get plain spans and write nothing
// outside them.
// and optionally, when the mechanism needs a helper process beside the peers (a bus daemon, a
// broker) that the channel starts in its constructor and stops in its destructor:
//   std::vector<pid_t> helper_pids() const;  // coordinator: whose CPU time the producer reads
//                                            // over the timed batch (counted per message)
//   std::string helper_failure(std::chrono::milliseconds patience);
//                                            // coordinator: "<daemon> (pid N) killed by
//                                            // SIGKILL" once a helper has ended (waiting up to
//                                            // `patience` for it to be reaped), else empty
// and optionally, zero-copy endpoints (shared-memory middleware that lends its memory):
//   io_status send_loaned(std::size_t n, const message_writer& w);  // loans n bytes of the
//                                            // channel, has w write the message there, sends it
//   std::ptrdiff_t receive_in_place(in_place_check& c);  // one message: calls c with it where
//                                            // it lies, then gives the memory back; its length
// (harness/message.hpp; harness/peer.hpp's loaning_sender and in_place_receiver use them).
// Mechanisms that rendezvous by name (FIFO path, queue name, SysV key, socket path, port) can also
// run between unrelated processes; they model named_channel below:
//   nlohmann::json rendezvous() const;                  // coordinator: what an unrelated peer
//                                                       // needs to open its end (names, keys)
//   static endpoint attach(const nlohmann::json&, role); // in a separately launched peer
// Notification mechanisms (semaphores, eventfd, futex) carry no payload: they run at size 0,
// latency only. Stream mechanisms loop over partial transfers; message mechanisms carry at most
// traits.max_message bytes and the harness skips larger sizes with the reason. Failures throw
// std::system_error naming the call.
#pragma once

#include <concepts>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/io.hpp"

namespace ipcbench {

class private_dir;

enum class role { producer, consumer };
enum class pattern { latency, throughput };
enum class channel_kind { stream, message, shared_memory, notification, calibration };

// The `library threads` note of a mechanism with mechanism_traits::library_threads.
inline constexpr const char* kLibraryThreadsNote =
    "pinned by default to the peer's CPU, where they start from the peer's pinned thread (as "
    "`taskset -c CPU` pins a whole process); with --library-threads free they start while the "
    "peer's thread may run on every CPU the run may use, and only the peer's own thread is "
    "pinned after (as the library's own perf tools run without taskset); the repetition's "
    "library_threads says where they ran";

struct mechanism_traits {
  std::string id;         // stable report name: "pipe", "sysv_shm.futex"
  std::string mechanism;  // "pipe"
  std::string variant;    // "default" or what distinguishes this id
  std::string family;     // chart group: "pipes & FIFOs", "sockets", ...
  channel_kind kind = channel_kind::stream;
  std::optional<std::size_t> max_message;  // nullopt: any size
  std::string max_message_source;          // where the limit was read
  bool related_only = false;               // needs fork (inherited descriptors)
  std::string wait;                        // how a receiver waits: "blocking read(2)", "futex"
  std::string description;
  std::map<std::string, std::string> notes;  // facts recorded in the report (TCP_NODELAY, ...)
  bool supports_throughput = true;           // false: latency (ping-pong) only
  bool lossy = false;                        // may drop or reorder (UDP): loss is counted
  // A paced stream (registry `.paced` variants): throughput only, the producer paced at the
  // highest rate the harness finds with under 0.1 % lost (harness/runner.hpp run_paced_channel).
  bool paced = false;
  // A stream whose writes of at most this many bytes are atomic (PIPE_BUF for pipes and FIFOs):
  // larger writes of several writers may interleave (fan-in counts them torn). nullopt: no such
  // promise, or a message mechanism, whose messages always arrive whole.
  std::optional<std::size_t> atomic_write_max;
  // The message sizes this mechanism runs at instead of the sweep's; empty: the sweep's.
  // Notification mechanisms: {0}; the real-time signal: {0, 8}.
  std::vector<std::size_t> sizes;
  // The library starts threads of its own in each peer (I/O, polling, completion queues). By
  // default (--library-threads pinned) they start from the peer's pinned thread and stay on its
  // CPU, as under `taskset -c CPU`; with --library-threads free they start while the peer's
  // thread may run on every CPU the run may use, and only the peer's own thread is pinned after,
  // as the libraries' own perf tools run without taskset. Where they run sets the result
  // (docs/mechanisms.md, "Middleware"), so each repetition records it (library_threads).
  bool library_threads = false;
  // The kernel runs threads of the mechanism's own beside the peers, on their CPUs: io_uring's
  // SQPOLL thread, pinned to its peer's CPU. A peer waits for its CPU behind them, which is the
  // mechanism's doing, not another task's (the estimates' `preempted`).
  bool kernel_threads = false;
  // How the receiver's integrity check reads a message (set by the registry from the endpoint
  // type): "separate" (a second pass over the received message, after the channel copied it
  // in), "fused" (in the copy out of the channel: one pass), "in place" (the message read
  // where it lies, nothing copied) or "header only" (only the 24 bytes of sequence number and
  // length written and checked, the payload never touched: as some middleware's own benchmarks
  // measure, never a measure of moving data). A separate pass costs the receiver calibration's
  // check_ns_by_size more per message than the others.
  std::string verification;
  // An id whose endpoint writes and checks the header alone ("header only" above): left out of
  // a run unless asked for (--header-only), so that nobody reads it as moving data.
  bool header_only = false;
  // The message goes from the sender's buffer to the receiver's with one copy, not the two of a
  // pipe, a socket or a copying shared-memory ring: cma's process_vm_readv(2), a copy into a
  // memfd that the receiver reads where it lies, or the sender's pages vmspliced into a pipe
  // (pipe.splice, pipe.vmsplice) and read(2) out. The cross-core copy floor (two copies) does
  // not bound such a mechanism, so the report's floor check leaves it out, as it leaves out the
  // "in place" receivers.
  bool single_copy = false;
  // The receiver waits by polling memory (a busy-wait, or one that spins before it sleeps), so
  // with the peers on CPUs of their own its round trip is made of cache-line transfers: the
  // cache-line round trip bounds it, where a receiver that sleeps is bounded by the wake-up
  // round trip. Compare uses it to pick the floor a latency is stated in multiples of.
  bool spins = false;
  // Why the two peers cannot be threads of one process (--peers threads), or empty when they
  // can: the same channel, opened by two threads of one process.
  std::string no_thread_peers;
};

// receive() results other than a length.
inline constexpr std::ptrdiff_t kPeerGone = -1;
inline constexpr std::ptrdiff_t kTimedOut = -2;

struct channel_config {
  std::size_t message_size = 0;
  pattern pat = pattern::latency;
  const private_dir* dir = nullptr;  // for mechanisms that rendezvous by path
  // The coordinator's placement: true when both peers are pinned to the same CPU, or when they
  // are not pinned (placement none), so they may share one. A waiter that spins yields its CPU
  // only then; on two CPUs of their own a yield would only add latency.
  bool peers_share_cpu = true;
  // The two peers are threads of one process (--peers threads), both opening their ends on this
  // one object: open(role) then takes its own ends and leaves the partner's alone (a process
  // peer closes them in its forked copy; a thread would close them under its partner).
  bool peers_are_threads = false;
};

template <class E>
concept endpoint = requires(E& e, std::span<const std::byte> out, std::span<std::byte> in) {
  { e.send(out) } -> std::same_as<io_status>;
  { e.receive(in) } -> std::same_as<std::ptrdiff_t>;
};

template <class C>
concept channel = std::constructible_from<C, const channel_config&> && requires(C& c, role r) {
  { C::describe() } -> std::same_as<mechanism_traits>;
  {c.opened()};
  { c.open(r) } -> endpoint;
};

// Bytes an endpoint type needs writable in front of every span given to send()/receive().
template <class E>
inline constexpr std::size_t endpoint_headroom = 0;
template <class E>
requires requires {
  E::kHeadroom;
}
inline constexpr std::size_t endpoint_headroom<E> = E::kHeadroom;

template <class C>
concept named_channel = channel<C> && requires(const C& c, const nlohmann::json& j, role r) {
  { c.rendezvous() } -> std::same_as<nlohmann::json>;
  { C::attach(j, r) } -> endpoint;
};

const char* to_string(role r) noexcept;
const char* to_string(pattern p) noexcept;
const char* to_string(channel_kind k) noexcept;

}  // namespace ipcbench
