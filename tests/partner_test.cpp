// Mechanisms whose wait cannot see EOF (semaphores, futex, real-time signals) use timed waits
// that check the partner: a peer whose partner died must come back with kPeerGone on its own,
// within a few checks, not wait for the coordinator's watchdog.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "mechanisms/notify/futex.hpp"
#include "mechanisms/notify/posix_sem.hpp"
#include "mechanisms/notify/signal.hpp"
#include "mechanisms/notify/sysv_sem.hpp"
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

template <class C>
class DeadPartner : public ::testing::Test {};

using timed_wait_channels =
    ::testing::Types<sysv_sem_channel, posix_sem_channel, futex_channel, rt_signal_channel>;
TYPED_TEST_SUITE(DeadPartner, timed_wait_channels);

TYPED_TEST(DeadPartner, WaiterNoticesWithoutTheWatchdog) {
  const std::size_t objects_before = test::kernel_objects();
  {
    private_dir dir;
    const std::size_t size = TypeParam::describe().max_message.value_or(1) > 0 ? 1 : 0;
    TypeParam ch(channel_config{size, pattern::latency, &dir});
    // The producer opens its end and dies at once, without a word.
    auto producer = child_process::fork([&] {
      auto ep = ch.open(role::producer);
      return 0;
    });
    // The consumer waits for a message that never comes; exit 0 means receive() said kPeerGone.
    auto consumer = child_process::fork([&] {
      auto ep = ch.open(role::consumer);
      std::vector<std::byte> buf(size);
      return ep.receive(buf) == kPeerGone ? 0 : 1;
    });
    // Both open before the channel may drop its names (as the coordinator does).
    ASSERT_TRUE(producer.wait_for(std::chrono::seconds(10)));
    ch.opened();
    const auto t0 = std::chrono::steady_clock::now();
    const auto st = consumer.wait_for(std::chrono::seconds(5));
    ASSERT_TRUE(st) << "the consumer is still waiting on a dead producer";
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
  EXPECT_TRUE(test::kernel_objects_back_to(objects_before));
  EXPECT_TRUE(test::no_children());
}

}  // namespace
}  // namespace ipcbench
