#include "harness/message.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
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

TEST_P(MessageCheck, EchoedRequestIsNotAReply) {
  // An endpoint that handed the producer back its own request must not pass.
  message_codec tx(GetParam()), rx(GetParam());
  for (std::uint64_t seq : {0u, 1u, 255u, 256u, 1000u}) {
    const auto request = copy_of(tx.stamp(seq));
    EXPECT_NE(rx.check(request, reply_sequence(seq)), integrity_error::none) << seq;
    EXPECT_EQ(rx.check(tx.stamp(reply_sequence(seq)), reply_sequence(seq)), integrity_error::none);
  }
}

// The "header only" payload mode: the header alone is written, and checked; the body is left as
// it was, which the full check then refuses.
TEST_P(MessageCheck, HeaderOnlyWritesAndChecksTheHeaderAlone) {
  const std::size_t n = GetParam();
  message_codec tx(n), rx(n);
  std::vector<std::byte> buf(n, std::byte{0});
  tx.write_header(buf, 5);
  EXPECT_EQ(rx.check_header(buf, 5), integrity_error::none);
  EXPECT_EQ(rx.check_header(buf, 6), integrity_error::sequence);
  EXPECT_EQ(rx.check_header(std::span(buf).first(n - 1), 5), integrity_error::truncated);
  if (n >= 32) {
    EXPECT_TRUE(std::all_of(buf.begin() + 16, buf.end() - 8,
                            [](std::byte b) { return b == std::byte{0}; }));
    EXPECT_EQ(rx.check(buf, 5), integrity_error::corrupted);
  }
  // A whole message passes the header check too.
  EXPECT_EQ(rx.check_header(tx.stamp(7), 7), integrity_error::none);
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

// The fused check: copy_check copies pieces out (as a ring does, cut anywhere) and checks the
// body in the same pass; check(got, seq, copier) checks the rest.
integrity_error fused_receive(std::span<const std::byte> wire, std::size_t size, std::uint64_t seq,
                              std::initializer_list<std::size_t> cuts, std::size_t flip_at,
                              bool flip) {
  std::vector<std::byte> src(wire.begin(), wire.end()), dst(wire.size());
  copy_check copier(size, seq);
  std::size_t at = 0;
  std::vector<std::size_t> ends(cuts);
  ends.push_back(src.size());
  for (std::size_t end : ends) {
    end = std::min(end, src.size());
    if (end <= at) continue;
    // The corruption lands in the shared memory before this piece is copied out.
    if (flip && flip_at >= at && flip_at < end) src[flip_at] ^= std::byte{0x01};
    copier(dst.data() + at, src.data() + at, end - at, at);
    at = end;
  }
  EXPECT_TRUE(std::equal(src.begin(), src.end(), dst.begin())) << "the copy is exact";
  message_codec rx(size);
  return rx.check(dst, seq, copier);
}

TEST_P(MessageCheck, FusedCheckPassesIntactMessagesCutAnywhere) {
  const std::size_t n = GetParam();
  message_codec tx(n);
  for (std::uint64_t seq : {0u, 1u, 7u}) {
    const auto m = copy_of(tx.stamp(seq));
    EXPECT_EQ(fused_receive(m, n, seq, {}, 0, false), integrity_error::none);
    EXPECT_EQ(fused_receive(m, n, seq, {3, 17, n / 2 + 1, n - 5}, 0, false), integrity_error::none);
  }
}

TEST_P(MessageCheck, FusedCheckDetectsACorruptedByteInEveryPositionClass) {
  const std::size_t n = GetParam();
  message_codec tx(n);
  const auto m = copy_of(tx.stamp(9));
  // A ring wrap cuts the message at an odd place; the byte at the cut and those beside it are
  // copied in different pieces.
  const std::size_t wrap = n / 2 + 3;
  for (std::size_t pos : {std::size_t{0}, n / 2, n - 1, wrap - 1, wrap, wrap + 1}) {
    if (pos >= n) continue;
    EXPECT_NE(fused_receive(m, n, 9, {wrap}, pos, true), integrity_error::none)
        << "byte " << pos << " of " << n;
  }
  // The wrong sequence's body (stale data of the other parity) fails too.
  if (n > 32) {
    EXPECT_NE(fused_receive(m, n, 10, {wrap}, 0, false), integrity_error::none);
  }
}

TEST_P(MessageCheck, FusedCheckNoticesAMissingPiece) {
  const std::size_t n = GetParam();
  if (n <= 40) return;  // a body long enough to leave a piece out
  message_codec tx(n), rx(n);
  const auto m = copy_of(tx.stamp(4));
  std::vector<std::byte> dst(m);
  copy_check copier(n, 4);
  copier(dst.data(), m.data(), 20, 0);  // the rest never copied through the checker
  EXPECT_EQ(rx.check(dst, 4, copier), integrity_error::corrupted);
}

// A body of fewer than eight words (a message of up to 87 bytes) is compared word by word in
// place of the vector loop, and a header field of eight bytes as one word: every byte of every
// short size is still checked, in both receive paths (separate and fused).
TEST(MessageCodec, EveryByteOfAShortMessageIsChecked) {
  for (std::size_t n = 1; n <= 200; ++n) {
    message_codec tx(n), rx(n);
    const auto good = copy_of(tx.stamp(12));
    for (std::size_t pos = 0; pos < n; ++pos) {
      auto bad = good;
      bad[pos] ^= std::byte{0x40};
      EXPECT_NE(rx.check(bad, 12), integrity_error::none) << "byte " << pos << " of " << n;
      EXPECT_NE(fused_receive(good, n, 12, {}, pos, true), integrity_error::none)
          << "fused, byte " << pos << " of " << n;
    }
  }
}

// A header that does not match is named by the field that differs.
TEST(MessageCodec, AHeaderMismatchNamesTheField) {
  for (std::size_t n : {16, 31, 32, 64, 100, 4096}) {
    message_codec tx(n), rx(n);
    const auto good = copy_of(tx.stamp(3));
    auto bad = good;
    bad[2] ^= std::byte{1};
    EXPECT_EQ(rx.check(bad, 3), integrity_error::sequence) << n;
    bad = good;
    bad[9] ^= std::byte{1};
    EXPECT_EQ(rx.check(bad, 3), integrity_error::length) << n;
    if (n >= 32) {
      bad = good;
      bad[n - 3] ^= std::byte{1};
      EXPECT_EQ(rx.check(bad, 3), integrity_error::sequence) << n;
      bad = good;
      bad[20] ^= std::byte{1};
      EXPECT_EQ(rx.check(bad, 3), integrity_error::corrupted) << n;
    }
  }
}

TEST(MessageCodec, ShiftedDataDoesNotPass) {
  const std::size_t n = 4096;
  message_codec tx(n), rx(n);
  const auto m = copy_of(tx.stamp(2));
  for (std::size_t shift = 1; shift < 16; ++shift) {
    auto bad = m;
    std::copy(m.begin() + 16, m.end() - 8 - shift, bad.begin() + 16 + shift);
    EXPECT_EQ(rx.check(bad, 2), integrity_error::corrupted) << "shift " << shift;
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

namespace ipcbench {
namespace {

TEST(SequenceTracker, CountsLostDuplicatedAndReorderedExactly) {
  sequence_tracker t;
  t.extend_to(10);
  t.start_batch(0, 8);
  using a = sequence_tracker::arrival;
  EXPECT_EQ(t.arrived(0), a::in_order);
  EXPECT_EQ(t.arrived(1), a::in_order);
  EXPECT_EQ(t.arrived(3), a::after_gap);  // 2 missing
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.arrived(2), a::late);  // 2 was only late
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.arrived(2), a::duplicated);
  EXPECT_EQ(t.arrived(5), a::after_gap);  // 4 missing
  EXPECT_EQ(t.next(), 6u);
  t.close_batch(8);  // 6 and 7 never came
  EXPECT_EQ(t.lost(), 3u);
  EXPECT_EQ(t.duplicated(), 1u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.delivered(), 5u);  // 0, 1, 2, 3, 5
  EXPECT_EQ(t.expected(), 8u);

  // The next batch counts from zero: 7 turning up now belongs to the batch before (stale, not
  // reordered here), 2 again too; 1000 is a number corrupted beyond every batch.
  t.start_batch(8, 10);
  EXPECT_EQ(t.arrived(7), a::stale);
  EXPECT_EQ(t.arrived(2), a::stale);
  EXPECT_EQ(t.arrived(8), a::in_order);
  EXPECT_EQ(t.arrived(1000), a::stray);
  t.close_batch(10);
  EXPECT_EQ(t.lost(), 1u);  // 9
  EXPECT_EQ(t.duplicated(), 0u);
  EXPECT_EQ(t.reordered(), 0u);
  EXPECT_EQ(t.stale(), 2u);
  EXPECT_EQ(t.delivered(), 1u);
  EXPECT_EQ(t.expected(), 2u);
}

TEST(SequenceTracker, SkippedNumbersAreNotCountedLost) {
  sequence_tracker t;
  t.extend_to(20);
  t.start_batch(0, 10);
  t.arrived(0);
  t.arrived(1);
  t.close_batch(3);  // round trip 2 lost: the batch stops there
  t.skip_to(10);
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.next(), 10u);
  EXPECT_EQ(t.arrived(5), sequence_tracker::arrival::duplicated);
  EXPECT_EQ(t.lost(), 1u);
  // In the next batch a skipped number is stale, not this batch's duplicate.
  t.start_batch(10, 20);
  EXPECT_EQ(t.arrived(6), sequence_tracker::arrival::stale);
  EXPECT_EQ(t.duplicated(), 0u);
  EXPECT_EQ(t.lost(), 0u);
}

TEST(SequenceTracker, ANumberOfTheNextBatchEndsThisOneAndIsHeldOver) {
  sequence_tracker t;
  t.extend_to(20);
  t.start_batch(0, 10);
  t.arrived(0);
  EXPECT_EQ(t.arrived(12), sequence_tracker::arrival::ahead);  // the sender moved on
  t.close_batch(10);
  EXPECT_EQ(t.lost(), 9u);
  t.start_batch(10, 20);
  EXPECT_EQ(t.next(), 13u);  // 12 recorded as the batch's first arrival
  EXPECT_EQ(t.lost(), 2u);   // 10 and 11, so far
  EXPECT_EQ(t.delivered(), 1u);
}

TEST(SequenceTracker, LossSummaryText) {
  EXPECT_EQ(loss_summary(37, 10000, 0, 2, "messages"),
            "lost 37 of 10000 messages (0.37%), 0 duplicated, 2 reordered");
  EXPECT_EQ(loss_summary(0, 0, 1, 0, "round trips"),
            "lost 0 of 0 round trips (0.00%), 1 duplicated, 0 reordered");
}

TEST(MessageCodec, SequenceOfReadsTheHeader) {
  message_codec tx(64), rx(64);
  EXPECT_EQ(rx.sequence_of(tx.stamp(123456789), 5), 123456789u);
  auto m = copy_of(tx.stamp(7));
  m.pop_back();
  EXPECT_EQ(rx.sequence_of(m, 5), 5u) << "a message of the wrong length gives the expected number";
}

TEST(MessageCodec, SequenceOfShortMessagesIsNearestToExpected) {
  message_codec tx(1), rx(1);
  EXPECT_EQ(rx.sequence_of(tx.stamp(300), 299), 300u);  // low byte 44, just ahead
  EXPECT_EQ(rx.sequence_of(tx.stamp(300), 420), 300u);  // 120 behind
  EXPECT_EQ(rx.sequence_of(tx.stamp(255), 0), 255u);    // cannot be behind 0
  EXPECT_EQ(rx.sequence_of(tx.stamp(1000), 1000), 1000u);
  message_codec tx3(3), rx3(3);
  EXPECT_EQ(rx3.sequence_of(tx3.stamp(0x1234567), 0x1230000), 0x1234567u);
  message_codec tx0(0), rx0(0);
  EXPECT_EQ(rx0.sequence_of(tx0.stamp(9), 4), 4u);
}

}  // namespace
}  // namespace ipcbench

namespace ipcbench {
namespace {

// write() makes in lent memory exactly the bytes stamp() gives, and in_place_check reads them
// where they lie: it passes the message and fails it with a byte changed.
TEST(MessageWrite, WritesTheStampedBytesAndTheInPlaceCheckReadsThem) {
  for (std::size_t size : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{15},
                           std::size_t{16}, std::size_t{31}, std::size_t{32}, std::size_t{33},
                           std::size_t{100}, std::size_t{4097}, std::size_t{65539}}) {
    message_codec codec(size);
    for (std::uint64_t seq : {0ull, 1ull, 7ull, 1234567ull}) {
      std::vector<std::byte> lent(size, std::byte{0xEE});
      codec.write(lent, seq);
      const auto stamped = codec.stamp(seq);
      ASSERT_TRUE(std::equal(stamped.begin(), stamped.end(), lent.begin()))
          << size << " bytes, seq " << seq;
      in_place_check ok{&codec, seq};
      ok(lent);
      EXPECT_EQ(ok.result, integrity_error::none) << size;
      lent[size / 2] ^= std::byte{1};
      in_place_check bad{&codec, seq};
      bad(lent);
      EXPECT_NE(bad.result, integrity_error::none) << size;
    }
  }
}

}  // namespace
}  // namespace ipcbench
