#include "mechanisms/middleware/nng.hpp"

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include <stdexcept>
#include <system_error>
#include <utility>

#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// Setup only: how soon a producer that dialled before the consumer listened tries again.
constexpr nng_duration kReconnectMinMs = 10;
constexpr nng_duration kReconnectMaxMs = 100;

// nng's errors are its own numbers (nng_strerror names them), not errno values.
[[noreturn]] void throw_nng(int rv, const std::string& what) {
  throw std::runtime_error(what + ": " + nng_strerror(rv) + " (nng error " + std::to_string(rv) +
                           ")");
}

void check_nng(int rv, const std::string& what) {
  if (rv != 0) throw_nng(rv, what);
}

nng_socket socket_of(std::uint32_t id) {
  nng_socket s;
  s.id = id;
  return s;
}

constexpr std::byte kHello{0x68};

}  // namespace

nng_endpoint::nng_endpoint(role r) : role_(r) {
  nng_socket s = NNG_SOCKET_INITIALIZER;
  check_nng(nng_pair1_open(&s), "nng_pair1_open");
  socket_ = s.id;
  try {
    // nng refuses messages larger than 1 MiB by default (NNG_OPT_RECVMAXSZ); 0 lifts the limit.
    check_nng(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0), "nng_socket_set_size(recv-size-max)");
    check_nng(nng_socket_set_ms(s, NNG_OPT_RECONNMINT, kReconnectMinMs),
              "nng_socket_set_ms(reconnect-time-min)");
    check_nng(nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, kReconnectMaxMs),
              "nng_socket_set_ms(reconnect-time-max)");
  } catch (...) {
    close();
    throw;
  }
}

nng_endpoint::nng_endpoint(nng_endpoint&& o) noexcept
    : role_(o.role_), socket_(std::exchange(o.socket_, 0)) {}

nng_endpoint::~nng_endpoint() {
  if (socket_ == 0) return;
  const nng_socket s = socket_of(socket_);
  std::byte bye = kHello;
  if (role_ == role::consumer) {
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, kByeTimeoutMs);
    nng_send(s, &bye, 1, 0);
  } else {
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, kByeTimeoutMs);
    std::size_t n = 1;
    nng_recv(s, &bye, &n, 0);
  }
  close();
}

void nng_endpoint::close() noexcept {
  if (socket_ != 0) nng_close(socket_of(socket_));
  socket_ = 0;
}

void nng_endpoint::listen(const std::string& url) {
  check_nng(nng_listen(socket_of(socket_), url.c_str(), nullptr, 0), "nng_listen(" + url + ")");
}

void nng_endpoint::dial(const std::string& url) {
  check_nng(nng_dial(socket_of(socket_), url.c_str(), nullptr, NNG_FLAG_NONBLOCK),
            "nng_dial(" + url + ")");
}

void nng_endpoint::handshake() {
  std::byte hello = kHello;
  std::byte got{};
  auto fail = [](const char* step) {
    throw std::runtime_error(std::string("nng handshake: ") + step);
  };
  if (role_ == role::producer) {
    if (send({&hello, 1}) != io_status::ok) fail("send of the hello failed");
    if (receive({&got, 1}) != 1 || got != kHello) fail("no answer to the hello");
  } else {
    if (receive({&got, 1}) != 1 || got != kHello) fail("no hello");
    if (send({&hello, 1}) != io_status::ok) fail("send of the answer failed");
  }
}

io_status nng_endpoint::send(std::span<const std::byte> msg) {
  // nng_send(3) copies the bytes into a new message (without NNG_FLAG_ALLOC the buffer stays
  // the caller's).
  const int rv = nng_send(socket_of(socket_), const_cast<std::byte*>(msg.data()), msg.size(), 0);
  if (rv == 0) return io_status::ok;
  if (rv == NNG_ECLOSED) return io_status::closed;
  throw_nng(rv, "nng_send");
}

std::ptrdiff_t nng_endpoint::receive(std::span<std::byte> buf) {
  std::size_t n = buf.size();
  const int rv = nng_recv(socket_of(socket_), buf.data(), &n, 0);
  if (rv == NNG_ECLOSED) return kPeerGone;
  if (rv != 0) throw_nng(rv, "nng_recv");
  // nng_recv(3) copies what fits and reports the message's whole length.
  if (n > buf.size())
    throw std::length_error("nng_recv: a message of " + std::to_string(n) +
                            " bytes, larger than the " + std::to_string(buf.size()) +
                            "-byte message expected");
  return static_cast<std::ptrdiff_t>(n);
}

mechanism_traits nng_ipc_channel::describe() {
  mechanism_traits t;
  t.id = "nng.ipc";
  t.mechanism = "nng";
  t.variant = "ipc";
  t.family = "middleware";
  t.kind = channel_kind::message;
  t.related_only = false;
  t.wait = "nng_recv(3): a condition variable, signalled by nng's I/O threads";
  t.description =
      "nng pair1 sockets over ipc:// (a Unix stream socket on a path in a private directory, "
      "unlinked once connected), opened after fork";
  t.notes["nng_version"] = nng_version();
  t.notes["protocol"] = "pair1, monogamous (the default): a full pipe makes a sender wait";
  t.notes["transport"] = "ipc:// (AF_UNIX stream socket)";
  t.notes["NNG_OPT_RECVMAXSZ"] = "0 (no limit; nng's default is 1 MiB)";
  t.notes["NNG_OPT_RECONNMINT/RECONNMAXT"] = std::to_string(kReconnectMinMs) + " ms / " +
                                             std::to_string(kReconnectMaxMs) + " ms (setup only)";
  t.notes["close"] = "the consumer sends a goodbye byte, the producer waits for it (at most " +
                     std::to_string(nng_endpoint::kByeTimeoutMs / 1000) +
                     " s) before nng_close(3), which may drop queued messages";
  t.notes["send/receive"] = "nng_send(3) copies the message in, nng_recv(3) copies it out";
  // Not read from a socket here: opening one would start nng's threads in the coordinator,
  // which forks the peers afterwards.
  t.notes["NNG_OPT_SENDBUF/RECVBUF"] = "nng's defaults (not set)";
  t.library_threads = true;
  t.notes["library threads"] = kLibraryThreadsNote;
  return t;
}

nng_ipc_channel::nng_ipc_channel(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("nng.ipc needs a private directory");
  const auto p = cfg.dir->path() / "nng.sock";
  unix_address(p);  // fails now, in the coordinator, when the path is too long
  path_ = named_object(named_object::kind::path, p.string());
  path_.created();  // the consumer's listener creates it; it is the coordinator's to unlink
}

void nng_ipc_channel::opened() noexcept {
  path_.unlink();
}

nng_endpoint nng_ipc_channel::open(role r) {
  return attach(rendezvous(), r);
}

nlohmann::json nng_ipc_channel::rendezvous() const {
  return {{"path", path_.name()}};
}

nng_endpoint nng_ipc_channel::attach(const nlohmann::json& where, role r) {
  const std::string url = "ipc://" + where.at("path").get<std::string>();
  nng_endpoint ep(r);
  if (r == role::consumer)
    ep.listen(url);
  else
    ep.dial(url);
  ep.handshake();
  return ep;
}

}  // namespace ipcbench
