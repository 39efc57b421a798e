// The policies built on pthread primitives and unnamed semaphores in an object of their own
// (mechanisms/shm/sync_object.hpp), beyond the contract suite: many round trips and a stream
// whose sender blocks for space lose no wake-up, between processes (process-shared primitives)
// and between two threads of one process (process-private ones, the form --peers threads uses);
// an unrelated process cannot attach to process-private primitives; unnamed semaphores' counts
// do not drift; the registry describes each with the form of its primitives.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mechanisms/shm/posix_shm.hpp"
#include "registry/registry.hpp"
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

constexpr int kRoundTrips = 4000;
constexpr int kStreamed = 300;
constexpr std::size_t kStreamBytes = 100 * 1024;  // more than a chunk: the sender waits for space
constexpr std::size_t kPthreadSizes[] = {1, 64, 4095, 4097, 65537};

using test::pattern_bytes;

// Ping-pong of every size in turn, then a stream the consumer acknowledges at the end. 0: all
// intact; otherwise which step failed.
template <class Endpoint>
int producer_side(Endpoint& ep) {
  std::vector<std::byte> back(kStreamBytes);
  for (int i = 0; i < kRoundTrips; ++i) {
    const std::size_t n = kPthreadSizes[i % std::size(kPthreadSizes)];
    const auto msg = pattern_bytes(n, static_cast<unsigned>(i));
    if (ep.send(msg) != io_status::ok) return 10;
    if (ep.receive(back) != static_cast<std::ptrdiff_t>(n)) return 11;
    if (std::memcmp(back.data(), msg.data(), n) != 0) return 12;
  }
  for (int i = 0; i < kStreamed; ++i)
    if (ep.send(pattern_bytes(kStreamBytes, static_cast<unsigned>(i))) != io_status::ok) return 13;
  if (ep.receive(back) != 1) return 14;
  return 0;
}

template <class Endpoint>
int consumer_side(Endpoint& ep) {
  std::vector<std::byte> buf(kStreamBytes);
  for (int i = 0; i < kRoundTrips; ++i) {
    const std::ptrdiff_t n = ep.receive(buf);
    if (n <= 0) return 20;
    if (ep.send(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n))) !=
        io_status::ok)
      return 21;
  }
  for (int i = 0; i < kStreamed; ++i) {
    if (ep.receive(buf) != static_cast<std::ptrdiff_t>(kStreamBytes)) return 22;
    if (buf != pattern_bytes(kStreamBytes, static_cast<unsigned>(i))) return 23;
  }
  return ep.send(std::span<const std::byte>(buf.data(), 1)) == io_status::ok ? 0 : 24;
}

// Waits for `c` with a deadline (a lost wake-up hangs; the handle kills it), expects exit 0.
void expect_clean_exit(child_process& c, const char* who) {
  const auto st = c.wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(st.has_value()) << who << " hung: a lost wake-up?";
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << who << ": " << describe_wait_status(*st);
}

template <class S>
class ShmPthread : public ::testing::Test {};

using policies = ::testing::Types<mutex_cond_sync, spinlock_sync, rwlock_sync, unnamed_sem_sync>;
TYPED_TEST_SUITE(ShmPthread, policies);

// Both peers forked, as the harness runs them, each opening its end after fork; the test
// process only waits, so a hang is a failure, not a hung test.
TYPED_TEST(ShmPthread, NoLostWakeUpBetweenProcesses) {
  const std::size_t before = test::kernel_objects();
  {
    private_dir dir;
    posix_shm_channel<TypeParam> ch(channel_config{0, pattern::latency, &dir});
    EXPECT_EQ(ch.rendezvous().at("sync").at("pshared").template get<std::string>(),
              "PTHREAD_PROCESS_SHARED");
    auto consumer = child_process::fork([&ch]() -> int {
      auto ep = ch.open(role::consumer);
      return consumer_side(ep);
    });
    auto producer = child_process::fork([&ch]() -> int {
      auto ep = ch.open(role::producer);
      return producer_side(ep);
    });
    expect_clean_exit(producer, "producer");
    expect_clean_exit(consumer, "consumer");
  }
  EXPECT_EQ(test::kernel_objects(), before);
}

// Thread peers: the channel made with peers_are_threads (process-private primitives), both ends
// opened by two threads of one process (a forked child here, so that a hang can be killed). The
// coordinator's mapping is the one both threads use: a second mapping would split the private
// futexes.
TYPED_TEST(ShmPthread, NoLostWakeUpBetweenThreadPeers) {
  const std::size_t before = test::kernel_objects();
  {
    private_dir dir;
    channel_config cfg{0, pattern::latency, &dir};
    cfg.peers_are_threads = true;
    posix_shm_channel<TypeParam> ch(cfg);
    const nlohmann::json rv = ch.rendezvous();
    EXPECT_EQ(rv.at("sync").at("pshared").template get<std::string>(), "PTHREAD_PROCESS_PRIVATE");
    // Process-private primitives are no use to another process.
    EXPECT_THROW(posix_shm_channel<TypeParam>::attach(rv, role::producer), std::invalid_argument);
    auto both = child_process::fork([&ch]() -> int {
      int consumer_rc = -1;
      std::thread consumer([&] {
        auto ep = ch.open(role::consumer);
        consumer_rc = consumer_side(ep);
      });
      auto ep = ch.open(role::producer);
      const int producer_rc = producer_side(ep);
      consumer.join();
      return producer_rc != 0 ? producer_rc : consumer_rc;
    });
    expect_clean_exit(both, "thread peers");
    ch.opened();
  }
  EXPECT_EQ(test::kernel_objects(), before);
}

// Every post is taken exactly once: after both peers are done, with both idle, every unnamed
// semaphore is back at zero.
TEST(ShmPthreadSemaphores, UnnamedCountsDoNotDrift) {
  private_dir dir;
  posix_shm_channel<unnamed_sem_sync> ch(channel_config{64, pattern::latency, &dir});
  const auto object = ch.rendezvous().at("sync").at("object").get<std::string>();
  auto consumer = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::consumer);
    return consumer_side(ep);
  });
  auto producer = child_process::fork([&ch]() -> int {
    auto ep = ch.open(role::producer);
    return producer_side(ep);
  });
  expect_clean_exit(producer, "producer");
  expect_clean_exit(consumer, "consumer");
  const int fd = ::shm_open(object.c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0) << object;
  void* p =
      ::mmap(nullptr, sizeof(unnamed_sem_sync::state), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED);
  auto* st = static_cast<unnamed_sem_sync::state*>(p);
  for (int b = 0; b < shm::kBells; ++b) {
    int v = -1;
    EXPECT_EQ(::sem_getvalue(&st->bells[b].sem, &v), 0);
    EXPECT_EQ(v, 0) << "bell " << b;
  }
  ::munmap(p, sizeof(unnamed_sem_sync::state));
}

TEST(ShmPthreadRegistry, EachSaysWhichFormOfItsPrimitivesItUses) {
  for (const char* id : {"posix_shm.mutex_cond", "posix_shm.spinlock", "posix_shm.rwlock",
                         "posix_shm.unnamed_sem"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id;
    EXPECT_TRUE(m->unavailable.empty()) << id << ": " << m->unavailable;
    EXPECT_EQ(m->traits.kind, channel_kind::shared_memory) << id;
    EXPECT_FALSE(m->traits.related_only) << id;
    EXPECT_TRUE(m->can_spawn) << id;
    EXPECT_FALSE(m->traits.wait.empty()) << id;
    ASSERT_EQ(m->traits.notes.count("pshared"), 1u) << id;
    EXPECT_NE(m->traits.notes.at("pshared").find("threads of one process"), std::string::npos)
        << id;
  }
}

}  // namespace
}  // namespace ipcbench
