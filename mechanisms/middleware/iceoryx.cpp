#include "mechanisms/middleware/iceoryx.hpp"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "iceoryx_hoofs/cxx/string.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/iceoryx_posh_types.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/mepoo/chunk_settings.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "iceoryx_versions.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/names.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

constexpr const char* kService = "ipcbench";
constexpr const char* kRequest = "request";
constexpr const char* kReply = "reply";
// The payload alignment a user's loan() gets by default.
constexpr std::uint32_t kAlignment = iox::CHUNK_DEFAULT_USER_PAYLOAD_ALIGNMENT;
// The names RouDi creates, fixed by iceoryx 2.0's platform settings (IOX_UDS_SOCKET_PATH_PREFIX
// and IOX_LOCK_FILE_PATH_PREFIX are "/tmp/"), and the payload segment's, named after the user.
constexpr const char* kRoudiPaths[] = {"/tmp/roudi", "/tmp/roudi.lock",
                                       "/tmp/iox-unique-roudi.lock"};
constexpr const char* kManagementShm = "/iceoryx_mgmt";
// RouDi holds a flock on this file while it runs.
constexpr char kRoudiLockFile[] = "/tmp/iox-unique-roudi.lock";

// The machine-wide lock: an abstract socket name (Linux), gone with the process that bound it.
constexpr char kLockName[] = "ipcbench-iceoryx-roudi";
// How long a peer waits for RouDi to connect its publisher and subscriber.
constexpr std::chrono::seconds kConnectPatience{20};

template <std::uint64_t N>
iox::cxx::string<N> iox_string(const std::string& s) {
  if (s.size() > N)
    throw std::length_error("iceoryx: name longer than " + std::to_string(N) + ": " + s);
  return iox::cxx::string<N>(iox::cxx::TruncateToCapacity, s.c_str(), s.size());
}

iox::capro::ServiceDescription service(const std::string& instance, const char* event) {
  return {iox_string<100>(kService), iox_string<100>(instance), iox_string<100>(event)};
}

std::string user_name() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  throw std::runtime_error("iceoryx: the name of user " + std::to_string(::geteuid()) +
                           " is unknown (RouDi names its payload segment after it)");
}

// Binds the abstract socket kLockName, retrying every 10 ms for up to `patience`.
unique_fd take_machine_lock(std::chrono::seconds patience) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, kLockName, sizeof kLockName - 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kLockName);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw_errno("socket(AF_UNIX)");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) return fd;
    if (errno != EADDRINUSE) throw_errno("bind(@" + std::string(kLockName) + ")");
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(
          "another ipcbench process kept the iceoryx lock (@" + std::string(kLockName) + ") for " +
          std::to_string(patience.count()) + " s: iceoryx allows one RouDi per machine");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::size_t chunk_size_for(std::size_t size) {
  auto settings = iox::mepoo::ChunkSettings::create(static_cast<std::uint32_t>(size), kAlignment);
  if (settings.has_error())
    throw std::runtime_error("iceoryx: no chunk settings for a " + std::to_string(size) +
                             "-byte payload");
  const std::size_t chunk = settings.value().requiredChunkSize();
  return (chunk + 7) / 8 * 8;  // a mempool's chunk size is a multiple of 8
}

}  // namespace

// ---- the peer side ----

struct iceoryx_endpoint::state {
  std::optional<iox::popo::UntypedPublisher> pub;
  std::optional<iox::popo::UntypedSubscriber> sub;
  std::optional<iox::popo::WaitSet<1>> waitset;  // none when busy-polling
  bool yield = false;                            // busy-polling peers that share a CPU
};

iceoryx_endpoint::iceoryx_endpoint(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
iceoryx_endpoint::iceoryx_endpoint(iceoryx_endpoint&&) noexcept = default;
iceoryx_endpoint& iceoryx_endpoint::operator=(iceoryx_endpoint&&) noexcept = default;
iceoryx_endpoint::~iceoryx_endpoint() {
  if (s_ && s_->waitset && s_->sub)
    s_->waitset->detachState(*s_->sub, iox::popo::SubscriberState::HAS_DATA);
}

std::byte* iceoryx_endpoint::loan(std::size_t n) {
  auto r = s_->pub->loan(static_cast<std::uint32_t>(n), kAlignment);
  if (r.has_error())
    throw std::runtime_error(std::string("iceoryx loan(") + std::to_string(n) +
                             "): " + iox::popo::asStringLiteral(r.get_error()));
  return static_cast<std::byte*>(r.value());
}

void iceoryx_endpoint::publish(std::byte* chunk) noexcept {
  s_->pub->publish(chunk);
}

const std::byte* iceoryx_endpoint::take(std::size_t& n) {
  state& s = *s_;
  for (;;) {
    auto r = s.sub->take();
    if (!r.has_error()) {
      const void* p = r.value();
      n = iox::mepoo::ChunkHeader::fromUserPayload(p)->userPayloadSize();
      return static_cast<const std::byte*>(p);
    }
    if (r.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE)
      throw std::runtime_error(std::string("iceoryx take(): ") +
                               iox::popo::asStringLiteral(r.get_error()));
    if (s.waitset)
      s.waitset->wait();  // returns at once while the subscriber has data (a state, not an event)
    else if (s.yield)
      std::this_thread::yield();  // busy-polling: let the partner on this CPU run
  }
}

void iceoryx_endpoint::release(const std::byte* chunk) noexcept {
  s_->sub->release(chunk);
}

void iceoryx_copy_endpoint::throw_too_large(std::size_t n, std::size_t room) {
  throw std::runtime_error("iceoryx: a " + std::to_string(n) + "-byte chunk for a " +
                           std::to_string(room) + "-byte buffer");
}

namespace {

std::unique_ptr<iceoryx_endpoint::state> attach_ports(const nlohmann::json& where, role r) {
  const std::string instance = where.at("instance").get<std::string>();
  const auto queue = where.at("queue").get<std::uint64_t>();
  const bool ping_pong = where.at("latency").get<bool>();
  const bool busy_poll = where.at("busy_poll").get<bool>();
  const std::string name =
      where.at("runtime").at(r == role::producer ? "producer" : "consumer").get<std::string>();
  // This build's runtime logs at debug level: warnings and errors only, on the peer's stderr.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  iox::runtime::PoshRuntime::initRuntime(iox_string<iox::MAX_RUNTIME_NAME_LENGTH>(name));

  auto s = std::make_unique<iceoryx_endpoint::state>();
  iox::popo::PublisherOptions po;
  po.historyCapacity = 0;
  po.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  iox::popo::SubscriberOptions so;
  so.queueCapacity = queue;
  so.historyRequest = 0;
  so.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  const bool producer = r == role::producer;
  if (producer || ping_pong) s->pub.emplace(service(instance, producer ? kRequest : kReply), po);
  if (!producer || ping_pong) {
    s->sub.emplace(service(instance, producer ? kReply : kRequest), so);
    if (busy_poll) {
      s->yield = where.at("yield").get<bool>();
    } else {
      s->waitset.emplace();
      if (s->waitset->attachState(*s->sub, iox::popo::SubscriberState::HAS_DATA).has_error())
        throw std::runtime_error("iceoryx: WaitSet::attachState(HAS_DATA) failed");
    }
  }
  // RouDi connects the ports in its discovery loop: a message published before the partner's
  // queue is attached would be lost (no history), so each side waits until its ports are.
  const auto deadline = std::chrono::steady_clock::now() + kConnectPatience;
  auto connected = [&] {
    if (s->pub && !s->pub->hasSubscribers()) return false;
    if (s->sub && s->sub->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) return false;
    return true;
  };
  while (!connected()) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(
          "iceoryx: RouDi did not connect the " + std::string(producer ? "producer" : "consumer") +
          "'s ports within " + std::to_string(kConnectPatience.count()) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

}  // namespace

iceoryx_copy_endpoint iceoryx_attach_copy(const nlohmann::json& where, role r) {
  return iceoryx_copy_endpoint(attach_ports(where, r));
}

iceoryx_zerocopy_endpoint iceoryx_attach_zerocopy(const nlohmann::json& where, role r) {
  return iceoryx_zerocopy_endpoint(attach_ports(where, r));
}

iceoryx_header_endpoint iceoryx_attach_header_only(const nlohmann::json& where, role r) {
  return iceoryx_header_endpoint(attach_ports(where, r));
}

// ---- the coordinator side ----

std::size_t iceoryx_broker::queue_for(std::size_t size) noexcept {
  return std::clamp<std::size_t>(kQueueBytes / std::max<std::size_t>(size, 1), kMinQueue,
                                 kMaxQueue);
}

mechanism_traits iceoryx_describe(bool zero_copy, iceoryx_wait wait, bool header_only) {
  const bool busy = wait == iceoryx_wait::busy_poll;
  mechanism_traits t;
  t.mechanism = "iceoryx";
  t.variant = zero_copy ? "zerocopy" : "copy";
  if (busy) t.variant += ".busy";
  if (header_only) t.variant += ".header_only";
  t.id = t.mechanism + "." + t.variant;
  t.family = "middleware";
  t.kind = channel_kind::shared_memory;
  t.related_only = false;
  const auto roudi = find_in_path("iox-roudi");
  if (!roudi) throw std::runtime_error("iox-roudi not found in PATH (Debian: iceoryx)");
  // A chunk's size is a uint32_t, header included.
  t.max_message = std::size_t{1} << 31;
  t.max_message_source = "iceoryx 2.0: a chunk's size is 32 bits";
  t.spins = busy;
  t.wait = busy ? "busy-polling iox::popo::Subscriber::take() (no WaitSet), as iceperf does; "
                  "sched_yield between polls when the peers share a CPU"
                : "iox::popo::WaitSet::wait (a semaphore in the shared memory), state HAS_DATA";
  t.description =
      zero_copy
          ? "iceoryx publish/subscribe through RouDi's shared memory, zero-copy: the producer "
            "writes the message into a loaned chunk, the consumer checks it in place"
          : "iceoryx publish/subscribe through RouDi's shared memory, the message copied into a "
            "loaned chunk and out of the taken one";
  t.notes["iceoryx_version"] = ICEORYX_LATEST_RELEASE_VERSION;
  t.notes["daemon"] =
      *roudi +
      " -c <generated config> -l warning -k 1, started for each repetition (one RouDi "
      "per machine: a machine-wide lock serialises ipcbench's)";
  t.notes["mempool"] =
      "one mempool: chunks of the message's required chunk size (header included), count "
      "queue + 4 (stream) or 8 (ping-pong)";
  t.notes["queue"] = "subscriber queueCapacity " + std::to_string(iceoryx_broker::kQueueBytes) +
                     " / message size, from " + std::to_string(iceoryx_broker::kMinQueue) + " to " +
                     std::to_string(iceoryx_broker::kMaxQueue) +
                     "; BLOCK_PRODUCER with WAIT_FOR_CONSUMER (a full queue: the publisher "
                     "busy-waits with sched_yield); no history";
  t.notes["daemon_cpu"] =
      "iox-roudi's utime+stime over the timed batch (/proc/<pid>/stat, clock ticks) is in "
      "helper_cpu_ns_per_message and in cpu_ns_per_message";
  if (busy)
    t.notes["busy_poll"] =
        "each waiting peer spins on take(): it never sleeps, so no wake-up is measured, and it "
        "holds its CPU for the whole wait (iceperf's way; the WaitSet is how applications wait)";
  t.notes["payload"] = zero_copy ? "written into the loaned chunk; checked in place, every byte"
                                 : "memcpy into the loaned chunk; copied out and checked in one "
                                   "pass";
  if (header_only) {
    // A round trip of a chunk's pointer: a throughput in bytes per second would count bytes
    // nobody wrote or read.
    t.supports_throughput = false;
    t.header_only = true;
    t.description =
        "HEADER ONLY, not a measure of moving data: iceoryx as its own benchmark (iceperf) "
        "measures it, busy-polling take() and writing and checking only the message's 24-byte "
        "header in the loaned chunk; the payload is never touched";
    t.notes["payload"] =
        "header only: sequence number and length (and the sequence again at the end) written "
        "into the loaned chunk and checked; the rest of the chunk never written nor read";
    t.notes["opt_in"] = "left out of a run unless asked for with --header-only";
  }
  return t;
}

iceoryx_broker::iceoryx_broker(const channel_config& cfg, bool busy_poll)
    : pat_(cfg.pat),
      busy_poll_(busy_poll),
      yield_(cfg.peers_share_cpu),
      queue_(queue_for(cfg.message_size)) {
  if (cfg.dir == nullptr) throw std::invalid_argument("iceoryx needs a private directory");
  const auto roudi = find_in_path("iox-roudi");
  if (!roudi) throw std::runtime_error("iox-roudi not found in PATH");
  const std::string unique = names::unique_posix_name("iox");  // "/ipcbench-<scope>-...-iox"
  instance_ = unique.substr(1);
  runtime_[0] = instance_ + "-p";
  runtime_[1] = instance_ + "-c";
  const std::size_t chunk = chunk_size_for(std::max<std::size_t>(cfg.message_size, 1));
  const std::size_t count = cfg.pat == pattern::throughput ? queue_ + 4 : 8;

  lock_ = take_machine_lock(kLockPatience);
  // Ours are serialised by the lock, so a RouDi that holds its own lock now is someone else's:
  // iceoryx allows one per machine, and ours would abort at its start.
  if (const auto holder = flock_holder(kRoudiLockFile))
    throw std::runtime_error("another iox-roudi (pid " + std::to_string(*holder) +
                             ") already runs on this machine (it holds " + kRoudiLockFile +
                             "); iceoryx allows one RouDi per machine: stop it to run the "
                             "iceoryx benchmarks");

  const auto config = cfg.dir->path() / "roudi.toml";
  const auto log = cfg.dir->path() / "roudi.log";
  config_ = named_object(named_object::kind::path, config.string());
  log_ = named_object(named_object::kind::path, log.string());
  config_.created();
  log_.created();
  {
    std::ofstream out(config);
    out << "[general]\nversion = 1\n\n[[segment]]\n\n[[segment.mempool]]\nsize = " << chunk
        << "\ncount = " << count << "\n";
    if (!out) throw std::runtime_error("cannot write " + config.string());
  }
  const std::string user = user_name();
  roudi_ = helper_daemon::launch_logged(
      "iox-roudi", *roudi, {"-c", config.string(), "-l", "warning", "-k", "1"}, log.string(),
      "RouDi is ready for clients", std::chrono::seconds(20));
  // RouDi's names are ours once it is ready (it refuses to start beside another RouDi, whose
  // names are then left alone): registered now, so a signal or the next run's sweep removes
  // them; a signal before this point kills RouDi, and the next RouDi removes what it left.
  const cleanup::deferred_signals hold;
  auto ours = [](named_object::kind k, std::string name) {
    named_object n(k, std::move(name));
    n.created();
    return n;
  };
  for (const char* p : kRoudiPaths) roudi_names_.push_back(ours(named_object::kind::path, p));
  roudi_names_.push_back(ours(named_object::kind::posix_shm, kManagementShm));
  roudi_names_.push_back(ours(named_object::kind::posix_shm, "/" + user));
  // The same names as one entry the next run's sweep can act on: they are outside our scope,
  // so it removes them only when no RouDi is running, none holding the flock of its lock file
  // (sys/cleanup.hpp kind::fixed_names).
  roudi_journal_ =
      cleanup::guard(cleanup::fixed_names{kRoudiLockFile,
                                          {std::begin(kRoudiPaths), std::end(kRoudiPaths)},
                                          {kManagementShm, "/" + user}});
  // The peers' runtimes will create a socket and a lock file each, and _exit() without removing
  // them.
  for (const auto& rt : runtime_) {
    runtime_files_.push_back(ours(named_object::kind::path, "/tmp/" + rt));
    runtime_files_.push_back(ours(named_object::kind::path, "/tmp/" + rt + ".lock"));
  }
}

iceoryx_broker::~iceoryx_broker() {
  // SIGKILL, not SIGTERM: the peers are gone by now, and on SIGTERM RouDi 2.0 waits for its
  // discovery loop's next turn (up to 100 ms), signals the runtimes it still has registered (dead
  // peers, whose pids could be someone else's by then) and aborts. Its shared memory, socket and
  // lock files are ours (registered once it was ready): the members unlink them, the lock last.
  roudi_.kill();
}

nlohmann::json iceoryx_broker::rendezvous() const {
  return {{"instance", instance_},
          {"queue", queue_},
          {"latency", pat_ == pattern::latency},
          {"busy_poll", busy_poll_},
          {"yield", yield_},
          {"runtime", {{"producer", runtime_[0]}, {"consumer", runtime_[1]}}}};
}

}  // namespace ipcbench
