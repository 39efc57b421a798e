// Fan-in over a stream: tagged records torn by interleaved writes, down to single bytes, are
// attributed, counted and still checked byte by byte (stream_reassembler); whole records from
// several producers pass the per-producer sequence check, and lost or duplicated records are
// caught (fan_in_receiver).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "harness/fan_in.hpp"
#include "harness/reassembler.hpp"

namespace ipcbench {
namespace {

// Producer p's tagged records 0..count-1, each cut into pieces: the pieces a pipe splits a
// write into above PIPE_BUF (the first size mod 4096 bytes, then pages), or single bytes, or the
// record whole.
enum class cut { pages, bytes, whole };
std::vector<std::vector<std::byte>> pieces_of(const tagged_layout& layout, std::size_t p,
                                              std::size_t count, cut how) {
  tagged_record_writer writer(layout, p, 0);
  const std::size_t size = layout.size();
  std::vector<std::vector<std::byte>> out;
  for (std::size_t k = 0; k < count; ++k) {
    const auto msg = writer.stamp(k);
    std::size_t at = 0;
    while (at < size) {
      std::size_t n = size - at;
      if (how == cut::bytes) n = 1;
      if (how == cut::pages)
        n = at == 0 && size % 4096 != 0 ? size % 4096 : std::min<std::size_t>(4096, n);
      out.emplace_back(msg.begin() + static_cast<std::ptrdiff_t>(at),
                       msg.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
  }
  return out;
}

// The pieces of every producer interleaved at random, each producer's in its order.
std::vector<std::byte> interleaved(std::size_t producers, std::size_t size, std::size_t count,
                                   unsigned seed, cut how = cut::pages) {
  const tagged_layout layout(size, producers);
  std::vector<std::vector<std::vector<std::byte>>> all;
  for (std::size_t p = 0; p < producers; ++p) all.push_back(pieces_of(layout, p, count, how));
  std::vector<std::size_t> next(producers, 0);
  std::mt19937 rng(seed);
  std::vector<std::byte> stream;
  for (;;) {
    std::vector<std::size_t> live;
    for (std::size_t p = 0; p < producers; ++p)
      if (next[p] < all[p].size()) live.push_back(p);
    if (live.empty()) break;
    const std::size_t p = live[rng() % live.size()];
    const auto& piece = all[p][next[p]++];
    stream.insert(stream.end(), piece.begin(), piece.end());
  }
  return stream;
}

// Feeds the stream in reads of `read` bytes (the consumer reads a record's size at a time).
void feed_in_reads(stream_reassembler& r, const std::vector<std::byte>& stream, std::size_t read) {
  for (std::size_t at = 0; at < stream.size(); at += read)
    r.feed(std::span<const std::byte>(stream).subspan(at, std::min(read, stream.size() - at)));
}

TEST(TaggedLayout, TagBitsAndLimits) {
  EXPECT_EQ(tag_bits(1), 0);
  EXPECT_EQ(tag_bits(2), 1);
  EXPECT_EQ(tag_bits(8), 3);
  EXPECT_EQ(tag_bits(9), 4);
  EXPECT_EQ(tag_bits(64), 6);
  EXPECT_THROW(tagged_layout(4097, 65), std::invalid_argument);
  EXPECT_THROW(tagged_layout(4097, 0), std::invalid_argument);
  EXPECT_THROW(tagged_layout(0, 2), std::invalid_argument);
  // Every byte of producer 5's record names producer 5.
  const tagged_layout l(100, 8);
  tagged_record_writer w(l, 5, 3);
  for (std::byte b : w.stamp(7)) EXPECT_EQ(static_cast<unsigned>(b) >> 5, 5u);
}

TEST(TaggedLayout, RecordsOfOneProducerDifferInTheirChecks) {
  const tagged_layout l(4097, 64);  // two check bits per byte, the fewest
  tagged_record_writer w(l, 63, 0);
  const auto a = w.stamp(0);
  const std::vector<std::byte> first(a.begin(), a.end());
  for (std::uint64_t k = 1; k < 200; ++k) {
    const auto b = w.stamp(k);
    EXPECT_FALSE(std::equal(first.begin(), first.end(), b.begin())) << k;
  }
}

class TornStream : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, cut>> {};

TEST_P(TornStream, IsAttributedCheckedAndCounted) {
  const auto [producers, size, how] = GetParam();
  const std::size_t count = how != cut::bytes ? 50 : producers > 8 ? 3 : 12;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const auto stream = interleaved(producers, size, count, seed, how);
    stream_reassembler r(tagged_layout(size, producers), {});
    feed_in_reads(r, stream, size);
    ASSERT_FALSE(r.failed()) << r.error() << " seed " << seed;
    for (std::size_t p = 0; p < producers; ++p) EXPECT_EQ(r.records(p), count) << p;
    if (producers > 1) {
      EXPECT_GT(r.torn(), 0u) << "seed " << seed;
    } else {
      EXPECT_EQ(r.torn(), 0u);
    }
  }
}

std::string torn_stream_name(
    const ::testing::TestParamInfo<std::tuple<std::size_t, std::size_t, cut>>& param) {
  const auto [producers, size, how] = param.param;
  return "N" + std::to_string(producers) + "_" + std::to_string(size) + "B_" +
         (how == cut::pages   ? "pages"
          : how == cut::bytes ? "bytes"
                              : "whole");
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, TornStream,
    ::testing::Values(std::make_tuple(std::size_t{1}, std::size_t{4097}, cut::pages),
                      std::make_tuple(std::size_t{2}, std::size_t{4097}, cut::pages),
                      std::make_tuple(std::size_t{4}, std::size_t{4097}, cut::pages),
                      std::make_tuple(std::size_t{8}, std::size_t{4097}, cut::pages),
                      std::make_tuple(std::size_t{8}, std::size_t{4097}, cut::bytes),
                      std::make_tuple(std::size_t{64}, std::size_t{4097}, cut::bytes),
                      std::make_tuple(std::size_t{3}, std::size_t{7}, cut::bytes),
                      std::make_tuple(std::size_t{1}, std::size_t{65536}, cut::pages),
                      std::make_tuple(std::size_t{2}, std::size_t{65536}, cut::pages),
                      std::make_tuple(std::size_t{8}, std::size_t{65536}, cut::pages),
                      std::make_tuple(std::size_t{8}, std::size_t{9000}, cut::pages)),
    torn_stream_name);

TEST(TornStream, OneByteReadsOfA8ProducerStream) {
  const auto stream = interleaved(8, 4097, 10, 9, cut::bytes);
  stream_reassembler r(tagged_layout(4097, 8), {});
  feed_in_reads(r, stream, 1);
  ASSERT_FALSE(r.failed()) << r.error();
  for (std::size_t p = 0; p < 8; ++p) EXPECT_EQ(r.records(p), 10u);
  EXPECT_GT(r.torn(), 0u);
}

TEST(TornStream, WholeRecordsAreNotTorn) {
  const auto stream = interleaved(4, 4097, 20, 7, cut::whole);
  stream_reassembler r(tagged_layout(4097, 4), {});
  feed_in_reads(r, stream, 4097);
  ASSERT_FALSE(r.failed()) << r.error();
  EXPECT_EQ(r.torn(), 0u);
}

TEST(TornStream, ACorruptedByteIsAnErrorThatNamesIt) {
  for (std::byte flip : {std::byte{0x01}, std::byte{0x80}}) {  // a check bit, a tag bit
    auto stream = interleaved(8, 4097, 20, 3, cut::bytes);
    stream[stream.size() / 2] ^= flip;
    stream_reassembler r(tagged_layout(4097, 8), {});
    feed_in_reads(r, stream, 4097);
    EXPECT_TRUE(r.failed());
    EXPECT_NE(r.error().find("byte "), std::string::npos) << r.error();
  }
}

TEST(TornStream, ALostOrDuplicatedByteIsAnError) {
  auto lost = interleaved(8, 4097, 20, 5, cut::bytes);
  lost.erase(lost.begin() + 10000);
  stream_reassembler a(tagged_layout(4097, 8), {});
  feed_in_reads(a, lost, 4097);
  bool complete = !a.failed();
  for (std::size_t p = 0; p < 8; ++p) complete = complete && a.records(p) == 20;
  EXPECT_FALSE(complete);

  auto twice = interleaved(8, 4097, 20, 5, cut::bytes);
  twice.insert(twice.begin() + 10000, twice[10000]);
  stream_reassembler b(tagged_layout(4097, 8), {});
  feed_in_reads(b, twice, 4097);
  EXPECT_TRUE(b.failed());
}

TEST(TornStream, ADuplicatedRecordIsAnError) {
  // Producer 0's stream with record 3 sent twice: the copy fails record 4's check.
  const tagged_layout l(4097, 2);
  tagged_record_writer w(l, 0, 0);
  std::vector<std::byte> stream;
  for (std::uint64_t k : {0, 1, 2, 3, 3, 4}) {
    const auto m = w.stamp(k);
    stream.insert(stream.end(), m.begin(), m.end());
  }
  stream_reassembler r(l, {});
  feed_in_reads(r, stream, 4097);
  EXPECT_TRUE(r.failed());
  EXPECT_NE(r.error().find("record 4 "), std::string::npos) << r.error();
}

// The consumer's record mode: whole records of several producers in any interleaving pass;
// a lost or duplicated record of one producer is a sequence error.
std::vector<std::vector<std::byte>> records(std::size_t producers, std::size_t size,
                                            std::size_t count) {
  std::vector<std::vector<std::byte>> out;
  std::vector<message_codec> codecs;
  for (std::size_t p = 0; p < producers; ++p) codecs.emplace_back(size, 0, p + 1);
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t p = 0; p < producers; ++p) {
      const auto m = codecs[p].stamp(fan_in_tag(p, k));
      out.emplace_back(m.begin(), m.end());
    }
  return out;
}

TEST(FanInReceiver, WholeRecordsPass) {
  fan_in_receiver rx(64, 0, {3, 0, std::nullopt});
  for (const auto& r : records(3, 64, 10)) rx.take(r);
  rx.expect(10);
  EXPECT_EQ(rx.tally().total(), 0u) << rx.tally().summary();
}

TEST(FanInReceiver, LostAndDuplicatedRecordsAreCaught) {
  auto all = records(3, 64, 10);
  all.erase(all.begin() + 4);           // producer 1's record 1 lost
  all.insert(all.begin() + 8, all[7]);  // a record received twice
  fan_in_receiver rx(64, 0, {3, 0, std::nullopt});
  for (const auto& r : all) rx.take(r);
  rx.expect(10);
  EXPECT_GE(rx.tally().total(), 2u);
}

TEST(FanInReceiver, TornRecordsAboveTheLimitAreTaggedCheckedAndCounted) {
  const auto stream = interleaved(8, 4097, 30, 11, cut::bytes);
  fan_in_receiver rx(4097, 0, {8, 0, std::size_t{4096}});
  ASSERT_TRUE(rx.tagged());
  for (std::size_t at = 0; at < stream.size(); at += 4097)
    rx.take(std::span<const std::byte>(stream).subspan(at, 4097));
  rx.expect(30);
  EXPECT_EQ(rx.tally().total(), 0u) << rx.tally().summary() << " " << rx.error();
  EXPECT_GT(rx.torn(), 0u);
}

TEST(FanInReceiver, AtOrBelowTheLimitRecordsAreWholeAndATornOneIsAnError) {
  // As if 4097-byte writes were atomic: record mode, so interleaved pieces of whole-mode records
  // fail their check.
  fan_in_receiver rx(4097, 0, {4, 0, std::size_t{8192}});
  EXPECT_FALSE(rx.tagged());
  std::vector<message_codec> codecs;
  for (std::size_t p = 0; p < 4; ++p) codecs.emplace_back(4097, 0, p + 1);
  std::vector<std::byte> stream;
  for (std::size_t k = 0; k < 5; ++k)
    for (std::size_t p = 0; p < 4; ++p) {
      const auto m = codecs[p].stamp(fan_in_tag(p, k));
      stream.insert(stream.end(), m.begin(), m.end());
    }
  std::swap_ranges(stream.begin() + 100, stream.begin() + 200, stream.begin() + 4197);
  for (std::size_t at = 0; at < stream.size(); at += 4097)
    rx.take(std::span<const std::byte>(stream).subspan(at, 4097));
  rx.expect(5);
  EXPECT_GT(rx.tally().total(), 0u);
}

TEST(FanInReceiver, AMissingProducerRecordIsCaughtInTaggedMode) {
  auto stream = interleaved(2, 4097, 10, 4, cut::pages);
  stream.resize(stream.size() - 4097);  // the last 4097 bytes never came
  fan_in_receiver rx(4097, 0, {2, 0, std::size_t{4096}});
  for (std::size_t at = 0; at < stream.size(); at += 4097)
    rx.take(std::span<const std::byte>(stream).subspan(at, 4097));
  rx.expect(10);
  EXPECT_GT(rx.tally().total(), 0u);
}

}  // namespace
}  // namespace ipcbench
