// The io_uring family beyond the contract suite: every stream variant carries sizes across
// PIPE_BUF and 64 KiB into MiBs intact in both directions, registers each buffer once, sees a
// closed partner as EOF, and leaves no descriptor or ring behind; io_uring.msg_ring round-trips
// notifications between two threads and between forked processes, and a partner that exits is
// seen on the waiting ring; io_uring.eventfd round-trips the same way through each peer's ring;
// without liburing the six ids are listed, unavailable with the reason.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "harness/runner.hpp"
#include "registry/registry.hpp"
#include "registry/uring.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"
#ifdef IPCBENCH_HAVE_URING
#include "mechanisms/uring/msg_ring.hpp"
#include "mechanisms/uring/uring_eventfd.hpp"
#include "mechanisms/uring/uring_stream.hpp"
#endif

namespace ipcbench {
namespace {

constexpr const char* kUringIds[] = {"pipe.io_uring",        "pipe.io_uring.sqpoll",
                                     "unix_stream.io_uring", "unix_stream.io_uring.sqpoll",
                                     "io_uring.msg_ring",    "io_uring.eventfd"};

TEST(Uring, WithoutLiburingTheIdsAreListedUnavailableWithTheReason) {
  const std::string why = "liburing not found at build time (Debian: liburing-dev)";
  const auto entries = uring_unavailable_entries(why);
  ASSERT_EQ(entries.size(), std::size(kUringIds));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    EXPECT_EQ(e.traits.id, kUringIds[i]);
    EXPECT_EQ(e.traits.family, "io_uring");
    EXPECT_NE(e.unavailable.find(why), std::string::npos) << e.unavailable;
    const run_result r = e.run(run_request{});
    EXPECT_EQ(r.status, run_status::skipped);
    EXPECT_NE(r.reason.find(why), std::string::npos) << r.reason;
    const run_result g = e.run_group(run_request{}, topology::pairs, 2);
    EXPECT_EQ(g.status, run_status::skipped);
    EXPECT_NE(g.reason.find(why), std::string::npos) << g.reason;
  }
}

TEST(Uring, TheRegistryListsTheFamilyAvailableOrWithTheReason) {
  for (const char* id : kUringIds) {
    const mechanism_entry* e = find_mechanism(id);
    ASSERT_NE(e, nullptr) << id;
    if (!e->unavailable.empty()) {
      EXPECT_NE(e->unavailable.find("unavailable"), std::string::npos) << e->unavailable;
      continue;
    }
    EXPECT_EQ(e->traits.family, "io_uring") << id;
    EXPECT_TRUE(e->traits.no_thread_peers.empty()) << id;
  }
#ifndef IPCBENCH_HAVE_URING
  EXPECT_NE(find_mechanism("pipe.io_uring")->unavailable.find(IPCBENCH_URING_UNAVAILABLE),
            std::string::npos);
#endif
}

#ifdef IPCBENCH_HAVE_URING

// The descriptors this process holds, and how many of them are io_uring instances.
struct fd_census {
  std::size_t fds = 0;
  std::size_t rings = 0;
  bool operator==(const fd_census&) const = default;
};

fd_census census() {
  fd_census c;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++c.fds;
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().find("io_uring") != std::string::npos) ++c.rings;
  }
  return c;
}

using test::pattern_bytes;

template <class C>
class UringStream : public ::testing::Test {};
using stream_channels =
    ::testing::Types<pipe_uring_channel, pipe_uring_sqpoll_channel, unix_stream_uring_channel,
                     unix_stream_uring_sqpoll_channel>;
TYPED_TEST_SUITE(UringStream, stream_channels);

// Why the channel type cannot run here (the registry's probe), or nullopt.
template <class C>
std::optional<std::string> unavailable_here() {
  try {
    C::describe();
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

// Both ends in this process (opened as thread peers), the receiver in a thread of its own so
// messages larger than the pipe or socket buffer move: every size arrives byte for byte, in
// both directions. As the harness does, each side keeps its buffers for the endpoint's life
// (a registered buffer is pinned: memory freed and mapped anew at its address would not be
// what the ring reads); a size is registered on its first use and never again.
TYPED_TEST(UringStream, SizesAcrossPipeBufAnd64KiBArriveIntactBothWays) {
  if (auto why = unavailable_here<TypeParam>()) GTEST_SKIP() << *why;
  const auto max = TypeParam::describe().max_message;
  const std::size_t largest = std::min<std::size_t>(1u << 20, max.value_or(1u << 20));
  const fd_census before = census();
  {
    std::vector<std::byte> out[2] = {std::vector<std::byte>(largest),
                                     std::vector<std::byte>(largest)};
    std::vector<std::byte> in[2] = {std::vector<std::byte>(largest),
                                    std::vector<std::byte>(largest)};
    channel_config cfg;
    cfg.peers_are_threads = true;
    TypeParam ch(cfg);
    auto producer = ch.open(role::producer);
    auto consumer = ch.open(role::consumer);
    ch.opened();
    EXPECT_EQ(census().rings, before.rings + 2);
    unsigned seed = 1;
    for (std::size_t size : {1u, 4096u, 4097u, 65536u, 65537u, 1u << 20}) {
      if (size > largest) continue;  // RLIMIT_MEMLOCK: skipped by the harness too
      for (int dir = 0; dir < 2; ++dir) {
        auto& tx = dir == 0 ? producer : consumer;
        auto& rx = dir == 0 ? consumer : producer;
        const std::span<std::byte> sent = std::span(out[dir]).first(size);
        const std::span<std::byte> got = std::span(in[dir]).first(size);
        const auto expected = pattern_bytes(size, ++seed);
        std::copy(expected.begin(), expected.end(), sent.begin());
        std::size_t registrations = 0;
        for (int round = 0; round < 3; ++round) {
          // A span of a new size is registered on its first use, never again after.
          if (round == 1) registrations = tx.registrations() + rx.registrations();
          if (round > 1) {
            EXPECT_EQ(tx.registrations() + rx.registrations(), registrations);
          }
          std::fill(got.begin(), got.end(), std::byte{0});
          std::ptrdiff_t n = 0;
          std::thread reader([&] { n = rx.receive(got); });
          EXPECT_EQ(tx.send(sent), io_status::ok);
          reader.join();
          ASSERT_EQ(n, static_cast<std::ptrdiff_t>(size)) << size;
          ASSERT_TRUE(std::equal(got.begin(), got.end(), expected.begin()))
              << "size " << size << " direction " << dir << " round " << round;
        }
      }
    }
    // One send and one receive buffer each: the spans of every size in one buffer merged.
    for (const auto* ep : {&producer, &consumer}) EXPECT_EQ(ep->registered_buffers(), 2u);
  }
  EXPECT_EQ(census(), before) << "descriptors or rings left behind";
}

// A partner whose end is gone: the receiver's READ completes with 0 (EOF), kPeerGone; the
// sender's WRITE fails with EPIPE or ECONNRESET, closed (SIGPIPE ignored here, as a peer that
// ignores it would see it).
TYPED_TEST(UringStream, AClosedPartnerReadsAsEofAndWritesAsClosed) {
  if (auto why = unavailable_here<TypeParam>()) GTEST_SKIP() << *why;
  const fd_census before = census();
  {
    channel_config cfg;
    cfg.peers_are_threads = true;
    TypeParam ch(cfg);
    std::optional<uring_stream_endpoint> producer(ch.open(role::producer));
    auto consumer = ch.open(role::consumer);
    ch.opened();
    producer.reset();
    std::vector<std::byte> buf(100);
    EXPECT_EQ(consumer.receive(buf), kPeerGone);
    struct sigaction ign {
    }, old{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    const io_status st = consumer.send(buf);
    ::sigaction(SIGPIPE, &old, nullptr);
    EXPECT_EQ(st, io_status::closed);
  }
  EXPECT_EQ(census(), before);
}

// The SQPOLL threads of this process (comm iou-sqp-*) and their Cpus_allowed_list.
std::vector<std::pair<pid_t, std::string>> sqpoll_threads() {
  std::vector<std::pair<pid_t, std::string>> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name.rfind("iou-sqp", 0) != 0) continue;
    std::ifstream status(e.path() / "status");
    std::string line, mask;
    while (std::getline(status, line))
      if (line.rfind("Cpus_allowed_list:", 0) == 0)
        mask = line.substr(line.find_first_not_of(" \t", 18));
    out.emplace_back(std::stoi(e.path().filename().string()), mask);
  }
  return out;
}

// A peer pinned to one CPU (placement cross or same), opened as the harness opens it, has its
// SQPOLL thread pinned beside it (IORING_SETUP_SQ_AFF). Left to the scheduler, the two threads
// of a pair ran each on the other peer's CPU in some repetitions, and the round trip moved 3-4x.
template <class C>
void expect_the_sqpoll_thread_beside_its_peer() {
  if (auto why = unavailable_here<C>()) GTEST_SKIP() << *why;
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "one CPU: every thread runs on it";
  const int cpu = cpus.back();
  std::vector<pid_t> before;
  for (const auto& [tid, mask] : sqpoll_threads()) before.push_back(tid);
  const run_request rq = request_for(C::describe(), run_request{});
  channel_config cfg;
  cfg.peers_are_threads = true;
  C ch(cfg);
  std::vector<std::string> masks;
  std::thread([&] {
    pin_to_cpu(cpu);
    auto producer = open_end(rq, [&] { return ch.open(role::producer); });
    // The thread names itself iou-sqp-PID once it first runs: wait for that, up to 5 s.
    for (int tries = 0; masks.empty() && tries < 500; ++tries) {
      for (const auto& [tid, mask] : sqpoll_threads())
        if (std::find(before.begin(), before.end(), tid) == before.end()) masks.push_back(mask);
      if (masks.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }).join();
  ASSERT_EQ(masks.size(), 1u);
  EXPECT_EQ(masks[0], std::to_string(cpu));
}

TEST(UringSqpoll, ThePipesPollerRunsOnTheCpuOfAPeerPinnedToOne) {
  expect_the_sqpoll_thread_beside_its_peer<pipe_uring_sqpoll_channel>();
}

TEST(UringSqpoll, TheSocketsPollerRunsOnTheCpuOfAPeerPinnedToOne) {
  expect_the_sqpoll_thread_beside_its_peer<unix_stream_uring_sqpoll_channel>();
}

std::optional<std::string> msg_ring_unavailable() {
  return unavailable_here<msg_ring_channel>();
}

// Two threads of one process: each notification reaches the partner's ring, 1000 round trips.
TEST(UringMsgRing, RoundTripsBetweenThreads) {
  if (auto why = msg_ring_unavailable()) GTEST_SKIP() << *why;
  const fd_census before = census();
  {
    channel_config cfg;
    cfg.peers_are_threads = true;
    msg_ring_channel ch(cfg);
    std::optional<msg_ring_endpoint> consumer;
    std::thread t([&] { consumer.emplace(ch.open(role::consumer)); });
    auto producer = ch.open(role::producer);
    t.join();
    ch.opened();
    constexpr int kRounds = 1000;
    std::thread replier([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (consumer->receive({}) != 0) return;
        consumer->send({});
      }
    });
    int done = 0;
    for (; done < kRounds; ++done) {
      ASSERT_EQ(producer.send({}), io_status::ok);
      ASSERT_EQ(producer.receive({}), 0);
    }
    replier.join();
    EXPECT_EQ(done, kRounds);
    consumer.reset();
  }
  EXPECT_EQ(census(), before) << "descriptors or rings left behind";
}

// Forked peers, as the harness runs them: the rings are exchanged by pidfd_getfd, notifications
// round-trip, and when the child exits the parent's waiting receive returns kPeerGone (the watch
// on the link), not a hang.
TEST(UringMsgRing, RoundTripsBetweenProcessesAndSeesThePartnerExit) {
  if (auto why = msg_ring_unavailable()) GTEST_SKIP() << *why;
  const fd_census before = census();
  constexpr int kRounds = 500;
  pid_t child = -1;
  {
    msg_ring_channel ch(channel_config{});
    child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      int rc = 0;
      try {
        auto consumer = ch.open(role::consumer);
        for (int i = 0; i < kRounds; ++i) {
          if (consumer.receive({}) != 0) {
            rc = 2;
            break;
          }
          consumer.send({});
        }
      } catch (...) {
        rc = 3;
      }
      ::_exit(rc);
    }
    auto producer = ch.open(role::producer);
    ch.opened();
    for (int i = 0; i < kRounds; ++i) {
      ASSERT_EQ(producer.send({}), io_status::ok);
      ASSERT_EQ(producer.receive({}), 0) << "round " << i;
    }
    // The child has exited after its last reply: the next wait ends with the partner gone.
    EXPECT_EQ(producer.receive({}), kPeerGone);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(census(), before) << "descriptors or rings left behind";
}

// io_uring.eventfd between two threads of one process, then between forked processes: every
// notification's READ completes on the waiting peer's ring, 1000 round trips each way.
TEST(UringEventfd, RoundTripsBetweenThreadsAndProcesses) {
  if (auto why = unavailable_here<uring_eventfd_channel>()) GTEST_SKIP() << *why;
  const fd_census before = census();
  constexpr int kRounds = 1000;
  {
    channel_config cfg;
    cfg.peers_are_threads = true;
    uring_eventfd_channel ch(cfg);
    std::optional<uring_eventfd_endpoint> consumer;
    std::thread t([&] {
      consumer.emplace(ch.open(role::consumer));
      for (int i = 0; i < kRounds; ++i) {
        if (consumer->receive({}) != 0) return;
        consumer->send({});
      }
    });
    auto producer = ch.open(role::producer);
    int done = 0;
    for (; done < kRounds; ++done) {
      ASSERT_EQ(producer.send({}), io_status::ok);
      ASSERT_EQ(producer.receive({}), 0);
    }
    t.join();
    ch.opened();
    EXPECT_EQ(done, kRounds);
  }
  EXPECT_EQ(census(), before) << "descriptors or rings left behind (threads)";
  pid_t child = -1;
  {
    uring_eventfd_channel ch(channel_config{});
    child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      int rc = 0;
      try {
        auto consumer = ch.open(role::consumer);
        for (int i = 0; i < kRounds && rc == 0; ++i) {
          if (consumer.receive({}) != 0) rc = 2;
          consumer.send({});
        }
      } catch (...) {
        rc = 3;
      }
      ::_exit(rc);
    }
    auto producer = ch.open(role::producer);
    ch.opened();
    for (int i = 0; i < kRounds; ++i) {
      ASSERT_EQ(producer.send({}), io_status::ok);
      ASSERT_EQ(producer.receive({}), 0) << "round " << i;
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(census(), before) << "descriptors or rings left behind (processes)";
}

#endif  // IPCBENCH_HAVE_URING

}  // namespace
}  // namespace ipcbench
