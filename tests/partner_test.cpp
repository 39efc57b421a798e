// Mechanisms whose wait cannot see EOF (semaphores, futex, real-time signals) wait untimed: a
// dead partner is the coordinator's to find (PeerFaults in fault_test.cpp: the run fails with
// the reason, both peers killed and reaped, nothing left). Here, without a coordinator: a peer
// whose partner died stays asleep in its wait (no timer wakes it), and killing it as the
// coordinator does, then dropping the channel, leaves no kernel object behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "mechanisms/notify/futex.hpp"
#include "mechanisms/notify/posix_sem.hpp"
#include "mechanisms/notify/signal.hpp"
#include "mechanisms/notify/sysv_sem.hpp"
#include "sys/child.hpp"
#include "sys/mapping.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

template <class C>
class DeadPartner : public ::testing::Test {};

using untimed_wait_channels =
    ::testing::Types<sysv_sem_channel, posix_sem_channel, futex_channel, rt_signal_channel>;
TYPED_TEST_SUITE(DeadPartner, untimed_wait_channels);

TYPED_TEST(DeadPartner, WaiterSleepsOnUntilTheCoordinatorKillsIt) {
  const std::size_t objects_before = test::kernel_objects();
  {
    private_dir dir;
    const std::size_t size = TypeParam::describe().max_message.value_or(1) > 0 ? 1 : 0;
    TypeParam ch(channel_config{size, pattern::latency, &dir, false});
    // The producer opens its end and dies at once, without a word.
    auto producer = child_process::fork([&] {
      [[maybe_unused]] auto ep = ch.open(role::producer);
      return 0;
    });
    // The consumer waits for a message that never comes; any return from receive() is a
    // failure (exit 1): the wait has no timer. It says when its end is open, since opened()
    // may remove the names it opens by (on a loaded machine the fork can be slow).
    shared_page<std::atomic<int>> is_open;
    auto consumer = child_process::fork([&] {
      auto ep = ch.open(role::consumer);
      is_open->store(1);
      std::vector<std::byte> buf(size);
      (void)ep.receive(buf);
      return 1;
    });
    ASSERT_TRUE(producer.wait_for(std::chrono::seconds(10)));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (is_open->load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(is_open->load(), 1) << "the consumer did not open its end";
    ch.opened();
    // Still asleep well past the 100 ms its wait used to be cut into.
    EXPECT_FALSE(consumer.wait_for(std::chrono::milliseconds(400)))
        << "the consumer returned from its wait on a dead producer";
    consumer.kill_and_reap();
  }
  EXPECT_TRUE(test::kernel_objects_back_to(objects_before));
  EXPECT_TRUE(test::no_children());
}

}  // namespace
}  // namespace ipcbench
