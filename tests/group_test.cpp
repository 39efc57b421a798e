// Topologies (harness/coordinator.hpp): N pairs at once, N producers into one consumer and one
// producer to N consumers. Setting up and tearing down a group leaks nothing, a killed member
// fails its benchmark with the reason, the placement spreads members and flags
// oversubscription, and the name, option and spread helpers say what they should.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/options.hpp"
#include "harness/coordinator.hpp"
#include "harness/delay.hpp"
#include "harness/fan_out.hpp"
#include "harness/pairs.hpp"
#include "harness/placement.hpp"
#include "harness/protocol.hpp"
#include "harness/runner.hpp"
#include "mechanisms/sockets/stream_server.hpp"
#include "mechanisms/sockets/tcp.hpp"
#include "mechanisms/sockets/unix_stream.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

run_request group_request(pattern p, std::size_t size) {
  run_request req;
  req.pat = p;
  req.message_size = size;
  req.place = placement::none;
  req.fixed_messages = 200;
  req.warmup_messages = 10;
  req.timeout = std::chrono::seconds(20);
  return req;
}

// Every pair mechanism's entry runs pairs/8 and leaves no kernel object, file or child behind.
class PairsAtEight : public ::testing::TestWithParam<std::string> {};

TEST_P(PairsAtEight, RunsAndLeaksNothing) {
  const mechanism_entry* m = find_mechanism(GetParam());
  ASSERT_NE(m, nullptr);
  const std::size_t before = test::kernel_objects();
  const pattern p = m->traits.supports_throughput ? pattern::throughput : pattern::latency;
  const std::size_t size = m->traits.sizes.empty() ? 64 : m->traits.sizes.front();
  const run_result r = m->run_group(group_request(p, size), topology::pairs, 8);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_TRUE(r.group);
  EXPECT_EQ(r.group->n, 8u);
  EXPECT_EQ(r.group->members.size(), 16u);
  EXPECT_EQ(r.messages, 8u * 200u);
  EXPECT_EQ(r.integrity_errors, 0u);
  EXPECT_TRUE(r.group->fairness);
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, PairsAtEight,
                         ::testing::Values("pipe", "fifo", "unix_stream", "posix_mq", "sysv_mq",
                                           "posix_shm.futex", "sysv_shm.sysv_sem", "unix_dgram",
                                           "futex", "posix_sem"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (auto& c : n)
                             if (c == '.') c = '_';
                           return n;
                         });

TEST(Pairs, KilledProducerFailsTheRunWithTheReasonAndNothingStays) {
  const mechanism_entry* m = find_mechanism("fifo");
  ASSERT_NE(m, nullptr);
  const std::size_t before = test::kernel_objects();
  run_request req = group_request(pattern::throughput, 64);
  req.fixed_messages = 100'000'000;  // far longer than the test waits
  std::thread killer;
  req.on_go = [&](pid_t producer, pid_t) {
    killer = std::thread([producer] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(producer, SIGKILL);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = m->run_group(req, topology::pairs, 4);
  if (killer.joinable()) killer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(25));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("producer 0"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.group);
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
  // The sweep goes on: the next run of the same mechanism is fine.
  const run_result next = m->run_group(group_request(pattern::throughput, 64), topology::pairs, 2);
  EXPECT_EQ(next.status, run_status::ok) << next.reason;
}

// A topology of one producer and one consumer reads each peer's wait for its CPU, as a plain
// pair does (the estimates can then tell another task's doing); two pairs read none, for there
// is no one producer's or consumer's wait to give.
TEST(Pairs, OnePairReadsEachPeersWaitForItsCpuAndTwoPairsNone) {
  if (!std::filesystem::exists("/proc/self/schedstat")) GTEST_SKIP() << "no schedstat";
  const mechanism_entry* m = find_mechanism("pipe");
  ASSERT_NE(m, nullptr);
  const run_result one = m->run_group(group_request(pattern::throughput, 64), topology::pairs, 1);
  ASSERT_EQ(one.status, run_status::ok) << one.reason;
  ASSERT_TRUE(one.producer_waited_ns.has_value());
  ASSERT_TRUE(one.consumer_waited_ns.has_value());
  EXPECT_GE(*one.producer_waited_ns, 0);
  EXPECT_GE(*one.consumer_waited_ns, 0);
  const run_result two = m->run_group(group_request(pattern::throughput, 64), topology::pairs, 2);
  ASSERT_EQ(two.status, run_status::ok) << two.reason;
  EXPECT_FALSE(two.producer_waited_ns.has_value());
  EXPECT_FALSE(two.consumer_waited_ns.has_value());
  EXPECT_TRUE(test::no_children());
}

// Every fan-in mechanism runs fan_in/8 and leaves nothing behind.
class FanInAtEight : public ::testing::TestWithParam<std::string> {};

TEST_P(FanInAtEight, RunsAndLeaksNothing) {
  const mechanism_entry* m = find_mechanism(GetParam());
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->groups.count(topology::fan_in), 1u);
  const std::size_t before = test::kernel_objects();
  const run_result r = m->run_group(group_request(pattern::throughput, 64), topology::fan_in, 8);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_TRUE(r.group);
  EXPECT_EQ(r.group->members.size(), 9u);
  EXPECT_EQ(r.messages, 8u * 200u);
  EXPECT_TRUE(r.group->fairness);
  // 200 timed records per producer, every one a delay sample (harness/delay.hpp): each pairs
  // its producer's note with the consumer's.
  for (const auto& o : r.group->members) {
    EXPECT_EQ(o.delay.count(), o.r == role::producer ? 200u : 8u * 200u)
        << to_string(o.r) << " " << o.index;
    EXPECT_GT(o.delay.percentile(50), 0);
  }
  if (m->traits.atomic_write_max) {
    ASSERT_TRUE(r.group->torn_records);
    EXPECT_EQ(*r.group->torn_records, 0u);  // 64 bytes: at most PIPE_BUF, never torn
  }
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, FanInAtEight,
                         ::testing::Values("pipe", "fifo", "posix_mq", "sysv_mq", "unix_dgram",
                                           "posix_shm.futex", "posix_shm.spin", "unix_stream",
                                           "tcp"));

// A stream socket's fan-in is a server and its clients (mechanisms/sockets/stream_server.hpp):
// each record is read whole from one connection, so records of every size arrive whole, none
// torn, from 1, 2 and 4 producers; fan_in/1 also has the paced run's delay. Nothing stays.
TEST(FanIn, SocketServersCarryWholeRecordsFromEveryClient) {
  const std::size_t before = test::kernel_objects();
  for (const char* id : {"unix_stream", "tcp"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->groups.count(topology::fan_in), 1u) << id;
    EXPECT_NE(m->traits.notes.at("fan_in").find("epoll_wait"), std::string::npos) << id;
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{4}})
      for (std::size_t size :
           {std::size_t{64}, std::size_t{4096}, std::size_t{4097}, std::size_t{65536}}) {
        run_request req = group_request(pattern::throughput, size);
        req.fixed_messages = 50;
        req.warmup_messages = 5;
        const run_result r = m->run_group(req, topology::fan_in, n);
        ASSERT_EQ(r.status, run_status::ok) << id << " " << n << " " << size << ": " << r.reason;
        ASSERT_TRUE(r.group);
        EXPECT_EQ(r.group->members.size(), n + 1);
        EXPECT_EQ(r.messages, n * 50u);
        EXPECT_EQ(r.integrity_errors, 0u);
        EXPECT_FALSE(r.group->torn_records);  // whole records: nothing to tear
        for (const auto& o : r.group->members)
          EXPECT_EQ(o.delay.count(), o.r == role::producer ? 50u : n * 50u)
              << id << " " << to_string(o.r) << " " << o.index;
        if (n == 1) {
          ASSERT_TRUE(r.group->paced) << id << " " << size;
          EXPECT_TRUE(r.group->paced->failure.empty()) << r.group->paced->failure;
          EXPECT_GT(r.group->paced->delay.count(), 0u);
        }
      }
  }
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

// The shared ring serialises its producers for the whole of a message, also one larger than
// the ring (256 KiB), which streams through it while the other producers wait for the lock.
TEST(FanIn, SharedMemoryRingCarriesWholeRecordsFromEveryProducer) {
  for (const char* id : {"posix_shm.futex", "posix_shm.spin"})
    for (std::size_t size : {std::size_t{4097}, std::size_t{300'000}}) {
      const mechanism_entry* m = find_mechanism(id);
      ASSERT_NE(m, nullptr);
      run_request req = group_request(pattern::throughput, size);
      req.fixed_messages = 20;
      req.warmup_messages = 4;
      const run_result r = m->run_group(req, topology::fan_in, 4);
      ASSERT_EQ(r.status, run_status::ok) << id << " " << size << ": " << r.reason;
      EXPECT_EQ(r.messages, 4u * 20u);
      EXPECT_EQ(r.integrity_errors, 0u);
      EXPECT_FALSE(r.group->torn_records);  // whole messages: nothing to tear
    }
  EXPECT_TRUE(test::no_children());
}

// fan_in/2 over the socket server C whose producer 1 dies before it connects: the consumer
// waits in accept(2) for a connection that never comes, and the coordinator, seeing the dead
// member, ends the run at once (long before the watchdog's deadline) with the reason.
template <class C>
void producer_dead_before_connecting(const char* id) {
  const mechanism_entry* m = find_mechanism(id);
  ASSERT_NE(m, nullptr);
  const std::size_t before = test::kernel_objects();
  constexpr std::size_t n = 2;
  const run_request req = group_request(pattern::throughput, 64);
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = run_with<C>(
      m->traits, req, run_shape{topology::fan_in, n, 1, assemble_fan_in},
      [](const channel_config& cfg) { return std::make_unique<C>(cfg, std::size_t{n}); },
      [](auto& chs, const group_member& who, control_link& link, const run_request& rq) -> int {
        if (who.r == role::producer && who.index == 1) ::raise(SIGKILL);
        const fan_in_setup setup{n, who.index, std::nullopt};
        return run_fan_in_peer(chs[0]->open(who.r), who.r, link, rq, setup);
      });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10)) << id;
  EXPECT_EQ(r.status, run_status::failed) << id;
  EXPECT_NE(r.reason.find("producer 1"), std::string::npos) << id << ": " << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << id << ": " << r.reason;
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
}

TEST(FanIn, SocketServerProducerDeadBeforeConnectingEndsTheRun) {
  producer_dead_before_connecting<unix_stream_server_channel>("unix_stream");
  producer_dead_before_connecting<tcp_server_channel>("tcp");
}

// The consumer's end of a socket server reads a record whole from one connection while another
// connection has a record waiting, goes on over the others when one closes (its producer gone,
// mid-record here), and says kPeerGone once all have.
TEST(StreamServerEndpoint, ReadsEachRecordWholeFromOneConnection) {
  int a[2], b[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
  unique_fd a_client(a[1]), b_client(b[1]);
  std::vector<unique_fd> conns;
  conns.emplace_back(a[0]);
  conns.emplace_back(b[0]);
  stream_server_endpoint ep(std::move(conns));
  const std::vector<std::byte> ra(8, std::byte{'a'}), rb(8, std::byte{'b'});
  auto put = [](const unique_fd& fd, const std::byte* p, std::size_t n) {
    ASSERT_EQ(::write(fd.get(), p, n), static_cast<ssize_t>(n));
  };
  put(a_client, ra.data(), 3);  // a's record begins
  put(b_client, rb.data(), 8);  // b's is whole
  std::thread rest([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    put(a_client, ra.data() + 3, 5);
  });
  std::vector<std::byte> got(8);
  std::vector<std::byte> seen;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(ep.receive(got), 8);
    EXPECT_TRUE(got == ra || got == rb) << i;  // never a mix of the two
    seen.push_back(got[0]);
  }
  rest.join();
  EXPECT_NE(seen[0], seen[1]);
  put(a_client, ra.data(), 3);  // a dies mid-record
  a_client.reset();
  put(b_client, rb.data(), 8);
  ASSERT_EQ(ep.receive(got), 8);
  EXPECT_EQ(got, rb);
  b_client.reset();
  EXPECT_EQ(ep.receive(got), kPeerGone);
}

// fan_out/8: a channel per consumer delivers every message to each consumer, intact and in
// order; a work queue delivers each to exactly one reader. Nothing is left behind.
class FanOutAtEight : public ::testing::TestWithParam<std::string> {};

TEST_P(FanOutAtEight, DeliversEveryMessageAndLeaksNothing) {
  const mechanism_entry* m = find_mechanism(GetParam());
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->groups.count(topology::fan_out), 1u);
  const bool queue = m->traits.kind == channel_kind::message;
  for (std::size_t size : {std::size_t{64}, std::size_t{4097}}) {
    const std::size_t before = test::kernel_objects();
    const run_result r =
        m->run_group(group_request(pattern::throughput, size), topology::fan_out, 8);
    ASSERT_EQ(r.status, run_status::ok) << size << ": " << r.reason;
    ASSERT_TRUE(r.group);
    ASSERT_EQ(r.group->members.size(), 9u);
    EXPECT_EQ(r.group->n, 8u);
    EXPECT_EQ(r.integrity_errors, 0u);
    EXPECT_TRUE(r.group->fairness);
    std::uint64_t taken = 0, delays = 0;
    for (const auto& o : r.group->members) {
      // Every timed record is a delay sample (harness/delay.hpp), paired once per consumer
      // that took it: the producer's histogram holds them all.
      if (o.r == role::producer) {
        EXPECT_EQ(o.messages, 200u);
        EXPECT_EQ(o.delay.count(), queue ? 200u : 8u * 200u);
        continue;
      }
      EXPECT_EQ(o.delay.count(), o.messages) << "consumer " << o.index;
      delays += o.delay.count();
      taken += o.messages;
      if (!queue) {
        EXPECT_EQ(o.messages, 200u) << "consumer " << o.index;
      }
    }
    EXPECT_EQ(taken, queue ? 200u : 8u * 200u);
    EXPECT_EQ(delays, taken);
    EXPECT_EQ(r.messages, taken);
    EXPECT_TRUE(test::kernel_objects_back_to(before));
    EXPECT_TRUE(test::leftovers().empty());
    EXPECT_TRUE(test::no_children());
  }
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, FanOutAtEight,
                         ::testing::Values("pipe", "unix_stream", "posix_mq", "sysv_mq",
                                           "posix_shm.futex", "posix_shm.spin"));

// The broadcast ring holds the producer back until the slowest consumer has passed a byte:
// messages larger than the ring reach every consumer intact.
TEST(FanOut, BroadcastRingCarriesMessagesLargerThanTheRingToEveryConsumer) {
  for (const char* id : {"posix_shm.futex", "posix_shm.spin"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr);
    run_request req = group_request(pattern::throughput, 300'000);
    req.fixed_messages = 20;
    req.warmup_messages = 4;
    const run_result r = m->run_group(req, topology::fan_out, 3);
    ASSERT_EQ(r.status, run_status::ok) << id << ": " << r.reason;
    EXPECT_EQ(r.messages, 3u * 20u);
    EXPECT_EQ(r.integrity_errors, 0u);
  }
  EXPECT_TRUE(test::no_children());
}

// The coordinator's side of a work queue: counts that add up but hashes that do not (a record
// taken twice and another lost) and counts that fall short both fail the run.
TEST(FanOut, WorkQueueLossOrDuplicateAcrossReadersIsAnError) {
  group_program program;
  program.members = members_of(topology::fan_out, 2);
  auto report = [](std::uint64_t messages, std::uint64_t hash) {
    peer_report r;
    r.messages = messages;
    r.t0 = 1'000;
    r.t1 = 2'000;
    r.work_hash = hash;
    return r;
  };
  group_reports b;
  b.go.count = 3;
  const std::uint64_t all = work_hash(10) + work_hash(11) + work_hash(12);
  b.reports = {report(3, all), report(2, work_hash(10) + work_hash(11)), report(1, work_hash(12))};
  EXPECT_EQ(assemble_fan_out({}, program, b).status, run_status::ok);
  b.reports[2] = report(1, work_hash(11));  // 11 twice, 12 lost
  const run_result dup = assemble_fan_out({}, program, b);
  EXPECT_EQ(dup.status, run_status::failed);
  EXPECT_NE(dup.reason.find("not each exactly once"), std::string::npos) << dup.reason;
  b.reports[2] = report(0, 0);  // 12 lost
  const run_result lost = assemble_fan_out({}, program, b);
  EXPECT_EQ(lost.status, run_status::failed);
  EXPECT_NE(lost.reason.find("took 2 records of 3"), std::string::npos) << lost.reason;
}

// A consumer killed mid-run in fan-out fails that benchmark with the reason; the next runs.
TEST(FanOut, KilledConsumerFailsTheRunWithTheReasonAndTheNextRunGoesOn) {
  const mechanism_entry* m = find_mechanism("pipe");
  ASSERT_NE(m, nullptr);
  run_request req = group_request(pattern::throughput, 64);
  req.fixed_messages = 50'000'000;
  req.timeout = std::chrono::seconds(10);
  req.on_go = [](pid_t, pid_t consumer) { ::kill(consumer, SIGKILL); };
  const run_result r = m->run_group(req, topology::fan_out, 3);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("SIGKILL"), std::string::npos) << r.reason;
  const run_result next =
      m->run_group(group_request(pattern::throughput, 64), topology::fan_out, 2);
  EXPECT_EQ(next.status, run_status::ok) << next.reason;
  EXPECT_TRUE(test::no_children());
}

// The batch watchdog says what the silent members were doing: all blocked is a hang, failed as
// soon as a quarter of a second shows them using no CPU; members still using CPU are a batch in a
// far slower mode than its sizing run, given up to 10 times the deadline (here 1 s) before it
// fails.
run_result group_that_never_reports(bool spin, bool one_pair = false) {
  run_request req = group_request(pattern::throughput, 64);
  req.timeout = std::chrono::seconds(1);
  group_program program;
  program.members = members_of(topology::pairs, 1);
  if (!one_pair) program.topo = topology::pairs;
  program.body = [&req, spin](std::size_t, control_link& ctl) -> int {
    send_message(ctl, opened_notice{});
    (void)expect_message<warmup_order>(ctl, req.timeout * 2);
    send_message(ctl, warm_notice{1000});
    hold_at_barrier(ctl, expect_message<go_order>(ctl, req.timeout * 2));
    std::atomic<std::uint64_t> spins{0};
    while (spin) spins.fetch_add(1, std::memory_order_relaxed);
    for (;;) ::pause();
  };
  return coordinate(req, program, place_group(req.place, program.members, req.cpus),
                    one_pair ? assemble_pair : assemble_pairs);
}

// Fan delay is also measured with room to spare: a second run paced at half the saturated
// producer's rate, its delay in group.paced.
TEST(FanDelay, APacedRunAtHalfTheRateGivesItsOwnDelay) {
  for (topology t : {topology::fan_in, topology::fan_out}) {
    const auto* m = find_mechanism("pipe");
    ASSERT_NE(m, nullptr);
    const run_result r = m->run_group(group_request(pattern::throughput, 64), t, 1);
    ASSERT_EQ(r.status, run_status::ok) << r.reason;
    ASSERT_TRUE(r.group && r.group->paced) << to_string(t);
    const paced_delay& p = *r.group->paced;
    EXPECT_TRUE(p.failure.empty()) << p.failure;
    EXPECT_GT(p.delay.count(), 0u);
    // Half of what the producer kept over the saturated run's window.
    const double saturated = 200 * 1e9 / static_cast<double>(r.elapsed_ns);
    EXPECT_NEAR(p.rate_per_producer, saturated / 2, saturated * 0.01);
  }
  EXPECT_TRUE(test::no_children());
}

TEST(GroupWatchdog, TellsAHangFromASlowBatch) {
  const run_result hung = group_that_never_reports(false);
  EXPECT_EQ(hung.status, run_status::failed);
  EXPECT_NE(hung.reason.find("watchdog: no 'result'"), std::string::npos) << hung.reason;
  EXPECT_NE(hung.reason.find("the sizing run predicted"), std::string::npos) << hung.reason;
  EXPECT_NE(hung.reason.find("2 of 2 peers silent (0 running, 2 blocked: a hang)"),
            std::string::npos)
      << hung.reason;
  const run_result slow = group_that_never_reports(true);
  EXPECT_EQ(slow.status, run_status::failed);
  EXPECT_NE(slow.reason.find("slow, not all blocked"), std::string::npos) << slow.reason;
  EXPECT_NE(slow.reason.find("extended while the members kept using CPU"), std::string::npos)
      << slow.reason;
  EXPECT_EQ(slow.reason.find("a hang"), std::string::npos) << slow.reason;
  EXPECT_TRUE(test::no_children());
}

// One pair is a group of two: the same watchdog, its members named without an index, and no
// group outcome in its result.
TEST(GroupWatchdog, OnePairHasTheSameWatchdog) {
  const run_result hung = group_that_never_reports(false, true);
  EXPECT_EQ(hung.status, run_status::failed);
  EXPECT_NE(hung.reason.find("2 of 2 peers silent (0 running, 2 blocked: a hang)"),
            std::string::npos)
      << hung.reason;
  EXPECT_FALSE(hung.group.has_value());
  const run_result slow = group_that_never_reports(true, true);
  EXPECT_NE(slow.reason.find("extended while the members kept using CPU"), std::string::npos)
      << slow.reason;
  EXPECT_TRUE(test::no_children());
}

TEST(FanIn, WritesAbovePipeBufFromTwoProducersArriveChecked) {
  const mechanism_entry* m = find_mechanism("pipe");
  ASSERT_NE(m, nullptr);
  const run_result r = m->run_group(group_request(pattern::throughput, 4097), topology::fan_in, 2);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_TRUE(r.group && r.group->torn_records);  // counted (how many is the kernel's business)
  EXPECT_EQ(r.integrity_errors, 0u);
  // Tagged records complete in the reassembler: each is still a delay sample.
  for (const auto& o : r.group->members)
    EXPECT_EQ(o.delay.count(), o.r == role::producer ? 200u : 2u * 200u) << to_string(o.r);
}

TEST(DelaySampler, SamplesEveryStrideThRecordOfTheBatchAndSkipsWhatItDidNotSee) {
  EXPECT_EQ(delay_stride(100), 1u);
  EXPECT_EQ(delay_stride(kMaxDelaySamples), 1u);
  EXPECT_EQ(delay_stride(kMaxDelaySamples + 1), 2u);
  delay_sampler d(10, 5000);  // records 10 .. 5009, stride 3
  ASSERT_EQ(d.stride(), 3u);
  ASSERT_EQ(d.notes().size(), 1667u);
  EXPECT_FALSE(d.due(9));
  std::uint64_t noted = 0;
  for (std::uint64_t k = 0; k < 6000; ++k)
    if (k % 7 != 0 && d.due(k)) {  // every 7th record went to another reader
      d.note(k, static_cast<std::int64_t>(k));
      EXPECT_EQ((k - 10) % 3, 0u) << k;
      ++noted;
    }
  std::uint64_t seen = 0;
  for (std::size_t j = 0; j < d.notes().size(); ++j) {
    const std::int64_t v = d.notes()[j];
    if (v < 0) {
      EXPECT_EQ((10 + 3 * j) % 7, 0u) << j;  // only the records it never saw are missing
      continue;
    }
    EXPECT_EQ(v, static_cast<std::int64_t>(10 + 3 * j));
    ++seen;
  }
  EXPECT_EQ(seen, noted);
  EXPECT_GT(noted, 1400u);
}

// Over the shared ring the killed producer may hold the producer lock: the others wait on it
// until the coordinator kills them.
class FanInKilledProducer : public ::testing::TestWithParam<std::string> {};

TEST_P(FanInKilledProducer, FailsTheRunWithTheReasonAndTheNextRunGoesOn) {
  const mechanism_entry* m = find_mechanism(GetParam());
  ASSERT_NE(m, nullptr);
  const std::size_t before = test::kernel_objects();
  run_request req = group_request(pattern::throughput, 64);
  req.fixed_messages = 100'000'000;
  std::thread killer;
  req.on_go = [&](pid_t producer, pid_t) {
    killer = std::thread([producer] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(producer, SIGKILL);
    });
  };
  const run_result r = m->run_group(req, topology::fan_in, 4);
  if (killer.joinable()) killer.join();
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_NE(r.reason.find("producer 0"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("killed by SIGKILL"), std::string::npos) << r.reason;
  EXPECT_TRUE(test::kernel_objects_back_to(before));
  EXPECT_TRUE(test::leftovers().empty());
  EXPECT_TRUE(test::no_children());
  const run_result next = m->run_group(group_request(pattern::throughput, 64), topology::fan_in, 2);
  EXPECT_EQ(next.status, run_status::ok) << next.reason;
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, FanInKilledProducer,
                         ::testing::Values("fifo", "posix_mq", "posix_shm.futex", "unix_stream",
                                           "tcp"));

TEST(FanIn, SkipsWhatItCannotRun) {
  const mechanism_entry* m = find_mechanism("pipe");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->run_group(group_request(pattern::latency, 64), topology::fan_in, 2).status,
            run_status::skipped);
  EXPECT_EQ(m->run_group(group_request(pattern::throughput, 4), topology::fan_in, 2).status,
            run_status::skipped);
  const mechanism_entry* seqpacket = find_mechanism("unix_seqpacket");
  ASSERT_NE(seqpacket, nullptr);
  EXPECT_EQ(
      seqpacket->run_group(group_request(pattern::throughput, 64), topology::fan_in, 2).status,
      run_status::skipped);
}

std::vector<cpu_info> cpus(std::initializer_list<int> ids) {
  std::vector<cpu_info> v;
  for (int id : ids) {
    cpu_info c;
    c.cpu = id;
    v.push_back(c);
  }
  return v;
}

TEST(GroupPlacement, SpreadsPairsAndFlagsOversubscription) {
  const auto two = cpus({0, 1});
  const auto g = place_group(placement::cross, members_of(topology::pairs, 2), two);
  ASSERT_TRUE(g.impossible.empty()) << g.impossible;
  EXPECT_TRUE(g.oversubscribed);  // 4 peers, 2 CPUs
  ASSERT_EQ(g.cpus.size(), 4u);
  EXPECT_NE(g.cpus[0], g.cpus[1]);  // a pair's two peers never share a CPU while one is free
  EXPECT_NE(g.cpus[2], g.cpus[3]);
  const auto one_pair = place_group(placement::cross, members_of(topology::pairs, 1), two);
  EXPECT_FALSE(one_pair.oversubscribed);
}

TEST(GroupPlacement, FanInGivesTheConsumerACpuOfItsOwnWhenThereIsOne) {
  const auto g = place_group(placement::cross, members_of(topology::fan_in, 2), cpus({0, 1, 2, 3}));
  ASSERT_EQ(g.cpus.size(), 3u);
  EXPECT_FALSE(g.oversubscribed);
  EXPECT_NE(g.cpus[2], g.cpus[0]);
  EXPECT_NE(g.cpus[2], g.cpus[1]);
  EXPECT_NE(g.cpus[0], g.cpus[1]);
}

TEST(GroupPlacement, NoneAndSame) {
  const auto none = place_group(placement::none, members_of(topology::pairs, 2), cpus({0, 1}));
  for (int c : none.cpus) EXPECT_EQ(c, -1);
  const auto same = place_group(placement::same, members_of(topology::pairs, 2), cpus({0, 1}));
  for (int c : same.cpus) EXPECT_EQ(c, same.cpus[0]);
}

// One pair placed as a group of two lands where choose_cpus puts a pair, for every placement and
// for --cpus; whether any two members may share a CPU follows from the placement alone.
TEST(GroupPlacement, OnePairAgreesWithThePairChoiceAndSaysWhenCpusAreShared) {
  const auto four = cpus({0, 1, 2, 3});
  const auto pair = members_of(topology::pairs, 1);
  for (placement p : {placement::cross, placement::same, placement::none}) {
    const cpu_choice c = choose_cpus(p, four);
    const group_placement g = place_group(p, pair, four);
    ASSERT_EQ(g.cpus.size(), 2u);
    EXPECT_EQ(g.cpus[0], c.producer) << to_string(p);
    EXPECT_EQ(g.cpus[1], c.consumer) << to_string(p);
    EXPECT_EQ(may_share_cpu(g), p != placement::cross) << to_string(p);
  }
  const group_placement given = place_group(placement::cross, pair, four, cpu_pair{3, 2});
  EXPECT_EQ(given.cpus, (std::vector<int>{3, 2}));
  EXPECT_FALSE(may_share_cpu(given));
  // --cpus with two pairs puts both producers on one CPU: they share it.
  EXPECT_TRUE(
      may_share_cpu(place_group(placement::cross, members_of(topology::pairs, 2), four, {{3, 2}})));
  EXPECT_FALSE(may_share_cpu(place_group(placement::cross, members_of(topology::pairs, 2), four)));
  EXPECT_TRUE(may_share_cpu(place_group(placement::cross, members_of(topology::pairs, 3), four)));
}

TEST(Spread, KnownValues) {
  EXPECT_DOUBLE_EQ(spread_of({}).cv, 0);
  EXPECT_DOUBLE_EQ(spread_of({5}).min_over_max, 1);
  const spread s = spread_of({1, 3});
  EXPECT_DOUBLE_EQ(s.min_over_max, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.cv, 0.5);  // mean 2, standard deviation 1
  EXPECT_DOUBLE_EQ(spread_of({4, 4, 4}).cv, 0);
}

TEST(TopologyName, FormatsAndParsesBackAndOldNamesStillParse) {
  const std::string name = schema::format_name({.id = "pipe",
                                                .topology = "fan_in",
                                                .fan = 4,
                                                .pattern = "throughput",
                                                .message_size = 4097,
                                                .placement = "cross"});
  EXPECT_EQ(name, "pipe/fan_in/4/throughput/4097/cross");
  const auto back = schema::parse_name(name + "/iterations:1/manual_time");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->topology, "fan_in");
  EXPECT_EQ(back->fan, 4u);
  EXPECT_EQ(back->id, "pipe");
  EXPECT_EQ(back->message_size, 4097u);
  const auto old = schema::parse_name("pipe/latency/64/cross");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->topology.empty());
  EXPECT_FALSE(schema::parse_name("pipe/sideways/4/throughput/64/cross"));
  EXPECT_FALSE(schema::parse_name("pipe/pairs/0/throughput/64/cross"));
  EXPECT_FALSE(schema::parse_name("pipe/pairs/x/throughput/64/cross"));
}

TEST(FanOption, ParsesAndRejects) {
  EXPECT_EQ(parse_fan("1,2,4,8"), (std::vector<std::size_t>{1, 2, 4, 8}));
  EXPECT_TRUE(parse_fan("none").empty());
  EXPECT_THROW(parse_fan("0"), usage_error);
  EXPECT_THROW(parse_fan("1,,2"), usage_error);
  EXPECT_THROW(parse_fan("2,2"), usage_error);
  EXPECT_THROW(parse_fan("65"), usage_error);
  EXPECT_THROW(parse_fan("-1"), usage_error);
  EXPECT_THROW(parse_fan(""), usage_error);
}

// The default --fan keeps every process on a CPU of its own; oversubscription is opt-in.
TEST(FanOption, TheDefaultFitsTheCpus) {
  EXPECT_TRUE(fan_fits(topology::pairs, 1, 2));
  EXPECT_FALSE(fan_fits(topology::pairs, 2, 2));
  EXPECT_TRUE(fan_fits(topology::fan_in, 1, 2));
  EXPECT_FALSE(fan_fits(topology::fan_in, 2, 2));
  EXPECT_FALSE(fan_fits(topology::fan_out, 2, 2));
  EXPECT_TRUE(fan_fits(topology::pairs, 8, 16));
  EXPECT_FALSE(fan_fits(topology::fan_out, 16, 16));
  EXPECT_TRUE(fan_fits(topology::fan_in, 8, 16));
  int argc = 3;
  char a0[] = "ipcbench", a1[] = "--fan", a2[] = "2";
  char* argv[] = {a0, a1, a2, nullptr};
  const bench_options given = parse_options(argc, argv);
  EXPECT_TRUE(given.fan_given);
  EXPECT_FALSE(bench_options{}.fan_given);
}

TEST(GroupOptions, TheDefaultSweepTrimsTheTopologiesAndSizesReplaceIt) {
  bench_options o;
  o.topology_sizes = topology_sizes();
  using v = std::vector<std::size_t>;
  EXPECT_EQ(topology_sizes_for(o, topology::fan_in, pattern::throughput, true), topology_sizes());
  EXPECT_EQ(topology_sizes_for(o, topology::fan_in, pattern::throughput, false),
            (v{64, 4096, 65536}));
  EXPECT_EQ(topology_sizes_for(o, topology::fan_out, pattern::throughput, true),
            (v{64, 4096, 65536}));
  EXPECT_EQ(topology_sizes_for(o, topology::pairs, pattern::throughput, false), (v{64, 65536}));
  EXPECT_EQ(topology_sizes_for(o, topology::pairs, pattern::latency, false), (v{64}));
  o.topology_sizes = {1, 4097};
  o.sizes_given = true;
  EXPECT_EQ(topology_sizes_for(o, topology::pairs, pattern::latency, false), (v{1, 4097}));
  EXPECT_EQ(topology_sizes_for(o, topology::fan_out, pattern::throughput, false), (v{1, 4097}));
}

}  // namespace
}  // namespace ipcbench
