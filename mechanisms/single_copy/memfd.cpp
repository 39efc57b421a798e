#include "mechanisms/single_copy/memfd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "mechanisms/shm/shm_segment.hpp"
#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {

using single_copy::record;
using single_copy::record_kind;

namespace {

// receive() of both memfd endpoints: the message copied out of where it lies into `buf`.
template <class Endpoint>
std::ptrdiff_t receive_copied(Endpoint& e, std::span<std::byte> buf, const char* id) {
  bool fits = true;
  auto copy_out = [&](std::span<const std::byte> got) {
    fits = got.size() <= buf.size();
    if (fits && !got.empty()) std::memcpy(buf.data(), got.data(), got.size());
  };
  const std::ptrdiff_t n = e.receive_in_place(copy_out);
  if (!fits)
    throw std::runtime_error(std::string(id) + ": a message of " + std::to_string(n) +
                             " bytes does not fit the receive buffer of " +
                             std::to_string(buf.size()));
  return n;
}

}  // namespace

namespace memfd {

const unsigned kMessageSeals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
const unsigned kConnectionSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

unique_fd create(const char* name) {
  return unique_fd(check(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING),
                         std::string("memfd_create(") + name + ", MFD_ALLOW_SEALING)"));
}

unsigned seals_of(int fd) {
  return static_cast<unsigned>(check(::fcntl(fd, F_GET_SEALS), "fcntl(F_GET_SEALS)"));
}

std::string seal_names(unsigned seals) {
  std::string s;
  const std::pair<unsigned, const char*> names[] = {{F_SEAL_WRITE, "F_SEAL_WRITE"},
                                                    {F_SEAL_SHRINK, "F_SEAL_SHRINK"},
                                                    {F_SEAL_GROW, "F_SEAL_GROW"},
                                                    {F_SEAL_SEAL, "F_SEAL_SEAL"}};
  for (const auto& [bit, name] : names) {
    if ((seals & bit) == 0) continue;
    if (!s.empty()) s += " | ";
    s += name;
  }
  return s.empty() ? "none" : s;
}

}  // namespace memfd

namespace {

std::uint64_t file_size(int fd, const char* what) {
  struct stat st {};
  check(::fstat(fd, &st), std::string("fstat(") + what + ")");
  return static_cast<std::uint64_t>(st.st_size);
}

// The memfd that came with `r` has the seals `want` and `r.len` bytes, or this throws.
void check_memfd(int fd, const record& r, unsigned want, std::uint64_t size, const char* who) {
  if (fd < 0)
    throw std::runtime_error(std::string(who) + ": " + single_copy::describe(r) +
                             " came without a descriptor");
  const unsigned seals = memfd::seals_of(fd);
  if ((seals & want) != want)
    throw std::runtime_error(std::string(who) + ": the memfd of " + single_copy::describe(r) +
                             " is sealed " + memfd::seal_names(seals) + ", not " +
                             memfd::seal_names(want));
  if (const std::uint64_t got = file_size(fd, who); got != size)
    throw std::runtime_error(std::string(who) + ": the memfd of " + single_copy::describe(r) +
                             " has " + std::to_string(got) + " bytes, expected " +
                             std::to_string(size));
}

}  // namespace

// memfd.per_connection

io_status memfd_slot_endpoint::send(std::span<const std::byte> msg) {
  if (msg.size() > memfd::kSlotBytes)
    throw std::runtime_error("memfd.per_connection: a message of " + std::to_string(msg.size()) +
                             " bytes is larger than the slot of " +
                             std::to_string(memfd::kSlotBytes));
  if (!msg.empty()) std::memcpy(out_, msg.data(), msg.size());
  record r;
  r.kind = record_kind::message;
  r.len = msg.size();
  r.seq = sent_;
  if (single_copy::send_record(sock_.get(), r) != io_status::ok) return io_status::closed;
  // The partner reads the slot where it lies: ours again after its ack.
  record a;
  if (single_copy::expect_record(sock_.get(), record_kind::ack, sent_, a,
                                 "memfd.per_connection send") != io_status::ok)
    return io_status::closed;
  ++sent_;
  return io_status::ok;
}

std::ptrdiff_t memfd_slot_endpoint::receive(std::span<std::byte> buf) {
  return receive_copied(*this, buf, "memfd.per_connection");
}

std::ptrdiff_t memfd_slot_endpoint::ack(const record& r) {
  ++received_;
  return single_copy::acknowledge(sock_.get(), r);
}

mechanism_traits memfd_per_connection_channel::describe() {
  // A kernel without memfd_create or sealing makes the mechanism unavailable with the reason.
  {
    auto fd = memfd::create("ipcbench-probe");
    check(::fcntl(fd.get(), F_ADD_SEALS, memfd::kConnectionSeals), "fcntl(F_ADD_SEALS)");
  }
  mechanism_traits t;
  t.id = "memfd.per_connection";
  t.mechanism = "memfd";
  t.variant = "per_connection";
  t.family = "memfd & fd passing";
  t.kind = channel_kind::shared_memory;
  t.max_message = memfd::kSlotBytes;
  t.max_message_source = "the slot of each direction in the memfd (16 MiB, fixed)";
  t.related_only = true;
  t.single_copy = true;
  t.wait = "blocking recv(2) of the notify record (SOCK_SEQPACKET socketpair)";
  t.description =
      "one sealed memfd per connection, passed once with SCM_RIGHTS and mapped by both; a "
      "message is copied into the sender's 16 MiB slot, announced over a Unix socketpair, "
      "read in place by the receiver and acked";
  t.notes["copies"] = "1: memcpy into the sender's slot; the receiver reads it in place";
  t.notes["seals"] = memfd::seal_names(memfd::kConnectionSeals);
  t.notes["memfd_bytes"] = std::to_string(2 * memfd::kSlotBytes);
  t.notes["ack"] = "send() returns after the receiver's ack: one message in flight per direction";
  return t;
}

memfd_per_connection_channel::memfd_per_connection_channel(const channel_config& cfg)
    : sockets_(cfg.peers_are_threads) {}

void memfd_per_connection_channel::opened() noexcept {
  sockets_.release();
}

memfd_slot_endpoint memfd_per_connection_channel::open(role r) {
  unique_fd sock = sockets_.take(r);
  constexpr std::size_t size = 2 * memfd::kSlotBytes;
  record hello;
  mapping map;
  if (r == role::producer) {
    const unique_fd fd = memfd::create("ipcbench-connection");
    check(::ftruncate(fd.get(), static_cast<off_t>(size)), "ftruncate(memfd)");
    check(::fcntl(fd.get(), F_ADD_SEALS, memfd::kConnectionSeals), "fcntl(F_ADD_SEALS)");
    map = map_shared(fd.get(), size, "memfd.per_connection");
    shm::prefault(map.data(), size);
    hello.kind = record_kind::hello;
    hello.pid = ::getpid();
    hello.len = size;
    if (single_copy::send_record(sock.get(), hello, fd.get()) != io_status::ok)
      throw std::runtime_error(
          "memfd.per_connection: the consumer closed its end before the memfd");
    // fd closes here; the mapping keeps the memory.
    std::byte* base = map.data();
    return memfd_slot_endpoint(std::move(sock), std::move(map), base, base + memfd::kSlotBytes);
  }
  unique_fd fd;
  if (single_copy::expect_record(sock.get(), record_kind::hello, 0, hello,
                                 "memfd.per_connection open", &fd) != io_status::ok)
    throw std::runtime_error("memfd.per_connection: the producer closed its end before the memfd");
  check_memfd(fd.get(), hello, memfd::kConnectionSeals, size, "memfd.per_connection");
  map = map_shared(fd.get(), size, "memfd.per_connection");
  fd.reset();
  std::byte* base = map.data();
  return memfd_slot_endpoint(std::move(sock), std::move(map), base + memfd::kSlotBytes, base);
}

// memfd.per_message

io_status memfd_message_endpoint::send(std::span<const std::byte> msg) {
  while (unacked_ >= window_) {
    record a;
    if (single_copy::receive_record(sock_.get(), a) != io_status::ok) return io_status::closed;
    if (a.kind != record_kind::ack)
      throw std::runtime_error("memfd.per_message send: expected an ack, got " +
                               single_copy::describe(a));
    take_ack(a);
  }
  const unique_fd fd = memfd::create("ipcbench-message");
  std::size_t done = 0;
  while (done < msg.size()) {
    const ssize_t n = retry_on_eintr([&] {
      return ::pwrite(fd.get(), msg.data() + done, msg.size() - done, static_cast<off_t>(done));
    });
    done += static_cast<std::size_t>(check(n, "pwrite(memfd)"));
  }
  check(::fcntl(fd.get(), F_ADD_SEALS, memfd::kMessageSeals), "fcntl(F_ADD_SEALS)");
  record r;
  r.kind = record_kind::message;
  r.len = msg.size();
  r.seq = sent_;
  if (single_copy::send_record(sock_.get(), r, fd.get()) != io_status::ok) return io_status::closed;
  ++sent_;
  ++unacked_;
  return io_status::ok;  // fd closes here: the partner holds its own
}

memfd_message_endpoint::~memfd_message_endpoint() {
  if (!sock_) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (unacked_ > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{sock_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return;
    try {
      record r;
      unique_fd fd;  // a message the partner sent is closed unread
      if (single_copy::receive_record(sock_.get(), r, &fd) != io_status::ok) return;
      if (r.kind == record_kind::ack) --unacked_;
    } catch (...) {
      return;  // a destructor never throws; the socket closes all the same
    }
  }
}

io_status memfd_message_endpoint::next_message(record& r, unique_fd& fd) {
  for (;;) {
    if (single_copy::receive_record(sock_.get(), r, &fd) != io_status::ok) return io_status::closed;
    if (r.kind == record_kind::ack) {
      if (fd) throw std::runtime_error("memfd.per_message: an ack came with a descriptor");
      take_ack(r);
      continue;
    }
    if (r.kind != record_kind::message || r.seq != received_) {
      record w;
      w.seq = received_;
      throw std::runtime_error("memfd.per_message receive: expected " + single_copy::describe(w) +
                               ", got " + single_copy::describe(r));
    }
    check_memfd(fd.get(), r, memfd::kMessageSeals, r.len, "memfd.per_message");
    return io_status::ok;
  }
}

mapping memfd_message_endpoint::map_message(int fd, const record& r) {
  if (r.len == 0) return {};
  // Read-only: a write-sealed memfd refuses a writable shared mapping (EPERM).
  void* p = ::mmap(nullptr, r.len, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    throw_errno("mmap(PROT_READ, MAP_SHARED, memfd of " + std::to_string(r.len) + " bytes)");
  return mapping(p, r.len);
}

void memfd_message_endpoint::take_ack(const record& a) {
  const std::uint64_t oldest = sent_ - unacked_;
  if (unacked_ == 0 || a.seq != oldest)
    throw std::runtime_error("memfd.per_message: " + single_copy::describe(a) + " with " +
                             std::to_string(unacked_) + " unacked, the oldest " +
                             std::to_string(oldest));
  --unacked_;
}

std::ptrdiff_t memfd_message_endpoint::ack(const record& r) {
  ++received_;
  return single_copy::acknowledge(sock_.get(), r);
}

std::ptrdiff_t memfd_message_endpoint::receive(std::span<std::byte> buf) {
  return receive_copied(*this, buf, "memfd.per_message");
}

mechanism_traits memfd_per_message_channel::describe() {
  {
    auto fd = memfd::create("ipcbench-probe");
    check(::fcntl(fd.get(), F_ADD_SEALS, memfd::kMessageSeals), "fcntl(F_ADD_SEALS)");
  }
  mechanism_traits t;
  t.id = "memfd.per_message";
  t.mechanism = "memfd";
  t.variant = "per_message";
  t.family = "memfd & fd passing";
  t.kind = channel_kind::message;
  t.related_only = true;
  t.single_copy = true;
  t.wait = "blocking recv(2) of the notify record with the memfd (SCM_RIGHTS)";
  t.description =
      "a new memfd per message: pwrite(2), sealed against writing and resizing, sent with "
      "SCM_RIGHTS over a Unix socketpair; the receiver checks the seals, maps it read-only, "
      "reads it in place, closes it and acks";
  t.notes["copies"] = "1: pwrite(2) into the memfd; the receiver reads its mapping in place";
  t.notes["seals"] = memfd::seal_names(memfd::kMessageSeals);
  t.notes["window"] =
      "a sender has at most 32 MiB of memfds unacked (from 1 to 64 messages): descriptors in "
      "flight count against its RLIMIT_NOFILE";
  return t;
}

memfd_per_message_channel::memfd_per_message_channel(const channel_config& cfg)
    : sockets_(cfg.peers_are_threads), window_(window_for(cfg.message_size)) {}

std::uint64_t memfd_per_message_channel::window_for(std::size_t message_size) noexcept {
  constexpr std::size_t kInFlightBytes = std::size_t{32} << 20;
  return std::clamp<std::uint64_t>(kInFlightBytes / std::max<std::size_t>(message_size, 1), 1, 64);
}

void memfd_per_message_channel::opened() noexcept {
  sockets_.release();
}

memfd_message_endpoint memfd_per_message_channel::open(role r) {
  return memfd_message_endpoint(sockets_.take(r), window_);
}

}  // namespace ipcbench
