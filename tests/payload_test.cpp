// Payload paths of two message mechanisms beyond the contract suite: System V queues send and
// receive in place, in the headroom the harness leaves before each message (no staging copy,
// nothing written outside headroom and message, a message longer than the buffer refused); the
// real-time signal carries 8 bytes in its sigval, checked like any message, at the sizes it
// declares (0 and 8).
#include <gtest/gtest.h>
#include <sys/msg.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "harness/message.hpp"
#include "harness/peer.hpp"
#include "mechanisms/notify/signal.hpp"
#include "mechanisms/queues/sysv_mq.hpp"
#include "sys/child.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

TEST(SysvMq, DeclaresItsMtypeAsHeadroom) {
  EXPECT_EQ(endpoint_headroom<sysv_mq_endpoint>, sizeof(long));
  // Everything else gets plain spans.
  EXPECT_EQ(endpoint_headroom<rt_signal_endpoint>, 0u);
}

TEST(SysvMq, SendsAndReceivesInPlace) {
  const std::size_t before = test::kernel_objects();
  {
    constexpr std::size_t kSize = 300;
    constexpr std::size_t kGuard = 16;
    private_dir dir;
    sysv_mq_channel ch(channel_config{kSize, pattern::latency, &dir});
    auto producer = ch.open(role::producer);
    auto consumer = ch.open(role::consumer);
    // guard | headroom | message | guard, in one buffer per side.
    const std::size_t h = sysv_mq_endpoint::kHeadroom;
    std::vector<std::byte> out(kGuard + h + kSize + kGuard, std::byte{0xEE});
    std::vector<std::byte> in(out.size(), std::byte{0xEE});
    const std::span<std::byte> msg(out.data() + kGuard + h, kSize);
    const std::span<std::byte> buf(in.data() + kGuard + h, kSize);
    for (std::size_t i = 0; i < kSize; ++i) msg[i] = static_cast<std::byte>(i * 7);
    ASSERT_EQ(producer.send(msg), io_status::ok);
    // The producer's type (1) went into the headroom; the message is untouched.
    long type = 0;
    std::memcpy(&type, out.data() + kGuard, h);
    EXPECT_EQ(type, 1);
    ASSERT_EQ(consumer.receive(buf), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), buf.begin()));
    // msgrcv wrote the type into the receiver's headroom: the bytes arrived in place.
    std::memcpy(&type, in.data() + kGuard, h);
    EXPECT_EQ(type, 1);
    for (const auto* v : {&out, &in}) {
      EXPECT_TRUE(std::all_of(v->begin(), v->begin() + kGuard,
                              [](std::byte b) { return b == std::byte{0xEE}; }));
      EXPECT_TRUE(std::all_of(v->end() - kGuard, v->end(),
                              [](std::byte b) { return b == std::byte{0xEE}; }));
    }
    // A message longer than the receive buffer stays queued and is refused, never cut short.
    ASSERT_EQ(consumer.send(msg), io_status::ok);
    EXPECT_THROW(producer.receive(buf.first(kSize - 1)), std::length_error);
    EXPECT_EQ(producer.receive(buf), static_cast<std::ptrdiff_t>(kSize));
  }
  EXPECT_TRUE(test::kernel_objects_back_to(before));
}

// The harness's buffers (peer_state, message_codec) carry the endpoint's headroom.
TEST(SysvMq, HarnessBuffersLeaveTheHeadroom) {
  peer_state s(100, endpoint_headroom<sysv_mq_endpoint>);
  EXPECT_EQ(s.rbuf.size(), 100u);
  EXPECT_EQ(s.rbuf.data() - s.rbuf_storage.data(), static_cast<std::ptrdiff_t>(sizeof(long)));
  message_codec codec(100, sizeof(long));
  for (std::uint64_t seq : {0, 1}) {
    const auto m = codec.stamp(seq);
    EXPECT_EQ(m.size(), 100u);
    EXPECT_EQ(codec.check(m, seq), integrity_error::none);
  }
}

TEST(Signal, RunsAtZeroAndEightBytes) {
  const auto t = rt_signal_channel::describe();
  EXPECT_EQ(t.sizes, (std::vector<std::size_t>{0, 8}));
  EXPECT_EQ(t.max_message, std::optional<std::size_t>(8));
}

TEST(Signal, CarriesEightBytesInTheSigval) {
  private_dir dir;
  rt_signal_channel ch(channel_config{8, pattern::latency, &dir, false});
  // The consumer checks message 5 and replies, then sends one more 8-byte message.
  auto child = child_process::fork([&ch]() -> int {
    message_codec codec(8);
    auto ep = ch.open(role::consumer);
    std::vector<std::byte> buf(8);
    if (ep.receive(buf) != 8) return 2;
    if (codec.check(buf, 5) != integrity_error::none) return 3;
    if (ep.send(codec.stamp(reply_sequence(5))) != io_status::ok) return 4;
    return ep.send(codec.stamp(6)) == io_status::ok ? 0 : 5;
  });
  message_codec codec(8);
  auto ep = ch.open(role::producer);
  ASSERT_EQ(ep.send(codec.stamp(5)), io_status::ok);
  std::vector<std::byte> buf(8);
  ASSERT_EQ(ep.receive(buf), 8);
  EXPECT_EQ(codec.check(buf, reply_sequence(5)), integrity_error::none);
  std::vector<std::byte> small(7);
  EXPECT_THROW(ep.receive(small), std::length_error);  // 8 bytes do not fit 7
  const auto st = child.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
}

}  // namespace
}  // namespace ipcbench
