// Faults: a peer killed or stopped mid-benchmark, and a channel that damages messages. Each ends
// with a failed run that says what happened, no hang, and nothing left behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "harness/runner.hpp"
#include "id_name.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "registry/registry.hpp"
#include "sys/child.hpp"
#include "test_env.hpp"
#include "wrapped_pipe.hpp"

namespace ipcbench {
namespace {

enum class damage { corrupt, duplicate, drop };

using test::wrapped_pipe;

// The producer damages its 10th message.
template <damage D>
class damaging_endpoint {
 public:
  static constexpr const char* kId = "damaging_pipe";
  damaging_endpoint(stream_endpoint inner, bool producer)
      : inner_(std::move(inner)), producer_(producer) {}
  io_status send(std::span<const std::byte> msg) {
    const std::uint64_t n = sent_++;
    if (producer_ && n == 10) {
      if (D == damage::drop) return io_status::ok;
      std::vector<std::byte> bad(msg.begin(), msg.end());
      if (D == damage::corrupt) bad[bad.size() / 2] ^= std::byte{1};
      if (D == damage::duplicate) bad = previous_;
      return inner_.send(bad);
    }
    previous_.assign(msg.begin(), msg.end());
    return inner_.send(msg);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) { return inner_.receive(buf); }

 private:
  stream_endpoint inner_;
  bool producer_;
  std::uint64_t sent_ = 0;
  std::vector<std::byte> previous_;
};

template <damage D>
using damaging_pipe = wrapped_pipe<damaging_endpoint<D>>;

// The producer gets its own request back instead of the consumer's reply (the reply is
// read and dropped so the consumer goes on): the kind of loopback bug a shared-memory ring with a
// wrong offset would have.
class echoing_endpoint {
 public:
  static constexpr const char* kId = "echoing_pipe";
  echoing_endpoint(stream_endpoint inner, bool producer)
      : inner_(std::move(inner)), producer_(producer) {}
  io_status send(std::span<const std::byte> msg) {
    last_.assign(msg.begin(), msg.end());
    return inner_.send(msg);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    const std::ptrdiff_t n = inner_.receive(buf);
    if (producer_ && n > 0 && static_cast<std::size_t>(n) == last_.size() &&
        last_.size() <= buf.size())
      std::memcpy(buf.data(), last_.data(), last_.size());
    return n;
  }

 private:
  stream_endpoint inner_;
  bool producer_;
  std::vector<std::byte> last_;
};

using echoing_pipe = wrapped_pipe<echoing_endpoint>;

run_request fault_request(pattern p, std::size_t size) {
  run_request req;
  req.pat = p;
  req.message_size = size;
  req.place = placement::none;
  req.fixed_messages = 50;
  // One message for the sizing run and one for the warm-up: the damage lands in the timed batch
  // (message 10 of the producer).
  req.warmup_messages = 1;
  req.timeout = std::chrono::seconds(5);
  return req;
}

template <damage D>
run_result run_damaged(pattern p, std::size_t size,
                       std::chrono::seconds timeout = std::chrono::seconds(5)) {
  auto req = fault_request(p, size);
  req.timeout = timeout;
  return run_channel<damaging_pipe<D>>(damaging_pipe<D>::describe(), req);
}

TEST(Faults, CorruptedMessageFailsTheRunWithTheCount) {
  for (pattern p : {pattern::latency, pattern::throughput}) {
    const run_result r = run_damaged<damage::corrupt>(p, 4096);
    EXPECT_EQ(r.status, run_status::failed);
    EXPECT_EQ(r.integrity_errors, 1u);
    EXPECT_NE(r.reason.find("1 corrupted"), std::string::npos) << r.reason;
  }
  EXPECT_TRUE(test::no_children());
}

TEST(Faults, OwnRequestHandedBackFailsEveryRoundTrip) {
  for (std::size_t size : {1, 64, 4096}) {
    const run_result r =
        run_channel<echoing_pipe>(echoing_pipe::describe(), fault_request(pattern::latency, size));
    EXPECT_EQ(r.status, run_status::failed) << size;
    EXPECT_NE(r.reason.find("data check"), std::string::npos) << r.reason;
  }
}

TEST(Faults, DuplicatedMessageIsCountedAsSequenceError) {
  const run_result r = run_damaged<damage::duplicate>(pattern::throughput, 64);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.integrity_errors, 1u);
  EXPECT_NE(r.reason.find("lost/duplicated/reordered"), std::string::npos) << r.reason;
}

TEST(Faults, DroppedMessageFailsTheRun) {
  // The consumer waits for a last message that never comes (number 51: the sizing run's and the
  // warm-up's one message each come before the 50 timed); the producer's exit closes the pipe.
  const run_result r = run_damaged<damage::drop>(pattern::throughput, 64, std::chrono::seconds(1));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_TRUE(r.reason.starts_with("consumer (pid ")) << r.reason;
  EXPECT_NE(r.reason.find("): channel closed by the other peer (receive of message 51)"),
            std::string::npos)
      << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

// Runs `id` long enough to be interrupted and sends `sig` to a peer once the timed batch runs.
run_result run_and_signal(const std::string& id, int sig, bool consumer,
                          std::chrono::milliseconds timeout,
                          process_model process = process_model::fork, bool threads = false) {
  const mechanism_entry* m = find_mechanism(id);
  EXPECT_NE(m, nullptr);
  run_request req;
  req.process = process;
  req.thread_peers = threads;
  req.peer_program = IPCBENCH_BIN;
  // A paced stream is throughput only: the fault hits its first (unpaced) trial batch.
  req.pat = m->traits.paced ? pattern::throughput : pattern::latency;
  // 64 bytes, or what the mechanism carries: 0 for a notification, 8 for a real-time signal.
  req.message_size = std::min<std::size_t>(64, m->traits.max_message.value_or(64));
  req.place = placement::none;
  req.fixed_messages = 100'000'000;  // far longer than the test waits
  req.warmup_messages = 10;
  req.timeout = timeout;
  std::thread killer;
  req.on_go = [&](pid_t producer, pid_t cons) {
    const pid_t victim = consumer ? cons : producer;
    killer = std::thread([victim, sig] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(victim, sig);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  run_result r = m->run(req);
  if (killer.joinable()) killer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, timeout + std::chrono::seconds(5));
  return r;
}

// A mechanism this build or machine lacks has no peer to kill: skipped with the reason.
class PeerFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (const auto* m = find_mechanism(GetParam()); m != nullptr && !m->unavailable.empty())
      GTEST_SKIP() << m->unavailable;
  }
};

TEST_P(PeerFaults, KilledConsumerEndsTheRunAtOnce) {
  const run_result r = run_and_signal(GetParam(), SIGKILL, true, std::chrono::seconds(20));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("consumer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST_P(PeerFaults, KilledProducerEndsTheRunAtOnce) {
  const run_result r = run_and_signal(GetParam(), SIGKILL, false, std::chrono::seconds(20));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("producer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
}

TEST_P(PeerFaults, StoppedPeerFiresTheWatchdog) {
  const run_result r = run_and_signal(GetParam(), SIGSTOP, true, std::chrono::seconds(1));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("watchdog"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("consumer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("stopped"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

std::vector<std::string> mechanism_ids() {
  std::vector<std::string> ids;
  for (const auto& e : registry()) ids.push_back(e.traits.id);
  return ids;
}

// Test names allow letters, digits and '_' only; ids may hold '.' ("pipe.resized").
using test::id_name;

INSTANTIATE_TEST_SUITE_P(Registry, PeerFaults, ::testing::ValuesIn(mechanism_ids()), id_name);

// Thread peers share one process: a signal to it ends both, and the run fails at once, naming
// the process; a stopped one fires the watchdog. Nothing is left behind.
class ThreadPeerFaults : public ::testing::TestWithParam<std::string> {};

TEST_P(ThreadPeerFaults, KilledProcessEndsTheRunAtOnce) {
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = run_and_signal(GetParam(), SIGKILL, true, std::chrono::seconds(20),
                                      process_model::fork, true);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("a thread)"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST_P(ThreadPeerFaults, StoppedProcessFiresTheWatchdog) {
  const run_result r =
      run_and_signal(GetParam(), SIGSTOP, true, std::chrono::seconds(1), process_model::fork, true);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("watchdog"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("stopped"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

INSTANTIATE_TEST_SUITE_P(Registry, ThreadPeerFaults,
                         ::testing::Values("pipe", "unix_stream", "posix_mq", "posix_shm.futex",
                                           "posix_shm.spin", "eventfd"),
                         id_name);

// Launched peers of this process still alive: they carry our pid on their command line.
std::vector<int> launched_peers() {
  return test::processes_with_argument("--coordinator-pid=" + std::to_string(::getpid()));
}

TEST(TestEnv, ProcessesWithArgumentMatchesWholeArgumentsOnly) {
  // CI once saw a peer of coordinator 12345 taken for one of coordinator 1234's.
  const std::string arg = "--ipcbench-test-marker=" + std::to_string(::getpid());
  auto c = child_process::spawn("/bin/sh", {"-c", "kill -STOP $$", arg + "5"}, -1);
  for (int i = 0; i < 100 && test::processes_with_argument(arg + "5").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(test::processes_with_argument(arg + "5"), std::vector<int>{c.pid()});
  EXPECT_EQ(test::processes_with_argument(arg + "5", "/bin/sh"), std::vector<int>{c.pid()});
  EXPECT_TRUE(test::processes_with_argument(arg + "5", "no-such-program").empty());
  EXPECT_TRUE(test::processes_with_argument(arg).empty());
  c.kill_and_reap();
  EXPECT_TRUE(test::processes_with_argument(arg + "5").empty());
}

// The same faults with both peers launched as separate programs (spawn process model).
class SpawnedPeerFaults : public ::testing::TestWithParam<std::string> {};

TEST_P(SpawnedPeerFaults, KilledConsumerEndsTheRunAtOnce) {
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r =
      run_and_signal(GetParam(), SIGKILL, true, std::chrono::seconds(20), process_model::spawn);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("consumer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(launched_peers().empty());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST_P(SpawnedPeerFaults, KilledProducerEndsTheRunAtOnce) {
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r =
      run_and_signal(GetParam(), SIGKILL, false, std::chrono::seconds(20), process_model::spawn);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("producer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(launched_peers().empty());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST_P(SpawnedPeerFaults, StoppedPeerFiresTheWatchdog) {
  const run_result r =
      run_and_signal(GetParam(), SIGSTOP, true, std::chrono::seconds(1), process_model::spawn);
  EXPECT_EQ(r.status, run_status::failed);
  // A lossy mechanism's partner times out on its own (the reply is lost) before the watchdog.
  if (!find_mechanism(GetParam())->traits.lossy) {
    EXPECT_NE(r.reason.find("watchdog"), std::string::npos) << r.reason;
  }
  EXPECT_NE(r.reason.find("consumer"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("stopped"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(launched_peers().empty());
}

std::vector<std::string> spawnable_ids() {
  std::vector<std::string> ids;
  for (const auto& e : registry())
    if (e.can_spawn && e.unavailable.empty()) ids.push_back(e.traits.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Registry, SpawnedPeerFaults, ::testing::ValuesIn(spawnable_ids()),
                         id_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SpawnedPeerFaults);

TEST(SpawnFaults, ProgramThatCannotStartFailsTheRunWithTheReason) {
  run_request req = fault_request(pattern::latency, 64);
  req.process = process_model::spawn;
  req.peer_program = (test::scratch_dir() / "no-such-program").string();
  const run_result r = find_mechanism("fifo")->run(req);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("no-such-program"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(Placement, CrossNeedsTwoCpusOrIsSkippedWithReason) {
  const auto c = choose_cpus(placement::cross);
  if (allowed_cpus().size() >= 2) {
    EXPECT_TRUE(c.impossible.empty());
    EXPECT_NE(c.producer, c.consumer);
  } else {
    EXPECT_FALSE(c.impossible.empty());
  }
  const auto s = choose_cpus(placement::same);
  EXPECT_EQ(s.producer, s.consumer);
  const auto n = choose_cpus(placement::none);
  EXPECT_EQ(n.producer, -1);
}

}  // namespace
}  // namespace ipcbench
