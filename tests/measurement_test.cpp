// What a number covers. The timed window of a stream: it holds the timed batch alone. A consumer
// slower than its producer leaves warm-up messages queued in the channel; without the barrier after
// the warm-up they drained inside the timed window, so a deep queue read slow. Here a pipe's
// consumer takes a millisecond per message while the producer runs ahead, and both note when each
// message went and came: every warm-up message must have been received before the first timed one
// was sent. The tails of short round trips: each sample is one round trip (timed by the time-stamp
// counter), not the mean of a batch that hides a stall.
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

#include "harness/calibrate.hpp"
#include "harness/runner.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "sys/mapping.hpp"
#include "test_env.hpp"
#include "wrapped_pipe.hpp"

namespace ipcbench {
namespace {

// When each message was sent (just before the send) and received, by its place in the stream.
struct stream_log {
  static constexpr std::size_t kMax = 1024;
  std::int64_t sent[kMax];
  std::int64_t received[kMax];
};

// The log of the run under test: shared memory the test maps before the run, so the forked
// peers write into it and it outlives the channel.
stream_log* current_log = nullptr;

// A pipe endpoint that notes every message in current_log; the consumer sleeps 1 ms before
// each receive, so the producer fills the pipe ahead of it.
class noting_endpoint {
 public:
  static constexpr const char* kId = "noting_pipe";
  noting_endpoint(stream_endpoint inner, bool producer)
      : inner_(std::move(inner)), producer_(producer), log_(current_log) {}
  io_status send(std::span<const std::byte> msg) {
    if (producer_ && n_ < stream_log::kMax) log_->sent[n_] = now_ns();
    ++n_;
    return inner_.send(msg);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    if (!producer_) {
      const timespec ms{0, 1'000'000};
      ::nanosleep(&ms, nullptr);
    }
    const std::ptrdiff_t n = inner_.receive(buf);
    if (!producer_ && n > 0 && n_ < stream_log::kMax) log_->received[n_] = now_ns();
    ++n_;
    return n;
  }

 private:
  stream_endpoint inner_;
  bool producer_;
  stream_log* log_;
  std::size_t n_ = 0;
};

using noting_pipe = test::wrapped_pipe<noting_endpoint>;

// 100 messages of sizing run, 100 of warm-up, 50 timed: all fit in the pipe at 64 bytes.
constexpr std::uint64_t kSizing = 100, kTimed = 50;

run_request slow_stream() {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 64;
  req.place = placement::none;
  req.warmup_messages = kSizing;  // the sizing run, and (fixed batches) the warm-up
  req.fixed_messages = kTimed;
  req.timeout = std::chrono::seconds(10);
  return req;
}

void expect_empty_channel_at_start(const stream_log& log, const run_result& r) {
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  const std::uint64_t warm = warmup_count(slow_stream());
  const std::size_t last_warm = kSizing + warm - 1, first_timed = kSizing + warm;
  ASSERT_LT(first_timed + kTimed, stream_log::kMax);
  EXPECT_LT(log.received[last_warm], log.sent[first_timed])
      << "warm-up message " << last_warm << " was received "
      << (log.received[last_warm] - log.sent[first_timed]) / 1000
      << " us after the first timed message was sent";
  // The window ends at the last timed message's check and starts no later than the first timed
  // send: it covers the consumer's share of the timed batch.
  EXPECT_GE(r.elapsed_ns, log.received[first_timed + kTimed - 1] - log.sent[first_timed]);
}

TEST(StreamWindow, NoWarmUpMessageIsQueuedWhenAPairsClockStarts) {
  const mapping m = map_shared_anonymous(sizeof(stream_log), "stream log");
  current_log = reinterpret_cast<stream_log*>(m.data());
  const run_result r = run_channel<noting_pipe>(noting_pipe::describe(), slow_stream());
  expect_empty_channel_at_start(*current_log, r);
  EXPECT_TRUE(test::no_children());
}

TEST(StreamWindow, NoWarmUpMessageIsQueuedWhenAGroupsClockStarts) {
  const mapping m = map_shared_anonymous(sizeof(stream_log), "stream log");
  current_log = reinterpret_cast<stream_log*>(m.data());
  const run_result r = run_pairs<noting_pipe>(noting_pipe::describe(), slow_stream(), 1);
  expect_empty_channel_at_start(*current_log, r);
  EXPECT_TRUE(test::no_children());
}

// A pipe whose consumer stalls for 3 ms once, before its reply to the 200th request of the
// timed batch (request kStallAt of the run).
constexpr std::size_t kStallAt = 10 + 10 + 200;

class stalling_endpoint {
 public:
  static constexpr const char* kId = "stalling_pipe";
  stalling_endpoint(stream_endpoint inner, bool producer)
      : inner_(std::move(inner)), producer_(producer) {}
  io_status send(std::span<const std::byte> msg) {
    if (!producer_ && ++replies_ == kStallAt) {
      const timespec stall{0, 3'000'000};
      ::nanosleep(&stall, nullptr);
    }
    return inner_.send(msg);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) { return inner_.receive(buf); }

 private:
  stream_endpoint inner_;
  bool producer_;
  std::size_t replies_ = 0;
};

using stalling_pipe = test::wrapped_pipe<stalling_endpoint>;

// A clock read so dear (10 us, as told) that every sample would be the mean of a batch.
run_request short_round_trips(double tsc_ns_per_tick) {
  run_request req;
  req.pat = pattern::latency;
  req.message_size = 64;
  req.place = placement::none;
  req.warmup_messages = 10;
  req.fixed_messages = 2000;
  req.timeout = std::chrono::seconds(10);
  req.timer_ns = 10'000;
  req.tsc_ns_per_tick = tsc_ns_per_tick;
  return req;
}

TEST(RoundTripTails, ShortRoundTripsAreTimedOneByOneByTheTsc) {
  const double tick = tsc_ns_per_tick();
  if (tick <= 0) GTEST_SKIP() << "no invariant time-stamp counter here";
  // A clock read of 1 ms makes every round trip under 100 ms "short" (rtt_batch_for): with the 10
  // us of short_round_trips() a sizing run of 10 round trips that the host stalled for over 1 ms on
  // average (once in a full suite on the 2-vCPU VM) timed them with clock_gettime.
  run_request req = short_round_trips(tick);
  req.timer_ns = 1'000'000;
  const run_result r = run_channel<stalling_pipe>(stalling_pipe::describe(), req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.clock, rtt_clock::tsc);
  EXPECT_EQ(r.rtt_batch, 1u);
  EXPECT_EQ(r.rtt.count(), r.messages);
  // The one stalled round trip is a sample of its own: the max holds the whole stall.
  EXPECT_GE(r.rtt.max(), 3'000'000 * 0.99);
  EXPECT_TRUE(test::no_children());
}

TEST(RoundTripTails, WithoutATscASampleIsTheMeanOfABatch) {
  const run_result r = run_channel<stalling_pipe>(stalling_pipe::describe(), short_round_trips(0));
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.clock, rtt_clock::clock_gettime);
  ASSERT_GT(r.rtt_batch, 1u);
  EXPECT_EQ(r.rtt.count() * r.rtt_batch, r.messages);
  // The stall is spread over its batch: no sample holds it whole (the report nulls the tails).
  EXPECT_LT(r.rtt.max(), 3'000'000);
  EXPECT_TRUE(test::no_children());
}

TEST(RoundTripTails, NullChannelTimesOneByOneWithTheTsc) {
  const double tick = tsc_ns_per_tick();
  if (tick <= 0) GTEST_SKIP() << "no invariant time-stamp counter here";
  run_request req = short_round_trips(tick);
  req.fixed_messages = 0;
  req.warmup_messages = 0;
  req.target_time_s = 0.01;
  const run_result r = run_null(req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_EQ(r.clock, rtt_clock::tsc);
  EXPECT_EQ(r.rtt.count(), r.messages);
}

// The parts of a timed batch (go_order::sub_batches). A pipe whose consumer takes 100 us over
// each message of the third quarter of a stream's timed batch of 1,000: that part alone reads
// slow, and the parts together take the batch's window.
constexpr std::uint64_t kPartsTimed = 1000;
std::uint64_t parts_first_timed = 0;  // the first timed message's place in the run

class slow_third_quarter_endpoint {
 public:
  static constexpr const char* kId = "slow_part_pipe";
  slow_third_quarter_endpoint(stream_endpoint inner, bool producer)
      : inner_(std::move(inner)), producer_(producer) {}
  io_status send(std::span<const std::byte> msg) { return inner_.send(msg); }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    const std::uint64_t k = n_++;
    if (!producer_ && k >= parts_first_timed + kPartsTimed / 2 &&
        k < parts_first_timed + 3 * kPartsTimed / 4) {
      const timespec wait{0, 100'000};
      ::nanosleep(&wait, nullptr);
    }
    return inner_.receive(buf);
  }

 private:
  stream_endpoint inner_;
  bool producer_;
  std::uint64_t n_ = 0;
};

using slow_part_pipe = test::wrapped_pipe<slow_third_quarter_endpoint>;

TEST(BatchParts, AStreamsSlowQuarterShowsInItsPartAlone) {
  run_request req = slow_stream();
  req.fixed_messages = kPartsTimed;
  parts_first_timed = kSizing + warmup_count(req);
  const run_result r = run_channel<slow_part_pipe>(slow_part_pipe::describe(), req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_EQ(r.sub_values.size(), kSubBatches);
  // 250 messages of 100 us at least: 160 KB/s at most, where a pipe moves megabytes.
  EXPECT_LT(r.sub_values[2], 64 * 250 / 0.025);
  for (const std::size_t k : {0, 1, 3}) EXPECT_GT(r.sub_values[k], 5 * r.sub_values[2]) << k;
  // Each part's time (its bytes over its rate) adds up to the batch's window, less the clock
  // reads between the consumer's last part and its end.
  double ns = 0;
  for (const double rate : r.sub_values) ns += 64.0 * (kPartsTimed / kSubBatches) * 1e9 / rate;
  EXPECT_LE(ns, static_cast<double>(r.elapsed_ns));
  EXPECT_GT(ns, 0.99 * static_cast<double>(r.elapsed_ns));
  EXPECT_TRUE(test::no_children());
}

TEST(BatchParts, ARoundTripBatchsPartsHoldItsMedian) {
  run_request req = short_round_trips(0);
  req.timer_ns = 0;  // every round trip a sample: 500 a part
  const run_result r = run_channel<stalling_pipe>(stalling_pipe::describe(), req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  ASSERT_EQ(r.sub_values.size(), kSubBatches);
  // The median of all the samples lies between the smallest and the largest part's median.
  const auto [lo, hi] = std::minmax_element(r.sub_values.begin(), r.sub_values.end());
  EXPECT_GT(*lo, 0);
  const auto p50 = static_cast<double>(r.rtt.percentile(50));
  EXPECT_LE(*lo, p50 * 1.01);
  EXPECT_GE(*hi, p50 * 0.99);
  EXPECT_EQ(r.rtt.count() * r.rtt_batch, r.messages);  // every part merged into the whole
  EXPECT_TRUE(test::no_children());
}

TEST(BatchParts, AFewMessagesAreNotSplit) {
  // 50 timed messages: fewer than kSubBatches x kSubBatchMinimum.
  const mapping m = map_shared_anonymous(sizeof(stream_log), "stream log");
  current_log = reinterpret_cast<stream_log*>(m.data());
  const run_result r = run_channel<noting_pipe>(noting_pipe::describe(), slow_stream());
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_TRUE(r.sub_values.empty());
  EXPECT_EQ(sub_batches_for(slow_stream(), false, 64, 1), kSubBatches);
  EXPECT_EQ(sub_batches_for(slow_stream(), true, 64, 1), 0u);  // a topology
  run_request lossy = slow_stream();
  lossy.lossy = true;
  EXPECT_EQ(sub_batches_for(lossy, false, 1000, 1), 0u);
}

}  // namespace
}  // namespace ipcbench
