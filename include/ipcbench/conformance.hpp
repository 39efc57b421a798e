// The conformance suite of an out-of-tree adapter: the contract every built-in mechanism passes,
// run against yours before any of its numbers is believed.
//
//   int main(int argc, char** argv) { return ipcbench::conformance::main<my_channel>(argc, argv); }
//
// (link ipcbench::conformance). It checks, printing one line each and, for a failure, what the
// adapter did wrong:
//   - every byte arrives, in order, once, at sizes across PIPE_BUF (4095, 4096, 4097), the 64 KiB
//     pipe capacity (65535, 65536, 65537) and 1 MiB to 4 MiB, in both patterns (ping-pong latency
//     and streaming throughput); a size above traits.max_message is skipped with the limit;
//   - the suite can see damage through the adapter: a message corrupted, dropped, duplicated or
//     swapped with the next on the producer's side fails the run (a receive() that does not
//     deliver what was sent would let it pass);
//   - a peer killed with SIGKILL is reported as such within the deadline, not waited on forever;
//   - nothing is left behind after each run: no file in /dev/shm, /dev/mqueue or TMPDIR, no
//     System V object, no descriptor of this process, no child process;
//   - thread peers (when the adapter declares kThreadPeers) and separately launched peers (a
//     named_channel) keep the same contract.
// Exit status: 0 when every check passed, 1 when one failed, 2 for bad arguments. It leaves
// objects that other programs create or remove meanwhile out of its count only if they are
// gone when it looks: run it on a quiet machine.
#pragma once

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/placement.hpp"
#include "harness/runner.hpp"
#include "harness/spawn.hpp"
#include "ipcbench/ipcbench.hpp"

namespace ipcbench::conformance {

struct options {
  std::vector<std::size_t> sizes{1, 64, 4095, 4096, 4097, 65535, 65536, 65537, 1u << 20, 4u << 20};
  std::chrono::seconds timeout{20};  // deadline of every wait on a peer
  bool spawned_peers = true;         // a named_channel's launched peers (this program, re-run)
};

// What a run could leave outside this program, and this program's descriptors.
struct snapshot {
  std::set<std::string> objects;
  std::size_t fds = 0;
};

inline void add_entries(std::set<std::string>& into, const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      into.insert(dir + "/" + e->d_name);
  ::closedir(d);
}

inline snapshot take_snapshot() {
  snapshot s;
  const char* tmp = std::getenv("TMPDIR");
  for (const std::string& dir : {std::string("/dev/shm"), std::string("/dev/mqueue"),
                                 std::string(tmp != nullptr && *tmp != 0 ? tmp : "/tmp")})
    add_entries(s.objects, dir);
  for (const char* kind : {"shm", "msg", "sem"}) {
    std::ifstream in(std::string("/proc/sysvipc/") + kind);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string key, id;
      fields >> key >> id;
      s.objects.insert(std::string("System V ") + kind + " key " + key + " id " + id);
    }
  }
  std::set<std::string> fds;
  add_entries(fds, "/proc/self/fd");
  s.fds = fds.size();
  return s;
}

// What is left of a run, compared with `before`, after waiting up to `patience` for it to go.
inline std::vector<std::string> left_behind(const snapshot& before,
                                            std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    std::vector<std::string> left;
    const snapshot now = take_snapshot();
    std::set_difference(now.objects.begin(), now.objects.end(), before.objects.begin(),
                        before.objects.end(), std::back_inserter(left));
    if (now.fds > before.fds)
      left.push_back(std::to_string(now.fds - before.fds) + " descriptor(s) of this process");
    int status = 0;
    const pid_t child = ::waitpid(-1, &status, WNOHANG);
    if (child > 0) left.push_back("child process " + std::to_string(child) + ", not reaped");
    if (child == 0) left.push_back("a child process still running");
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The harness's reason for a failed run, led by what the adapter did wrong.
inline std::string diagnosis(const std::string& reason) {
  const auto has = [&](const char* s) { return reason.find(s) != std::string::npos; };
  if (has("corrupted") || has("data check"))
    return "the bytes received are not the bytes sent: " + reason;
  if (has("lost/duplicated/reordered"))
    return "messages were lost, delivered twice or out of order: " + reason;
  if (has("watchdog") || has("timed out"))
    return "a peer waited past the deadline (a message or a wake-up never arrived): " + reason;
  if (has("channel closed by the other peer"))
    return "receive() reported the other peer gone while it was not: " + reason;
  if (has("killed by")) return "a peer died: " + reason;
  return reason;
}

// Damage the producer does to its 10th message, for the detection checks.
enum class damage { corrupt, drop, duplicate, reorder };

inline const char* to_string(damage d) noexcept {
  switch (d) {
    case damage::corrupt:
      return "corrupted";
    case damage::drop:
      return "dropped";
    case damage::duplicate:
      return "duplicated";
    case damage::reorder:
      return "reordered";
  }
  return "?";
}

// The adapter's endpoint with the damage done on the producer's side.
template <class E, damage D>
class damaging_endpoint {
 public:
  static constexpr std::size_t kHeadroom = endpoint_headroom<E>;
  damaging_endpoint(E inner, bool producer) : inner_(std::move(inner)), producer_(producer) {}

  io_status send(std::span<const std::byte> msg) {
    if (!producer_) return inner_.send(msg);
    const std::uint64_t n = sent_++;
    if (n == kAt) {
      switch (D) {
        case damage::corrupt: {
          auto bad = copy(msg);
          if (!bad.empty()) bad[bad.size() / 2] ^= std::byte{1};
          return inner_.send(bad);
        }
        case damage::drop:
          return io_status::ok;
        case damage::duplicate:
          return inner_.send(copy(previous_));
        case damage::reorder:
          held_.assign(msg.begin(), msg.end());
          return io_status::ok;
      }
    }
    if (D == damage::reorder && n == kAt + 1) {
      if (const io_status s = inner_.send(msg); s != io_status::ok) return s;
      return inner_.send(copy(held_));
    }
    if (D == damage::duplicate) previous_.assign(msg.begin(), msg.end());
    return inner_.send(msg);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) { return inner_.receive(buf); }

 private:
  static constexpr std::uint64_t kAt = 10;
  // A copy with the headroom the endpoint may write in front of it.
  std::span<std::byte> copy(std::span<const std::byte> msg) {
    staging_.assign(kHeadroom + msg.size(), std::byte{0});
    std::copy(msg.begin(), msg.end(), staging_.begin() + kHeadroom);
    return std::span<std::byte>(staging_).subspan(kHeadroom);
  }
  E inner_;
  bool producer_;
  std::uint64_t sent_ = 0;
  std::vector<std::byte> previous_, held_, staging_;
};

// The adapter's channel with damaging endpoints.
template <channel C, damage D>
class damaging_channel {
 public:
  using inner_endpoint = decltype(std::declval<C&>().open(role::producer));
  static mechanism_traits describe() { return C::describe(); }
  explicit damaging_channel(const channel_config& cfg) : inner_(cfg) {}
  void opened() { inner_.opened(); }
  damaging_endpoint<inner_endpoint, D> open(role r) {
    return {inner_.open(r), r == role::producer};
  }
  std::vector<pid_t> helper_pids() const requires requires(const C& c) { c.helper_pids(); }
  { return inner_.helper_pids(); }
  std::string helper_failure(std::chrono::milliseconds patience) requires requires(C& c) {
    c.helper_failure(patience);
  }
  { return inner_.helper_failure(patience); }

 private:
  C inner_;
};

// Counts and prints the checks.
class report {
 public:
  explicit report(std::ostream& out) : out_(out) {}
  void pass(const std::string& what, const std::string& detail) {
    ++passed_;
    out_ << "ok    " << what << ": " << detail << "\n";
  }
  void fail(const std::string& what, const std::string& why) {
    ++failed_;
    out_ << "FAIL  " << what << ": " << why << "\n";
  }
  void skip(const std::string& what, const std::string& why) {
    ++skipped_;
    out_ << "skip  " << what << ": " << why << "\n";
  }
  int failed() const noexcept { return failed_; }
  void summary(const std::string& id) {
    out_ << "ipcbench conformance: " << id << ": " << passed_ << " passed, " << failed_
         << " failed, " << skipped_ << " skipped\n";
  }

 private:
  std::ostream& out_;
  int passed_ = 0, failed_ = 0, skipped_ = 0;
};

inline run_request request(pattern p, std::size_t size, const options& o) {
  run_request req;
  req.pat = p;
  req.message_size = size;
  req.place = choose_cpus(placement::cross).impossible.empty() ? placement::cross : placement::none;
  req.fixed_messages = size >= (1u << 20) ? 8 : 40;
  req.warmup_messages = 3;
  req.timeout = o.timeout;
  req.peer_program = "/proc/self/exe";
  return req;
}

inline std::string size_text(std::size_t n) {
  return std::to_string(n) + " B";
}

// One run that must deliver every message intact, then leave nothing behind.
inline void expect_intact(const mechanism_entry& e, const std::string& what, const run_request& req,
                          report& rep) {
  const snapshot before = take_snapshot();
  const run_result r = e.run(req);
  if (r.status == run_status::skipped) {
    rep.skip(what, r.reason);
  } else if (r.status == run_status::ok && r.messages == req.fixed_messages &&
             r.integrity_errors == 0 &&
             (req.pat != pattern::latency || r.rtt.count() == req.fixed_messages)) {
    rep.pass(what, std::to_string(r.messages) + " messages intact");
  } else if (r.status == run_status::ok) {
    rep.fail(what, "the run ended with " + std::to_string(r.messages) + " of " +
                       std::to_string(req.fixed_messages) + " messages");
  } else if (e.traits.lossy && r.integrity_errors == r.lost + r.duplicated + r.reordered &&
             r.integrity_errors != 0) {
    rep.pass(what, "loss counted, nothing else wrong (" + r.reason + ")");
  } else {
    rep.fail(what, diagnosis(r.reason));
  }
  if (const auto left = left_behind(before, std::chrono::seconds(3)); !left.empty())
    rep.fail(what + ", afterwards",
             "left behind: " + left.front() +
                 (left.size() > 1 ? " and " + std::to_string(left.size() - 1) + " more"
                                  : std::string()));
}

// One run with the producer damaging a message: the run must fail.
template <channel C, damage D>
void expect_detected(const mechanism_entry& e, pattern p, std::size_t size, const options& o,
                     report& rep) {
  const std::string what =
      std::string("a ") + to_string(D) + " message (" + to_string(p) + " " + size_text(size) + ")";
  run_request req = request(p, size, o);
  req.fixed_messages = 50;
  req.warmup_messages = 1;
  req.timeout = std::min<std::chrono::seconds>(o.timeout, std::chrono::seconds(3));
  const snapshot before = take_snapshot();
  const run_result r = run_channel<damaging_channel<C, D>>(e.traits, req);
  if (r.status == run_status::failed)
    rep.pass(what, "detected (" + r.reason.substr(0, 120) + ")");
  else if (r.status == run_status::skipped)
    rep.skip(what, r.reason);
  else
    rep.fail(what, std::string("went unnoticed: the run passed although the producer sent a ") +
                       to_string(D) +
                       " message, so receive() does not hand over what the channel carried "
                       "(does it fill the caller's buffer and return the received length?)");
  if (const auto left = left_behind(before, std::chrono::seconds(3)); !left.empty())
    rep.fail(what + ", afterwards", "left behind: " + left.front());
}

// A peer killed with SIGKILL once the timed batch runs: the run must fail, naming it, in time.
inline void expect_killed_peer_reported(const mechanism_entry& e, role victim_role,
                                        std::size_t size, const options& o, report& rep) {
  const std::string what = std::string("a killed ") + ipcbench::to_string(victim_role);
  run_request req = request(pattern::latency, size, o);
  req.fixed_messages = 100'000'000;  // far longer than the check waits
  req.warmup_messages = 10;
  std::thread killer;
  req.on_go = [&](pid_t producer, pid_t consumer) {
    const pid_t victim = victim_role == role::consumer ? consumer : producer;
    killer = std::thread([victim] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(victim, SIGKILL);
    });
  };
  const snapshot before = take_snapshot();
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = e.run(req);
  if (killer.joinable()) killer.join();
  const auto took = std::chrono::steady_clock::now() - t0;
  if (r.status == run_status::skipped)
    rep.skip(what, r.reason);
  else if (r.status != run_status::failed)
    rep.fail(what, "the run did not fail");
  else if (r.reason.find("killed by SIGKILL") == std::string::npos)
    rep.fail(what, "the run failed without naming the killed peer: " + r.reason);
  else if (took > o.timeout + std::chrono::seconds(5))
    rep.fail(what,
             "reported only after " +
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(took).count()) +
                 " s: the other peer hung in send() or receive()");
  else
    rep.pass(what, "reported (" + r.reason.substr(0, 120) + ")");
  if (const auto left = left_behind(before, std::chrono::seconds(3)); !left.empty())
    rep.fail(what + ", afterwards", "left behind: " + left.front());
}

// Every check of channel type C, whose registry entry is `e`; returns the number that failed.
template <channel C>
int check(const mechanism_entry& e, const options& o, std::ostream& out) {
  report rep(out);
  const mechanism_traits& t = e.traits;
  out << "ipcbench conformance: " << t.id << " (ipcbench " << IPCBENCH_VERSION_STRING
      << ", adapter API " << IPCBENCH_ADAPTER_API << ")\n";
  if (!e.unavailable.empty()) {
    rep.fail("describe()", e.unavailable);
    rep.summary(t.id);
    return rep.failed();
  }
  const bool notification = t.kind == channel_kind::notification;
  const std::vector<std::size_t> sizes = t.sizes.empty() ? o.sizes : t.sizes;
  std::vector<pattern> patterns{pattern::latency};
  if (t.supports_throughput && !notification) patterns.push_back(pattern::throughput);

  for (pattern p : patterns)
    for (std::size_t size : sizes) {
      const std::string what = std::string(to_string(p)) + " " + size_text(size);
      if (t.max_message && size > *t.max_message) {
        rep.skip(what, "larger than the adapter's max_message " + std::to_string(*t.max_message) +
                           (t.max_message_source.empty() ? "" : " (" + t.max_message_source + ")"));
        continue;
      }
      expect_intact(e, what, request(p, size, o), rep);
    }

  // Detection: the damage must fail the run.
  const std::size_t small = std::min<std::size_t>(64, t.max_message.value_or(64));
  const std::size_t page = std::min<std::size_t>(4096, t.max_message.value_or(4096));
  const pattern stream = t.supports_throughput ? pattern::throughput : pattern::latency;
  if (notification) {
    rep.skip("a corrupted, duplicated or reordered message",
             "a notification carries no payload and one wake-up is like another");
    expect_detected<C, damage::drop>(e, pattern::latency, sizes.front(), o, rep);
  } else {
    expect_detected<C, damage::corrupt>(e, pattern::latency, page, o, rep);
    if (t.supports_throughput) expect_detected<C, damage::corrupt>(e, stream, page, o, rep);
    if (t.lossy) {
      rep.skip("a dropped, duplicated or reordered message",
               "the adapter declares itself lossy: loss is counted, not a failure");
    } else {
      expect_detected<C, damage::drop>(e, stream, small, o, rep);
      expect_detected<C, damage::duplicate>(e, stream, small, o, rep);
      if (t.supports_throughput)
        expect_detected<C, damage::reorder>(e, stream, small, o, rep);
      else
        rep.skip("a reordered message", "latency only: one message is in flight at a time");
    }
  }

  const std::size_t kill_size = notification ? sizes.front() : small;
  expect_killed_peer_reported(e, role::consumer, kill_size, o, rep);
  expect_killed_peer_reported(e, role::producer, kill_size, o, rep);

  const std::size_t other_size = notification ? sizes.front() : page;
  if (t.no_thread_peers.empty()) {
    for (pattern p : patterns) {
      run_request req = request(p, other_size, o);
      req.thread_peers = true;
      expect_intact(e, std::string("thread peers, ") + to_string(p) + " " + size_text(other_size),
                    req, rep);
    }
  } else {
    rep.skip("thread peers", t.no_thread_peers);
  }
  if (!e.can_spawn) {
    rep.skip("launched peers", "not a named_channel: forked peers only");
  } else if (!o.spawned_peers) {
    rep.skip("launched peers", "not asked for");
  } else {
    run_request req = request(pattern::latency, other_size, o);
    req.process = process_model::spawn;
    expect_intact(e, "launched peers, latency " + size_text(other_size), req, rep);
  }
  rep.summary(t.id);
  return rep.failed();
}

// Parses the conformance program's arguments into `o`; returns a message when they are wrong.
inline std::string parse(int argc, char** argv, options& o, bool& help) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const std::string& name) -> std::string {
      if (a.starts_with(name + "=")) return a.substr(name.size() + 1);
      if (a == name && i + 1 < argc) return argv[++i];
      return {};
    };
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (a.starts_with("--sizes")) {
      o.sizes.clear();
      std::stringstream in(value("--sizes"));
      for (std::string s; std::getline(in, s, ',');) {
        char* end = nullptr;
        const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
        if (s.empty() || *end != 0 || n == 0 || n > (1ull << 30))
          return "--sizes: '" + s + "' is not a size from 1 to 1073741824 bytes";
        o.sizes.push_back(static_cast<std::size_t>(n));
      }
      if (o.sizes.empty()) return "--sizes needs a comma-separated list of sizes in bytes";
    } else if (a.starts_with("--timeout")) {
      const std::string v = value("--timeout");
      char* end = nullptr;
      const long s = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != 0 || s < 1 || s > 3600)
        return "--timeout: '" + v + "' is not a number of seconds from 1 to 3600";
      o.timeout = std::chrono::seconds(s);
    } else {
      return "unknown argument '" + a + "' (see --help)";
    }
  }
  return {};
}

// The conformance program of channel type C.
template <channel C>
int main(int argc, char** argv) {
  std::string id;
  try {
    mechanism_entry e = external_entry<C>();
    id = e.traits.id;
    add_mechanism(std::move(e));
    registry();  // an id that is a built-in one's is refused here
  } catch (const std::exception& ex) {
    std::cerr << "ipcbench conformance: " << ex.what() << "\n";
    return 2;
  }
  // A named channel's launched peer is this program, run again in peer mode.
  if (is_peer_invocation(argc, argv)) return program_main(argc, argv);
  options o;
  bool help = false;
  if (const std::string why = parse(argc, argv, o, help); !why.empty()) {
    std::cerr << "ipcbench conformance: " << why << "\n";
    return 2;
  }
  if (help) {
    std::cout << "usage: " << argv[0] << " [--sizes N,N,...] [--timeout S]\n"
              << "Runs the ipcbench conformance suite against " << id
              << " (ipcbench/conformance.hpp): exit 0 when every check passed, 1 when one "
                 "failed, 2 for bad arguments.\n";
    return 0;
  }
  return check<C>(*find_mechanism(id), o, std::cout) == 0 ? 0 : 1;
}

}  // namespace ipcbench::conformance
