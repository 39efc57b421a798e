// The middleware family's messaging libraries (ZeroMQ, nng, gRPC, Boost.Interprocess) and
// iceoryx beyond the contract suite, which runs them like every registered mechanism: each id is
// registered, in the middleware family, and either runs or says why not; a long stream loses
// nothing (the libraries' queues fill and make the sender wait); a killed peer fails the run with
// the reason and leaves no socket path, /dev/shm name, RouDi name or process behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bench/cases.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "harness/runner.hpp"
#include "id_name.hpp"
#include "registry/registry.hpp"
#include "test_env.hpp"
#include "test_request.hpp"

namespace ipcbench {
namespace {

const std::vector<std::string>& messaging_ids() {
  static const std::vector<std::string> ids = {
      "zeromq.ipc",   "zeromq.tcp",       "nng.ipc",
      "grpc.uds",     "grpc.uds.stream",  "boost.message_queue",
      "iceoryx.copy", "iceoryx.zerocopy", "iceoryx.zerocopy.busy"};
  return ids;
}

using test::id_name;

// The entry of the test's id; skips the test, with the reason, when this build lacks it.
class Middleware : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    m_ = find_mechanism(GetParam());
    ASSERT_NE(m_, nullptr) << GetParam() << " is not registered";
    if (!m_->unavailable.empty()) GTEST_SKIP() << m_->unavailable;
  }
  const mechanism_entry* m_ = nullptr;
};

TEST(MiddlewareRegistry, EveryIdIsListedInTheFamilyRunnableOrWithItsReason) {
  for (const auto& id : messaging_ids()) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id;
    EXPECT_EQ(m->traits.family, "middleware") << id;
    EXPECT_FALSE(m->traits.mechanism.empty()) << id;
    if (!m->unavailable.empty()) {
      // What the report and --list say, and what every run of it is skipped with.
      run_request req;
      req.message_size = 64;
      const run_result r = m->run(req);
      EXPECT_EQ(r.status, run_status::skipped) << id;
      EXPECT_EQ(r.reason, m->unavailable) << id;
      continue;
    }
    EXPECT_TRUE(m->can_spawn) << id;  // every one rendezvous by name
    EXPECT_FALSE(m->traits.notes.empty()) << id << ": version and options belong in the notes";
  }
}

run_request stream_request(std::size_t size, std::uint64_t messages) {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = size;
  req.place = placement::none;
  req.fixed_messages = messages;
  req.warmup_messages = 3;
  req.timeout = std::chrono::seconds(30);
  return req;
}

// More messages than ZeroMQ's default high-water mark (1000) and nng's or gRPC's buffering: a queue
// that dropped instead of blocking would lose some, which the consumer's check counts.
TEST_P(Middleware, LongStreamLosesNothing) {
  if (!m_->traits.supports_throughput) GTEST_SKIP() << GetParam() << " is latency only";
  const run_result r = m_->run(stream_request(64, 5000));
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.messages, 5000u);
  EXPECT_EQ(r.integrity_errors, 0u);
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
  if (GetParam().starts_with("iceoryx")) {
    EXPECT_EQ(test::iceoryx_leftovers(), std::vector<std::string>{});
  }
}

// A long stream of 1-byte messages, far past ZeroMQ's default high-water mark: at that mark a
// PUSH stream over ipc:// hung with both peers blocked (a lost wake-up in libzmq 4.3.4), so the
// suite sets the mark by bytes below 16 KiB. Every mechanism must carry it whole, in time.
TEST_P(Middleware, LongStreamOfSingleBytesArrivesWhole) {
  if (!m_->traits.supports_throughput) GTEST_SKIP() << GetParam() << " is latency only";
  run_request req = stream_request(1, 200'000);
  req.timeout = std::chrono::seconds(10);
  const run_result r = m_->run(req);
  if (r.status == run_status::skipped) GTEST_SKIP() << r.reason;
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.messages, 200'000u);
  EXPECT_TRUE(test::no_children());
}

// Runs a long latency batch and SIGKILLs one peer once the timed batch runs.
run_result run_and_kill(const mechanism_entry& m, bool consumer) {
  run_request req;
  req.pat = pattern::latency;
  req.message_size = 64;
  req.place = placement::none;
  req.fixed_messages = 100'000'000;  // far longer than the test waits
  req.warmup_messages = 10;
  req.timeout = std::chrono::seconds(20);
  std::thread killer;
  req.on_go = [&](pid_t producer, pid_t cons) {
    const pid_t victim = consumer ? cons : producer;
    killer = std::thread([victim] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(victim, SIGKILL);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  run_result r = m.run(req);
  if (killer.joinable()) killer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
  return r;
}

TEST_P(Middleware, KilledPeerFailsTheRunAndLeavesNothingBehind) {
  for (bool consumer : {true, false}) {
    const char* who = consumer ? "consumer" : "producer";
    const std::size_t objects_before = test::kernel_objects();
    const run_result r = run_and_kill(*m_, consumer);
    EXPECT_EQ(r.status, run_status::failed) << who;
    EXPECT_NE(r.reason.find(who), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
    EXPECT_TRUE(test::no_children()) << who;
    EXPECT_TRUE(test::leftovers().empty()) << who << ": left " << test::leftovers().front();
    EXPECT_TRUE(test::kernel_objects_back_to(objects_before))
        << who << ": /dev/shm name left behind";
    if (GetParam().starts_with("iceoryx")) {
      EXPECT_EQ(test::iceoryx_leftovers(), std::vector<std::string>{}) << who;
    }
  }
}

// A library that runs threads of its own (ZeroMQ, nng, gRPC): each peer, pinned to one CPU,
// says where they ran over the timed batch; one without such threads says nothing. Pinned (the
// default), every one of those threads ran on its peer's CPU and nowhere else; free, they may
// have run anywhere.
TEST_P(Middleware, PinnedPeersSayWhereTheLibrarysThreadsRan) {
  run_request req = test::small_request(pattern::latency, 64);
  if (req.place != placement::cross) GTEST_SKIP() << "fewer than two CPUs to pin the peers to";
  req.fixed_messages = 400;
  req.warmup_messages = 100;
  for (const auto mode : {library_threads_mode::pinned, library_threads_mode::free}) {
    SCOPED_TRACE(to_string(mode));
    req.library_threads = mode;
    const run_result r = m_->run(req);
    ASSERT_EQ(r.status, run_status::ok) << r.reason;
    if (!m_->traits.library_threads) {
      EXPECT_FALSE(r.producer_library);
      EXPECT_FALSE(r.consumer_library);
      EXPECT_FALSE(library_placement(r));
      continue;
    }
    ASSERT_TRUE(r.producer_library);
    ASSERT_TRUE(r.consumer_library);
    for (const library_time* t : {&*r.producer_library, &*r.consumer_library}) {
      EXPECT_GT(t->window_ns, 0);
      // No thread runs longer than the window.
      EXPECT_LE(t->total_ns(), static_cast<std::int64_t>(t->threads) * t->window_ns);
      if (mode == library_threads_mode::pinned) {
        EXPECT_EQ(t->other_cpu_ns, 0);
        EXPECT_EQ(t->moved_ns, 0);
      }
    }
    const auto where = library_placement(r);
    ASSERT_TRUE(where);
    const std::string word =
        mode == library_threads_mode::pinned ? "(own|idle)" : "(own|other|mixed|idle)";
    EXPECT_TRUE(std::regex_match(*where, std::regex(word + "/" + word))) << *where;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, Middleware, ::testing::ValuesIn(messaging_ids()), id_name);

// iceoryx.zerocopy.busy.header_only moves no data (iceperf's measurement): latency only, its
// verification "header only", and out of a run unless --header-only asks for it.
TEST(HeaderOnly, LeftOutOfARunUnlessAskedForAndLatencyOnly) {
  constexpr const char* kId = "iceoryx.zerocopy.busy.header_only";
  const mechanism_entry* m = find_mechanism(kId);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->traits.header_only);
  EXPECT_FALSE(m->traits.supports_throughput);
  if (m->unavailable.empty()) {
    EXPECT_EQ(m->traits.verification, "header only");
    EXPECT_NE(m->traits.description.find("HEADER ONLY"), std::string::npos);
  }
  auto named = [&](const std::vector<bench_case>& cases) {
    return std::count_if(cases.begin(), cases.end(), [&](const bench_case& c) {
      return c.name.starts_with(std::string(kId) + "/");
    });
  };
  bench_options o;
  o.sizes = {64, 1u << 20};
  o.fan = {};  // the one-pair benchmarks only
  EXPECT_EQ(named(make_cases(o)), 0);
  o.header_only = true;
  const auto cases = make_cases(o);
  EXPECT_EQ(named(cases), 2);  // latency at each size, no throughput
  for (const auto& c : cases) {
    if (c.name.starts_with(std::string(kId) + "/")) {
      EXPECT_NE(c.name.find("/latency/"), std::string::npos) << c.name;
    }
  }
}

// Where iceoryx runs, the header-only round trip completes with every header intact, at 1 MiB
// as at 64 B.
TEST(HeaderOnly, RunsWithEveryHeaderChecked) {
  const mechanism_entry* m = find_mechanism("iceoryx.zerocopy.busy.header_only");
  ASSERT_NE(m, nullptr);
  if (!m->unavailable.empty()) GTEST_SKIP() << m->unavailable;
  for (std::size_t size : {std::size_t{64}, std::size_t{1} << 20}) {
    run_request req;
    req.pat = pattern::latency;
    req.message_size = size;
    req.place = placement::none;
    req.fixed_messages = 200;
    req.warmup_messages = 10;
    req.timeout = std::chrono::seconds(20);
    const run_result r = m->run(req);
    EXPECT_EQ(r.status, run_status::ok) << size << ": " << r.reason;
  }
  EXPECT_TRUE(test::no_children());
  EXPECT_EQ(test::iceoryx_leftovers(), std::vector<std::string>{});
}

// The headline's benchmarks, which the stop rule's batches serve first in the reference regime:
// a mechanism's one pair with process peers at 64 B, 4 KiB and 1 MiB (a notification at its own
// sizes); not the calibration, not the topologies, not thread peers, not the other sizes.
TEST(Cases, HeadlineIsOnePairWithProcessPeersAtItsSizes) {
  bench_options o;
  o.sizes = {64, 4095, 4096, 1u << 20};
  o.fan = {2};
  o.peers_threads = true;
  int headline = 0;
  for (const auto& c : make_cases(o)) {
    const bool expected = !c.topo && !c.req.thread_peers && !c.name.starts_with("null/") &&
                          (c.req.message_size != 4095 || !c.traits.sizes.empty());
    EXPECT_EQ(in_headline(c), expected) << c.name;
    headline += in_headline(c) && c.name.starts_with("pipe/") ? 1 : 0;
  }
  EXPECT_EQ(headline, 6);  // pipe: latency and throughput at 64 B, 4 KiB and 1 MiB
}

// The rankings' benchmarks, which the stop rule's batches repeat faster in the reference regime:
// the headline's at 64 B for latency and at 1 MiB for throughput, nothing else.
TEST(Cases, RankingIsTheHeadlineAt64BytesLatencyAnd1MiBThroughput) {
  bench_options o;
  o.sizes = {64, 4096, 1u << 20};
  o.fan = {2};
  o.peers_threads = true;
  std::vector<std::string> pipe;
  for (const auto& c : make_cases(o)) {
    const bool latency = c.req.pat == pattern::latency;
    const bool expected = in_headline(c) && c.traits.sizes.empty() &&
                          c.req.message_size == (latency ? 64u : 1u << 20);
    EXPECT_EQ(in_ranking(c), expected) << c.name;
    if (in_ranking(c) && c.name.starts_with("pipe/")) pipe.push_back(c.name);
  }
  EXPECT_EQ(pipe,
            (std::vector<std::string>{"pipe/latency/64/cross", "pipe/throughput/1048576/cross"}));
}

}  // namespace
}  // namespace ipcbench
