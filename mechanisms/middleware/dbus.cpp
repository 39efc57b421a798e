#include "mechanisms/middleware/dbus.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr const char* kPath = "/org/ipcbench/Channel";
constexpr const char* kInterface = "org.ipcbench.Channel";
constexpr const char* kMember = "Message";
constexpr const char* kProducerName = "org.ipcbench.Producer";
constexpr const char* kConsumerName = "org.ipcbench.Consumer";

// The D-Bus specification's limits (sd-bus enforces the same): a message of at most 128 MiB
// (2^27), an array of at most 64 MiB (2^26). The payload is one byte array.
constexpr std::size_t kMaxArray = std::size_t{1} << 26;
constexpr std::size_t kMaxMessage = std::size_t{1} << 27;
// The private daemon's limits: those of Debian's session.conf, so that neither queue limits
// a stream before the specification's message limit does.
constexpr long kDaemonQueueBytes = 1'000'000'000;

[[noreturn]] void throw_sd(int r, const std::string& what) {
  throw std::system_error(-r, std::system_category(), what);
}

int check_sd(int r, const std::string& what) {
  if (r < 0) throw_sd(r, what);
  return r;
}

bool connection_lost(int r) noexcept {
  return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE || r == -ESHUTDOWN;
}

struct message_ref {
  sd_bus_message* m = nullptr;
  message_ref() noexcept = default;
  explicit message_ref(sd_bus_message* adopt) noexcept : m(adopt) {}
  message_ref(message_ref&& o) noexcept : m(std::exchange(o.m, nullptr)) {}
  message_ref& operator=(message_ref&& o) noexcept {
    if (this != &o) {
      sd_bus_message_unref(m);
      m = std::exchange(o.m, nullptr);
    }
    return *this;
  }
  ~message_ref() { sd_bus_message_unref(m); }
};

}  // namespace

struct dbus_endpoint::state {
  sd_bus* bus = nullptr;
  sd_bus_slot* filter = nullptr;
  sd_bus_slot* watch = nullptr;
  role r = role::producer;
  bool through_daemon = false;
  bool expect_reply = true;  // ping-pong: the consumer answers every call
  bool partner_gone = false;
  std::deque<message_ref> inbox;
  message_ref last_call;  // the consumer's: what its next send() answers

  ~state() {
    sd_bus_slot_unref(watch);
    sd_bus_slot_unref(filter);
    // Writes what is still queued, then closes the connection (and the socket sd-bus owns).
    sd_bus_flush_close_unref(bus);
  }
};

namespace {

// Every incoming message passes here first: the calls and their returns are queued for
// receive(); the rest (the daemon's NameAcquired and the like) go on to sd-bus.
int on_message(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* s = static_cast<dbus_endpoint::state*>(userdata);
  uint8_t type = 0;
  if (sd_bus_message_get_type(m, &type) < 0) return 0;
  const bool ours =
      s->r == role::consumer
          ? sd_bus_message_is_method_call(m, kInterface, kMember) > 0
          : (type == SD_BUS_MESSAGE_METHOD_RETURN || type == SD_BUS_MESSAGE_METHOD_ERROR);
  if (!ours) return 0;
  s->inbox.emplace_back(sd_bus_message_ref(m));
  return 1;
}

// NameOwnerChanged(name, old, new) for the partner's name: an empty new owner means it left.
int on_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* s = static_cast<dbus_endpoint::state*>(userdata);
  const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && new_owner != nullptr &&
      *new_owner == '\0')
    s->partner_gone = true;
  return 0;
}

std::unique_ptr<dbus_endpoint::state> new_state(role r, pattern p) {
  auto s = std::make_unique<dbus_endpoint::state>();
  s->r = r;
  s->expect_reply = p == pattern::latency;
  check_sd(sd_bus_new(&s->bus), "sd_bus_new");
  return s;
}

void add_filter(dbus_endpoint::state& s) {
  check_sd(sd_bus_add_filter(s.bus, &s.filter, on_message, &s), "sd_bus_add_filter");
}

std::unique_ptr<dbus_endpoint::state> connect_bus(const std::string& address, role r, pattern p) {
  auto s = new_state(r, p);
  s->through_daemon = true;
  check_sd(sd_bus_set_address(s->bus, address.c_str()), "sd_bus_set_address(" + address + ")");
  check_sd(sd_bus_set_bus_client(s->bus, 1), "sd_bus_set_bus_client");
  check_sd(sd_bus_start(s->bus), "sd_bus_start(" + address + ")");
  add_filter(*s);
  const char* partner = r == role::producer ? kConsumerName : kProducerName;
  const std::string match =
      std::string(
          "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
          "member='NameOwnerChanged',arg0='") +
      partner + "'";
  check_sd(sd_bus_add_match(s->bus, &s->watch, match.c_str(), on_owner_changed, s.get()),
           "sd_bus_add_match(" + match + ")");
  // The name is ours before the harness's barrier, so the first call finds the consumer.
  const char* mine = r == role::producer ? kProducerName : kConsumerName;
  check_sd(sd_bus_request_name(s->bus, mine, 0), std::string("sd_bus_request_name(") + mine + ")");
  return s;
}

}  // namespace

dbus_endpoint::dbus_endpoint(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
dbus_endpoint::dbus_endpoint(dbus_endpoint&&) noexcept = default;
dbus_endpoint& dbus_endpoint::operator=(dbus_endpoint&&) noexcept = default;
dbus_endpoint::~dbus_endpoint() = default;

io_status dbus_endpoint::send(std::span<const std::byte> message) {
  state& s = *s_;
  sd_bus_message* raw = nullptr;
  if (s.r == role::producer) {
    check_sd(sd_bus_message_new_method_call(s.bus, &raw, s.through_daemon ? kConsumerName : nullptr,
                                            kPath, kInterface, kMember),
             "sd_bus_message_new_method_call");
  } else {
    if (s.last_call.m == nullptr) throw std::logic_error("dbus: a reply without a call");
    check_sd(sd_bus_message_new_method_return(s.last_call.m, &raw),
             "sd_bus_message_new_method_return");
  }
  message_ref m(raw);
  if (s.r == role::producer && !s.expect_reply)
    check_sd(sd_bus_message_set_expect_reply(m.m, 0), "sd_bus_message_set_expect_reply");
  check_sd(sd_bus_message_append_array(m.m, 'y', message.data(), message.size()),
           "sd_bus_message_append_array(ay)");
  // sd_bus_send(3) flags a call NO_REPLY_EXPECTED unless the caller takes its cookie.
  std::uint64_t cookie = 0;
  int r = sd_bus_send(s.bus, m.m, s.r == role::producer && s.expect_reply ? &cookie : nullptr);
  // sd_bus_send writes what the socket takes and queues the rest; flushing makes the send
  // blocking, as a write(2) to a stream socket is, so a stream cannot queue without bound.
  if (r >= 0) r = sd_bus_flush(s.bus);
  if (s.r == role::consumer) s.last_call = message_ref();
  if (r < 0 && connection_lost(r) && !s.through_daemon) return io_status::closed;
  check_sd(r, s.through_daemon ? "sd_bus_send (connection to dbus-daemon)" : "sd_bus_send");
  return io_status::ok;
}

std::ptrdiff_t dbus_endpoint::receive(std::span<std::byte> buffer) {
  state& s = *s_;
  while (s.inbox.empty()) {
    if (s.partner_gone) return kPeerGone;
    const int r = sd_bus_process(s.bus, nullptr);
    if (r < 0) {
      if (connection_lost(r) && !s.through_daemon) return kPeerGone;
      throw_sd(r,
               s.through_daemon ? "sd_bus_process (connection to dbus-daemon)" : "sd_bus_process");
    }
    if (r > 0) continue;
    const int w = sd_bus_wait(s.bus, UINT64_MAX);
    if (w < 0 && w != -EINTR) {
      if (connection_lost(w) && !s.through_daemon) return kPeerGone;
      throw_sd(w, "sd_bus_wait");
    }
  }
  message_ref m = std::move(s.inbox.front());
  s.inbox.pop_front();
  if (sd_bus_message_is_method_error(m.m, nullptr) > 0) {
    const sd_bus_error* e = sd_bus_message_get_error(m.m);
    const std::string name = e != nullptr && e->name != nullptr ? e->name : "?";
    // The consumer left between the call and its return.
    if (name == SD_BUS_ERROR_SERVICE_UNKNOWN || name == SD_BUS_ERROR_NAME_HAS_NO_OWNER ||
        name == SD_BUS_ERROR_NO_REPLY)
      return kPeerGone;
    throw std::runtime_error("dbus: error reply " + name + ": " +
                             (e != nullptr && e->message != nullptr ? e->message : ""));
  }
  const void* data = nullptr;
  std::size_t size = 0;
  check_sd(sd_bus_message_read_array(m.m, 'y', &data, &size), "sd_bus_message_read_array(ay)");
  if (size > buffer.size())
    throw std::runtime_error("dbus: a message of " + std::to_string(size) +
                             " bytes for a buffer of " + std::to_string(buffer.size()));
  if (size != 0) std::memcpy(buffer.data(), data, size);
  if (s.r == role::consumer && s.expect_reply) s.last_call = std::move(m);
  return static_cast<std::ptrdiff_t>(size);
}

void describe_dbus_limits(mechanism_traits& t) {
  t.family = "middleware";
  t.kind = channel_kind::message;
  t.max_message = kMaxArray;
  t.max_message_source =
      "D-Bus specification: an array at most 64 MiB (2^26 bytes), a message at most 128 MiB "
      "(2^27); the payload is one byte array";
  t.wait = "sd_bus_wait(3) (poll(2) on the connection)";
  t.notes["library"] = std::string("sd-bus (libsystemd ") + IPCBENCH_LIBSYSTEMD_VERSION + ")";
  t.notes["payload"] = "method call with one \"ay\" argument; the receiver copies the array out";
  t.notes["ping-pong"] = "method call answered by a method return carrying the reply";
  t.notes["stream"] = "method calls flagged NO_REPLY_EXPECTED, none answered";
  t.notes["max_array_bytes"] = std::to_string(kMaxArray);
  t.notes["max_message_bytes"] = std::to_string(kMaxMessage);
}

mechanism_traits dbus_bus_channel::describe() {
  mechanism_traits t;
  t.id = "dbus.bus";
  t.mechanism = "dbus";
  t.variant = "bus";
  describe_dbus_limits(t);
  const auto daemon = find_in_path("dbus-daemon");
  if (!daemon) throw std::runtime_error("dbus-daemon not found in PATH (Debian: dbus-daemon)");
  t.related_only = false;
  t.description =
      "D-Bus method calls through a private dbus-daemon started for each repetition (two socket "
      "hops and the daemon's routing per message), sd-bus on both ends";
  t.notes["daemon"] = *daemon +
                      " --nofork, generated config: unix socket in the private "
                      "directory, EXTERNAL auth, allow-all policy";
  t.notes["daemon_limits"] = "max_message_size " + std::to_string(kMaxMessage) +
                             ", max_incoming_bytes and max_outgoing_bytes " +
                             std::to_string(kDaemonQueueBytes);
  t.notes["daemon_cpu"] =
      "dbus-daemon's utime+stime over the timed batch (/proc/<pid>/stat, clock ticks) is in "
      "helper_cpu_ns_per_message and in cpu_ns_per_message";
  t.notes["names"] = std::string("producer owns ") + kProducerName + ", consumer " + kConsumerName +
                     "; each watches the other's NameOwnerChanged";
  return t;
}

dbus_bus_channel::dbus_bus_channel(const channel_config& cfg) : pat_(cfg.pat) {
  if (cfg.dir == nullptr) throw std::invalid_argument("dbus.bus needs a private directory");
  const auto daemon = find_in_path("dbus-daemon");
  if (!daemon) throw std::runtime_error("dbus-daemon not found in PATH");
  const auto socket = cfg.dir->path() / "bus.sock";
  const auto config = cfg.dir->path() / "bus.conf";
  const auto log = cfg.dir->path() / "dbus-daemon.log";
  config_ = named_object(named_object::kind::path, config.string());
  socket_ = named_object(named_object::kind::path, socket.string());
  log_ = named_object(named_object::kind::path, log.string());
  config_.created();
  log_.created();
  socket_.created();  // the daemon binds it; it is the coordinator's to unlink
  {
    std::ofstream out(config);
    out << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig>\n"
           "  <type>session</type>\n"
        << "  <listen>unix:path=" << socket.string() << "</listen>\n"
        << "  <auth>EXTERNAL</auth>\n"
           "  <policy context=\"default\">\n"
           "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
           "    <allow eavesdrop=\"true\"/>\n"
           "    <allow own=\"*\"/>\n"
           "  </policy>\n"
        << "  <limit name=\"max_incoming_bytes\">" << kDaemonQueueBytes << "</limit>\n"
        << "  <limit name=\"max_outgoing_bytes\">" << kDaemonQueueBytes << "</limit>\n"
        << "  <limit name=\"max_message_size\">" << kMaxMessage << "</limit>\n"
        << "</busconfig>\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + config.string());
  }
  daemon_ =
      helper_daemon("dbus-daemon", *daemon,
                    {"--config-file=" + config.string(), "--nofork", "--nopidfile", "--nosyslog"},
                    std::string("--print-address="), std::chrono::milliseconds(10'000),
                    // Its own chatter (as root: "Failed to set fd limit to 65536") stays in
                    // its log, quoted only when it fails.
                    log.string());
  // The address it printed carries a guid; the socket path is what peers need.
  address_ = "unix:path=" + socket.string();
}

dbus_endpoint dbus_bus_channel::open(role r) {
  return attach(rendezvous(), r);
}

nlohmann::json dbus_bus_channel::rendezvous() const {
  return {{"address", address_}, {"pattern", to_string(pat_)}};
}

dbus_endpoint dbus_bus_channel::attach(const nlohmann::json& where, role r) {
  const pattern p = where.at("pattern").get<std::string>() == to_string(pattern::throughput)
                        ? pattern::throughput
                        : pattern::latency;
  return dbus_endpoint(connect_bus(where.at("address").get<std::string>(), r, p));
}

mechanism_traits dbus_p2p_channel::describe() {
  mechanism_traits t;
  t.id = "dbus.p2p";
  t.mechanism = "dbus";
  t.variant = "p2p";
  describe_dbus_limits(t);
  t.related_only = true;
  t.description =
      "The same sd-bus method calls over a Unix socketpair without a daemon (peer-to-peer, "
      "anonymous authentication): D-Bus marshalling without the broker hop";
  return t;
}

dbus_p2p_channel::dbus_p2p_channel(const channel_config& cfg)
    : pat_(cfg.pat), threads_(cfg.peers_are_threads) {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  producer_end_ = std::move(a);
  consumer_end_ = std::move(b);
}

void dbus_p2p_channel::opened() noexcept {
  producer_end_.reset();
  consumer_end_.reset();
}

dbus_endpoint dbus_p2p_channel::open(role r) {
  unique_fd mine = std::move(r == role::producer ? producer_end_ : consumer_end_);
  if (!threads_) {  // this peer's inherited copy of the partner's end
    producer_end_.reset();
    consumer_end_.reset();
  }
  auto s = new_state(r, pat_);
  const int fd = mine.get();
  check_sd(sd_bus_set_fd(s->bus, fd, fd), "sd_bus_set_fd");
  (void)mine.release();  // sd-bus owns it now and closes it with the connection
  if (r == role::consumer) {
    sd_id128_t id;
    check_sd(sd_id128_randomize(&id), "sd_id128_randomize");
    check_sd(sd_bus_set_server(s->bus, 1, id), "sd_bus_set_server");
  }
  check_sd(sd_bus_set_anonymous(s->bus, 1), "sd_bus_set_anonymous");
  check_sd(sd_bus_start(s->bus), "sd_bus_start");
  add_filter(*s);
  return dbus_endpoint(std::move(s));
}

}  // namespace ipcbench
