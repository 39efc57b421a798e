// Mechanisms that rendezvous by name (named_channel): an unrelated process attaches to the
// channel with nothing but rendezvous()'s JSON. Here both ends attach in this one process and
// exchange a message each way, then the channel goes away leaving nothing behind.
#include <gtest/gtest.h>

#include <vector>

#include "harness/message.hpp"
#include "mechanisms/queues/posix_mq.hpp"
#include "mechanisms/queues/sysv_mq.hpp"
#include "mechanisms/sockets/udp.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

template <class C>
class Named : public ::testing::Test {};

using named_channels = ::testing::Types<sysv_mq_channel, posix_mq_channel, udp_channel>;
TYPED_TEST_SUITE(Named, named_channels);

TYPED_TEST(Named, UnrelatedPeersAttachByRendezvous) {
  static_assert(named_channel<TypeParam>);
  const std::size_t objects_before = test::kernel_objects();
  {
    constexpr std::size_t kSize = 100;
    private_dir dir;
    TypeParam ch(channel_config{kSize, pattern::latency, &dir});
    // The JSON is all an unrelated process gets: round-trip it through text.
    const auto where = nlohmann::json::parse(ch.rendezvous().dump());
    auto producer = TypeParam::attach(where, role::producer);
    auto consumer = TypeParam::attach(where, role::consumer);
    ch.opened();

    // The harness's buffers, with the headroom the endpoint asks for (sysv_mq: its mtype).
    message_codec codec(kSize, endpoint_headroom<decltype(producer)>);
    std::vector<std::byte> storage = codec.make_receive_buffer();
    const std::span<std::byte> buf = codec.receive_span(storage);
    ASSERT_EQ(producer.send(codec.stamp(1)), io_status::ok);
    ASSERT_EQ(consumer.receive(buf), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_EQ(codec.check(buf, 1), integrity_error::none);
    ASSERT_EQ(consumer.send(codec.stamp(2)), io_status::ok);
    ASSERT_EQ(producer.receive(buf), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_EQ(codec.check(buf, 2), integrity_error::none);
  }
  EXPECT_TRUE(test::kernel_objects_back_to(objects_before));
  EXPECT_TRUE(test::leftovers().empty());
}

}  // namespace
}  // namespace ipcbench
