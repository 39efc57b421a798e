#include "mechanisms/middleware/zeromq.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "sys/error.hpp"
#include "sys/retry.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// Round trips (PAIR): no high-water mark (0: unlimited), set explicitly so the report states
// it. With libzmq 4.3.4's default of 1000, a PAIR stream of 1-byte messages over ipc:// lost
// messages here once the sender reached the mark (the consumer then waited for ever); a round
// trip never has more than one message queued, so the mark is never met there anyway. Streams
// use PUSH/PULL, as libzmq's own perf/local_thr and remote_thr do: a PUSH socket at its mark
// blocks the sender, so nothing is lost and the queue stays bounded. Their mark is libzmq's
// default of 1000 messages from 16 KiB up, and 16 MiB worth of messages below: at 1000, a PUSH
// stream of 1-byte messages over ipc:// hung here with both peers blocked (5 of 18 runs of an
// A/A job, and at once under --timeout 5), a wake-up lost at the mark; at 16 MiB worth, a 1-byte
// batch never meets the mark.
constexpr int kPairHighWaterMark = 0;
constexpr int kDefaultHighWaterMark = 1000;
constexpr std::size_t kStreamQueueBytes = 16u << 20;

int stream_high_water_mark(std::size_t message_size) {
  const std::size_t by_bytes = kStreamQueueBytes / std::max<std::size_t>(message_size, 1);
  return static_cast<int>(std::max<std::size_t>(kDefaultHighWaterMark, by_bytes));
}
// -1: zmq_ctx_term waits until every queued message reached the partner (see the header).
constexpr int kLinger = -1;
// Setup only: how soon a producer that connected before the consumer bound tries again.
constexpr int kReconnectIvlMs = 10;

[[noreturn]] void throw_zmq(const std::string& what) {
  throw std::system_error(zmq_errno(), std::system_category(),
                          what + ": " + zmq_strerror(zmq_errno()));
}

// libzmq's default send high-water mark, read from a socket of a context made for the asking.
int default_high_water_mark() {
  void* ctx = zmq_ctx_new();
  if (ctx == nullptr) return -1;
  int hwm = -1;
  if (void* s = zmq_socket(ctx, ZMQ_PUSH); s != nullptr) {
    std::size_t len = sizeof hwm;
    if (zmq_getsockopt(s, ZMQ_SNDHWM, &hwm, &len) != 0) hwm = -1;
    zmq_close(s);
  }
  zmq_ctx_term(ctx);
  return hwm;
}

void set_option(void* socket, int option, int value, const char* what) {
  if (zmq_setsockopt(socket, option, &value, sizeof value) != 0)
    throw_zmq(std::string("zmq_setsockopt(") + what + ")");
}

std::string tcp_endpoint(std::uint16_t port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

// A TCP socket that may share its port with the coordinator's reservation (tcp.cpp does the
// same): SO_REUSEADDR and SO_REUSEPORT, same user.
unique_fd make_shared_port_socket() {
  unique_fd s = make_socket(AF_INET, SOCK_STREAM);
  set_int_option(s.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  set_int_option(s.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  return s;
}

// The pattern a rendezvous names (the socket types differ): round trips when it names none.
pattern pattern_of(const nlohmann::json& where) {
  return where.value("pattern", std::string("latency")) == "throughput" ? pattern::throughput
                                                                        : pattern::latency;
}

// The endpoint of role `r` that a rendezvous describes (its pattern and message size).
zeromq_endpoint endpoint_for(const nlohmann::json& where, role r) {
  return zeromq_endpoint(pattern_of(where), r, where.value("message_size", std::size_t{1}));
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

}  // namespace

zeromq_endpoint::zeromq_endpoint(pattern p, role r, std::size_t message_size)
    : stream_(p == pattern::throughput) {
  const int type = !stream_ ? ZMQ_PAIR : r == role::producer ? ZMQ_PUSH : ZMQ_PULL;
  context_ = zmq_ctx_new();
  if (context_ == nullptr) throw_zmq("zmq_ctx_new");
  socket_ = zmq_socket(context_, type);
  if (socket_ == nullptr) {
    const int err = zmq_errno();
    zmq_ctx_term(context_);
    context_ = nullptr;
    throw std::system_error(err, std::system_category(),
                            std::string("zmq_socket(") + socket_name(p, r) + ")");
  }
  try {
    const int mark = stream_ ? stream_high_water_mark(message_size) : kPairHighWaterMark;
    set_option(socket_, ZMQ_SNDHWM, mark, "ZMQ_SNDHWM");
    set_option(socket_, ZMQ_RCVHWM, mark, "ZMQ_RCVHWM");
    set_option(socket_, ZMQ_LINGER, kLinger, "ZMQ_LINGER");
    set_option(socket_, ZMQ_RECONNECT_IVL, kReconnectIvlMs, "ZMQ_RECONNECT_IVL");
  } catch (...) {
    close();
    throw;
  }
}

zeromq_endpoint::zeromq_endpoint(zeromq_endpoint&& o) noexcept
    : context_(std::exchange(o.context_, nullptr)),
      socket_(std::exchange(o.socket_, nullptr)),
      stream_(o.stream_) {}

const char* zeromq_endpoint::socket_name(pattern p, role r) noexcept {
  if (p != pattern::throughput) return "ZMQ_PAIR";
  return r == role::producer ? "ZMQ_PUSH" : "ZMQ_PULL";
}

zeromq_endpoint::~zeromq_endpoint() {
  close();
}

void zeromq_endpoint::close() noexcept {
  if (socket_ != nullptr) zmq_close(socket_);
  socket_ = nullptr;
  if (context_ != nullptr) (void)retry_on_eintr([&] { return zmq_ctx_term(context_); }, zmq_errno);
  context_ = nullptr;
}

void zeromq_endpoint::bind(const std::string& endpoint, unique_fd listening_fd) {
  if (listening_fd) {
    // libzmq polls the listener and accepts when it is readable; non-blocking, as a listener
    // libzmq makes itself is.
    const int flags = check(::fcntl(listening_fd.get(), F_GETFL), "fcntl(F_GETFL)");
    check(::fcntl(listening_fd.get(), F_SETFL, flags | O_NONBLOCK), "fcntl(F_SETFL, O_NONBLOCK)");
    set_option(socket_, ZMQ_USE_FD, listening_fd.get(), "ZMQ_USE_FD");
  }
  if (zmq_bind(socket_, endpoint.c_str()) != 0) throw_zmq("zmq_bind(" + endpoint + ")");
  (void)listening_fd.release();  // the listener is libzmq's now; it closes it
}

void zeromq_endpoint::connect(const std::string& endpoint) {
  if (zmq_connect(socket_, endpoint.c_str()) != 0) throw_zmq("zmq_connect(" + endpoint + ")");
}

void zeromq_endpoint::handshake(role r) {
  std::byte hello{0x68};
  std::byte got{};
  auto fail = [](const char* step) {
    throw std::runtime_error(std::string("zeromq handshake: ") + step);
  };
  // A PUSH/PULL stream has no way back: the hello alone proves it connected, once the consumer
  // has it (the producer's opened notice may come first; the coordinator waits for both).
  if (r == role::producer) {
    if (send({&hello, 1}) != io_status::ok) fail("send of the hello failed");
    if (!stream_ && (receive({&got, 1}) != 1 || got != hello)) fail("no answer to the hello");
  } else {
    if (receive({&got, 1}) != 1 || got != hello) fail("no hello");
    if (!stream_ && send({&hello, 1}) != io_status::ok) fail("send of the answer failed");
  }
}

io_status zeromq_endpoint::send(std::span<const std::byte> msg) {
  if (retry_on_eintr([&] { return zmq_send(socket_, msg.data(), msg.size(), 0); }, zmq_errno) >= 0)
    return io_status::ok;
  if (zmq_errno() == ETERM) return io_status::closed;
  throw_zmq("zmq_send");
}

std::ptrdiff_t zeromq_endpoint::receive(std::span<std::byte> buf) {
  const int n =
      retry_on_eintr([&] { return zmq_recv(socket_, buf.data(), buf.size(), 0); }, zmq_errno);
  if (n < 0) {
    if (zmq_errno() == ETERM) return kPeerGone;
    throw_zmq("zmq_recv");
  }
  // zmq_recv(3) truncates a longer message and returns its full length.
  if (static_cast<std::size_t>(n) > buf.size())
    throw std::length_error("zmq_recv: a message of " + std::to_string(n) +
                            " bytes, larger than the " + std::to_string(buf.size()) +
                            "-byte message expected");
  return n;
}

void add_zeromq_notes(mechanism_traits& t) {
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  t.notes["zmq_version"] =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  t.notes["socket"] =
      "latency: ZMQ_PAIR; throughput: ZMQ_PUSH (producer) to ZMQ_PULL (consumer), as libzmq's "
      "perf/local_thr and remote_thr; one context (1 I/O thread, the default) per peer, made "
      "after fork";
  t.notes["ZMQ_SNDHWM"] = "latency: " + std::to_string(kPairHighWaterMark) +
                          " (unlimited); throughput: libzmq's default (" +
                          std::to_string(default_high_water_mark()) +
                          " messages) from 16 KiB up, 16 MiB worth of messages below (at " +
                          std::to_string(kDefaultHighWaterMark) +
                          ", 1-byte PUSH streams over ipc:// hung with both peers blocked)";
  t.notes["ZMQ_RCVHWM"] = t.notes["ZMQ_SNDHWM"];
  t.notes["ZMQ_LINGER"] =
      std::to_string(kLinger) + " (closing waits until queued messages reached the partner)";
  t.notes["ZMQ_RECONNECT_IVL"] = std::to_string(kReconnectIvlMs) + " ms (setup only)";
  t.notes["ZMQ_MAXMSGSIZE"] = "-1 (default: no limit)";
  t.notes["send/receive"] = "zmq_send(3) copies the message in, zmq_recv(3) copies it out";
  t.library_threads = true;
  t.notes["library threads"] = kLibraryThreadsNote;
}

mechanism_traits zeromq_ipc_channel::describe() {
  mechanism_traits t;
  t.id = "zeromq.ipc";
  t.mechanism = "zeromq";
  t.variant = "ipc";
  t.family = "middleware";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "zmq_recv(3): poll(2) in libzmq's I/O thread, then a wake-up of the caller";
  t.description =
      "ZeroMQ over ipc:// (a Unix stream socket on a path in a private directory, unlinked once "
      "connected): PAIR sockets for round trips, PUSH/PULL for streams; context made after fork";
  add_zeromq_notes(t);
  t.notes["transport"] = "ipc:// (AF_UNIX stream socket)";
  return t;
}

zeromq_ipc_channel::zeromq_ipc_channel(const channel_config& cfg)
    : pat_(cfg.pat), size_(cfg.message_size) {
  if (cfg.dir == nullptr) throw std::invalid_argument("zeromq.ipc needs a private directory");
  const auto p = cfg.dir->path() / "zmq.sock";
  unix_address(p);  // fails now, in the coordinator, when the path is too long
  path_ = named_object(named_object::kind::path, p.string());
  path_.created();  // the consumer's bind creates it; it is the coordinator's to unlink
}

void zeromq_ipc_channel::opened() noexcept {
  path_.unlink();
}

zeromq_endpoint zeromq_ipc_channel::open(role r) {
  return attach(rendezvous(), r);
}

nlohmann::json zeromq_ipc_channel::rendezvous() const {
  return {{"path", path_.name()}, {"pattern", to_string(pat_)}, {"message_size", size_}};
}

zeromq_endpoint zeromq_ipc_channel::attach(const nlohmann::json& where, role r) {
  const std::string endpoint = "ipc://" + where.at("path").get<std::string>();
  zeromq_endpoint ep = endpoint_for(where, r);
  if (r == role::consumer)
    ep.bind(endpoint);
  else
    ep.connect(endpoint);
  ep.handshake(r);
  return ep;
}

mechanism_traits zeromq_tcp_channel::describe() {
  mechanism_traits t;
  t.id = "zeromq.tcp";
  t.mechanism = "zeromq";
  t.variant = "tcp";
  t.family = "middleware";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "zmq_recv(3): poll(2) in libzmq's I/O thread, then a wake-up of the caller";
  t.description =
      "ZeroMQ over tcp://127.0.0.1: PAIR sockets for round trips, PUSH/PULL for streams; context "
      "made after fork";
  add_zeromq_notes(t);
  t.notes["transport"] = "tcp:// over 127.0.0.1, an ephemeral port";
  t.notes["TCP_NODELAY"] = "1 (libzmq sets it on every TCP connection)";
  t.notes["rendezvous"] =
      "the coordinator reserves the port (bound, not listening, SO_REUSEPORT); the consumer "
      "listens on it and hands the listener to libzmq (ZMQ_USE_FD), the producer connects";
  return t;
}

zeromq_tcp_channel::zeromq_tcp_channel(const channel_config& cfg)
    : pat_(cfg.pat), size_(cfg.message_size), threads_(cfg.peers_are_threads) {
  reservation_ = make_shared_port_socket();
  sockaddr_in a = loopback(0);
  bind_to(reservation_.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, "127.0.0.1:0");
  socklen_t len = sizeof a;
  check(::getsockname(reservation_.get(), reinterpret_cast<sockaddr*>(&a), &len), "getsockname");
  port_ = ntohs(a.sin_port);
}

void zeromq_tcp_channel::opened() noexcept {
  reservation_.reset();
}

zeromq_endpoint zeromq_tcp_channel::open(role r) {
  if (!threads_) reservation_.reset();  // this peer's inherited copy
  return attach(rendezvous(), r);
}

nlohmann::json zeromq_tcp_channel::rendezvous() const {
  return {{"address", "127.0.0.1"},
          {"port", port_},
          {"pattern", to_string(pat_)},
          {"message_size", size_}};
}

zeromq_endpoint zeromq_tcp_channel::attach(const nlohmann::json& where, role r) {
  if (where.at("address").get<std::string>() != "127.0.0.1")
    throw std::invalid_argument("zeromq.tcp rendezvous: not 127.0.0.1");
  const auto port = where.at("port").get<std::uint16_t>();
  const std::string endpoint = tcp_endpoint(port);
  zeromq_endpoint ep = endpoint_for(where, r);
  if (r == role::consumer) {
    unique_fd listener = make_shared_port_socket();
    const sockaddr_in a = loopback(port);
    bind_to(listener.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a, endpoint);
    check(::listen(listener.get(), 1), "listen(" + endpoint + ")");
    ep.bind(endpoint, std::move(listener));
  } else {
    ep.connect(endpoint);
  }
  ep.handshake(r);
  return ep;
}

}  // namespace ipcbench
