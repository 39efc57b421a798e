// The in-place shared-memory variants (shm_inplace_ring.hpp) beyond the contract suite: a record
// never wraps round the ring's end (a wrap line sends the receiver to the start), also when the
// positions wrap round 2^32; the largest message the ring allows round-trips between processes
// and one byte more is refused; the receiver's check sees the message in the ring and the space
// is released only after it; a byte damaged in the ring is caught in place, also in a record
// right after a wrap line; a damaged length line is an error, not a read beyond the ring.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/message.hpp"
#include "mechanisms/shm/posix_shm_inplace.hpp"
#include "registry/registry.hpp"
#include "shm_view.hpp"
#include "sys/child.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

constexpr std::uint32_t kMask = shm::kRingBytes - 1;
constexpr std::uint32_t kStart = 0u - 64u * 5000u;  // near 2^32, on a line

using test::pattern_bytes;

using test::load;
using test::map_view;

template <class C>
class ShmInplace : public ::testing::Test {};
using inplace_channels =
    ::testing::Types<posix_shm_inplace_channel<futex_sync>, posix_shm_inplace_channel<spin_sync>>;
TYPED_TEST_SUITE(ShmInplace, inplace_channels);

// Both ends in this process, one message at a time: the check sees every message whole inside
// ring 0, byte for byte what was sent, and the tail still where it was until the check returns.
TYPED_TEST(ShmInplace, RecordsNeverWrapAndAreReleasedAfterTheCheck) {
  private_dir dir;
  TypeParam ch(channel_config{0, pattern::latency, &dir});
  auto view = map_view(ch);
  auto* hdr = reinterpret_cast<shm::segment_header*>(view.data());
  hdr->ring[0].head = hdr->ring[0].tail = kStart;  // the positions wrap round 2^32 too
  // The endpoints map the segment themselves: ring 0 in their mapping is found from the first
  // record, which starts at the tail (an empty ring, no wrap line); the view must show the same
  // bytes at the same offsets.
  const std::byte* view_ring = view.data() + shm::kHeaderBytes;
  const std::byte* ring = nullptr;
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  unsigned seed = 0, wraps = 0;
  std::uint32_t last_at = 0;
  // One thread sends and receives: every record, with a wrap line before it, fits the ring
  // before the receiver has read that line (at most half the ring each); the largest message
  // needs the partner to skip the wrap line first (the next test).
  const std::size_t sizes[] = {0, 1, 63, 64, 65, 4095, 100'000, 70'001, 123'457, 131'008, 3, 8};
  for (int lap = 0; lap < 6; ++lap) {
    for (std::size_t size : sizes) {
      const auto msg = pattern_bytes(size, ++seed);
      ASSERT_EQ(producer.send(msg), io_status::ok);
      const std::uint32_t tail_before = load(hdr->ring[0].tail);
      bool called = false;
      auto check = [&](std::span<const std::byte> got) {
        called = true;
        ASSERT_EQ(got.size(), size);
        if (ring == nullptr) ring = got.data() - ((tail_before & kMask) + shm::kPayloadAlign);
        const std::uint32_t at = static_cast<std::uint32_t>(got.data() - ring);
        EXPECT_GE(got.data(), ring + shm::kPayloadAlign);
        EXPECT_LE(at + size, shm::kRingBytes) << "record of " << size << " wraps";
        EXPECT_EQ(at % shm::kPayloadAlign, 0u);
        EXPECT_TRUE(std::equal(msg.begin(), msg.end(), got.begin())) << size;
        if (at + size <= shm::kRingBytes) {
          EXPECT_TRUE(std::equal(msg.begin(), msg.end(), view_ring + at)) << "not in the ring";
        }
        EXPECT_EQ(load(hdr->ring[0].tail), tail_before) << "released before the check";
        if (at < last_at) ++wraps;
        last_at = at;
      };
      ASSERT_EQ(consumer.receive_in_place(check), static_cast<std::ptrdiff_t>(size));
      EXPECT_TRUE(called);
      EXPECT_NE(load(hdr->ring[0].tail), tail_before) << "not released";
      EXPECT_EQ(load(hdr->ring[0].tail), load(hdr->ring[0].head));
    }
  }
  EXPECT_GE(wraps, 6u);
  EXPECT_LT(load(hdr->ring[0].head), kStart) << "the positions did not wrap round 2^32";
}

// The largest message round-trips between processes, several in a row so they meet the ring's
// end in both rings; one byte more is refused by the sender, not clamped.
TYPED_TEST(ShmInplace, LargestMessageRoundTripsAndOneMoreIsRefused) {
  const std::size_t before = test::kernel_objects();
  {
    private_dir dir;
    TypeParam ch(channel_config{0, pattern::latency, &dir});
    const std::size_t size = TypeParam::endpoint::kMaxMessage;
    constexpr int kCount = 5;
    auto child = child_process::fork([&ch, size]() -> int {
      auto ep = ch.open(role::consumer);
      std::vector<std::byte> buf(size);
      for (int i = 0; i < kCount; ++i) {
        const std::ptrdiff_t n = ep.receive(buf);
        if (n < 0) return 2;
        if (ep.send({buf.data(), static_cast<std::size_t>(n)}) != io_status::ok) return 3;
      }
      return 0;
    });
    auto ep = ch.open(role::producer);
    for (unsigned i = 0; i < kCount; ++i) {
      const auto msg = pattern_bytes(i % 2 == 0 ? size : 1000, i);
      if (msg.size() != size) {  // a small one between, so the big ones start mid-ring
        ASSERT_EQ(ep.send(msg), io_status::ok);
        std::vector<std::byte> back(size);
        ASSERT_EQ(ep.receive(back), static_cast<std::ptrdiff_t>(msg.size()));
        EXPECT_TRUE(std::equal(msg.begin(), msg.end(), back.begin())) << "message " << i;
        continue;
      }
      ASSERT_EQ(ep.send(msg), io_status::ok);
      bool same = false;
      auto check = [&](std::span<const std::byte> got) {
        same = std::equal(msg.begin(), msg.end(), got.begin(), got.end());
      };
      ASSERT_EQ(ep.receive_in_place(check), static_cast<std::ptrdiff_t>(size));
      EXPECT_TRUE(same) << "message " << i;
      if (i == 0) ch.opened();
    }
    const auto st = child.wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << describe_wait_status(*st);
    EXPECT_THROW(ep.send(pattern_bytes(size + 1, 0)), std::length_error);
  }
  EXPECT_EQ(test::kernel_objects(), before);
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(ShmInplaceRegistry, IdsDeclareTheRingLimitAndCheckInPlace) {
  for (const char* id : {"posix_shm.futex.inplace", "posix_shm.spin.inplace"}) {
    const mechanism_entry* m = find_mechanism(id);
    ASSERT_NE(m, nullptr) << id;
    EXPECT_EQ(m->traits.id, id);
    EXPECT_EQ(m->traits.mechanism, "posix_shm");
    EXPECT_EQ(m->traits.verification, "in place") << id;
    ASSERT_TRUE(m->traits.max_message.has_value());
    EXPECT_EQ(*m->traits.max_message, shm::kRingBytes - shm::kPayloadAlign);
    EXPECT_TRUE(m->can_spawn);
    EXPECT_TRUE(m->traits.no_thread_peers.empty()) << id;
  }
}

// A byte changed in the ring between send and receive is caught by the check in place: the first
// and last 8 bytes carry the sequence number (sequence), the body the pattern (corrupted). The
// damaged message is one written at the ring's start after a wrap line.
class ShmInplaceCorruption : public ::testing::TestWithParam<int> {};
enum inplace_spot { kFirstRecord, kMiddleRecord, kLastRecord };

TEST_P(ShmInplaceCorruption, CheckInPlaceCatchesAByteChangedInTheRing) {
  private_dir dir;
  posix_shm_inplace_channel<futex_sync> ch(channel_config{0, pattern::latency, &dir});
  auto view = map_view(ch);
  auto* hdr = reinterpret_cast<shm::segment_header*>(view.data());
  std::byte* ring = view.data() + shm::kHeaderBytes;
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  constexpr std::size_t kSize = 100'000;
  message_codec tx(kSize), rx(kSize);
  for (std::uint64_t seq = 0; seq < 10; ++seq) {
    const std::uint32_t head = load(hdr->ring[0].head);
    const bool after_wrap = (head & kMask) + shm::kPayloadAlign + kSize > shm::kRingBytes;
    ASSERT_EQ(producer.send_loaned(kSize, message_writer{&tx, seq}), io_status::ok);
    in_place_check c{&rx, seq};
    if (!after_wrap) {
      ASSERT_EQ(consumer.receive_in_place(c), static_cast<std::ptrdiff_t>(kSize));
      ASSERT_EQ(c.result, integrity_error::none) << seq;
      continue;
    }
    std::uint64_t marker = 0;
    std::memcpy(&marker, ring + (head & kMask), sizeof marker);
    EXPECT_EQ(marker, ~std::uint64_t{0}) << "no wrap line where the record did not fit";
    std::size_t k = 0;
    integrity_error expected = integrity_error::corrupted;
    switch (GetParam()) {
      case kFirstRecord:
        expected = integrity_error::sequence;
        break;
      case kMiddleRecord:
        k = kSize / 2;
        break;
      case kLastRecord:
        k = kSize - 1;
        expected = integrity_error::sequence;
        break;
    }
    ring[shm::kPayloadAlign + k] ^= std::byte{0x5A};  // the record starts at ring offset 0
    ASSERT_EQ(consumer.receive_in_place(c), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_EQ(c.result, expected) << "byte " << k << " of message " << seq;
    // The next message, in the space just released, is whole again.
    ASSERT_EQ(producer.send_loaned(kSize, message_writer{&tx, seq + 1}), io_status::ok);
    in_place_check next{&rx, seq + 1};
    ASSERT_EQ(consumer.receive_in_place(next), static_cast<std::ptrdiff_t>(kSize));
    EXPECT_EQ(next.result, integrity_error::none);
    return;
  }
  FAIL() << "no message was written after a wrap line";
}

std::string inplace_spot_name(const ::testing::TestParamInfo<int>& info) {
  static const char* const kNames[] = {"First", "Middle", "Last"};
  return kNames[info.param];
}

INSTANTIATE_TEST_SUITE_P(Ring, ShmInplaceCorruption,
                         ::testing::Values(kFirstRecord, kMiddleRecord, kLastRecord),
                         inplace_spot_name);

// A length line that claims more than the ring holds after it is refused before anything is read.
TEST(ShmInplaceDamage, LengthBeyondTheRingIsAnError) {
  private_dir dir;
  posix_shm_inplace_channel<futex_sync> ch(channel_config{0, pattern::latency, &dir});
  auto view = map_view(ch);
  std::byte* ring = view.data() + shm::kHeaderBytes;
  auto producer = ch.open(role::producer);
  auto consumer = ch.open(role::consumer);
  ch.opened();
  ASSERT_EQ(producer.send(pattern_bytes(100, 1)), io_status::ok);
  const std::uint64_t bogus = shm::kRingBytes;
  std::memcpy(ring, &bogus, sizeof bogus);
  auto never = [](std::span<const std::byte>) { ADD_FAILURE() << "checked a damaged record"; };
  EXPECT_THROW(consumer.receive_in_place(never), std::length_error);
}

}  // namespace
}  // namespace ipcbench
