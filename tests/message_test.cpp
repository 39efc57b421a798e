#include "harness/message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipcbench {
namespace {

std::vector<std::byte> copy_of(std::span<const std::byte> s) {
  return {s.begin(), s.end()};
}

class MessageCheck : public ::testing::TestWithParam<std::size_t> {};

TEST_P(MessageCheck, IntactMessagePasses) {
  message_codec tx(GetParam()), rx(GetParam());
  for (std::uint64_t seq = 0; seq < 4; ++seq)
    EXPECT_EQ(rx.check(tx.stamp(seq), seq), integrity_error::none);
}

TEST_P(MessageCheck, DroppedMessageIsDetected) {
  message_codec tx(GetParam()), rx(GetParam());
  auto m1 = copy_of(tx.stamp(1));  // message 0 was lost
  EXPECT_NE(rx.check(m1, 0), integrity_error::none);
}

TEST_P(MessageCheck, DuplicateIsDetected) {
  message_codec tx(GetParam()), rx(GetParam());
  auto m0 = copy_of(tx.stamp(0));
  EXPECT_EQ(rx.check(m0, 0), integrity_error::none);
  EXPECT_NE(rx.check(m0, 1), integrity_error::none);
}

TEST_P(MessageCheck, ReorderIsDetected) {
  message_codec tx(GetParam()), rx(GetParam());
  auto m0 = copy_of(tx.stamp(0));
  auto m1 = copy_of(tx.stamp(1));
  EXPECT_NE(rx.check(m1, 0), integrity_error::none);
  EXPECT_NE(rx.check(m0, 1), integrity_error::none);
}

TEST_P(MessageCheck, TruncationIsDetected) {
  const std::size_t n = GetParam();
  message_codec tx(n), rx(n);
  auto m = copy_of(tx.stamp(0));
  m.pop_back();
  EXPECT_EQ(rx.check(m, 0), integrity_error::truncated);
  m.resize(n + 1);
  EXPECT_EQ(rx.check(m, 0), integrity_error::truncated);
}

TEST_P(MessageCheck, EveryCorruptedByteIsDetected) {
  const std::size_t n = GetParam();
  message_codec tx(n), rx(n);
  const auto good = copy_of(tx.stamp(5));
  // Sample positions across the message, including header, body and trailer.
  for (std::size_t pos : {std::size_t{0}, n / 3, n / 2, n - 1}) {
    auto bad = good;
    bad[pos] ^= std::byte{0x10};
    EXPECT_NE(rx.check(bad, 5), integrity_error::none) << "byte " << pos << " of " << n;
  }
}

TEST(MessageCodec, StaleBodyFromPreviousMessageIsDetected) {
  // A shared-memory slot that got the new header and trailer but kept the previous body.
  for (std::size_t n : {40, 64, 4096, 65536}) {
    message_codec tx(n), rx(n);
    auto old = copy_of(tx.stamp(6));
    auto fresh = copy_of(tx.stamp(7));
    std::copy(fresh.begin(), fresh.begin() + 16, old.begin());
    std::copy(fresh.end() - 8, fresh.end(), old.end() - 8);
    EXPECT_EQ(rx.check(old, 7), integrity_error::corrupted) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, MessageCheck,
                         ::testing::Values(1, 2, 8, 9, 15, 16, 31, 32, 33, 64, 4095, 4096, 4097,
                                           65536, 1 << 20));

TEST(IntegrityTally, CountsByKind) {
  integrity_tally t;
  t.add(integrity_error::none, 0);
  t.add(integrity_error::corrupted, 3);
  t.add(integrity_error::sequence, 4);
  t.add(integrity_error::corrupted, 5);
  EXPECT_EQ(t.total(), 3u);
  EXPECT_EQ(t.first(), "corrupted at message 3");
  EXPECT_EQ(t.summary(),
            "3 integrity error(s): 1 lost/duplicated/reordered, 2 corrupted; first: corrupted at "
            "message 3");
}

}  // namespace
}  // namespace ipcbench
