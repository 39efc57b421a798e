// The paced stream (udp.paced): the producer's schedule, the rate search as a pure function over
// scripted losses, and a paced run through the real harness on a stub that drops what is sent
// faster than it drains. Nothing here asserts how fast anything ran: the schedule is checked as
// a lower bound on each send's time (a send may be late, never early), and the search by the
// rates it chose.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "harness/delay.hpp"
#include "harness/pacer.hpp"
#include "harness/peer.hpp"
#include "harness/rate_search.hpp"
#include "harness/runner.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "registry/registry.hpp"
#include "sys/io.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"
#include "two_pipes.hpp"

namespace ipcbench {
namespace {

// Records when each send happened.
struct clocked_endpoint {
  std::vector<std::int64_t> sent_at;
  io_status send(std::span<const std::byte>) {
    sent_at.push_back(now_ns());
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte>) { return kPeerGone; }
};

TEST(Pacer, SendsEveryMessageNoEarlierThanItsSlot) {
  constexpr double kRate = 200'000;  // 5 us apart
  constexpr std::uint64_t kCount = 300;
  clocked_endpoint ep;
  peer_state s(64);
  s.pace = pacer(kRate);
  const std::int64_t t0 = now_ns();
  s.pace.restart(t0);
  stream_out(ep, s, kCount);
  ASSERT_EQ(ep.sent_at.size(), kCount);
  EXPECT_EQ(s.next_seq, kCount);
  EXPECT_EQ(s.pace.sent(), kCount);
  for (std::uint64_t i = 0; i < kCount; ++i)
    ASSERT_GE(static_cast<double>(ep.sent_at[i] - t0), static_cast<double>(i) * 1e9 / kRate)
        << "message " << i << " went out before its slot";
}

TEST(Pacer, ScheduleIsAbsoluteSoALateSendDoesNotShiftTheRest) {
  pacer p(1000);  // 1 ms apart
  EXPECT_TRUE(p.paced());
  EXPECT_DOUBLE_EQ(p.rate(), 1000);
  p.restart(5'000);
  for (std::uint64_t i : {0u, 1u, 7u, 1000u})
    EXPECT_EQ(p.due(i), 5'000 + static_cast<std::int64_t>(i) * 1'000'000) << i;
  // A schedule that started in the past: every message already due goes at once, and the next
  // one is still due at its own slot, not one period after the last send.
  const std::int64_t t0 = now_ns() - 1'000'000'000;
  p.restart(t0);
  for (int i = 0; i < 5; ++i) p.wait_turn();
  EXPECT_EQ(p.sent(), 5u);
  EXPECT_EQ(p.due(p.sent()), t0 + 5'000'000);
}

// A paced sender's delay starts at the scheduled time: a send that goes late (here a schedule
// that started a second ago) is noted at its slot, not when it went.
TEST(Pacer, LastDueIsTheScheduledTimeOfTheLastSend) {
  pacer p(1000);
  const std::int64_t t0 = now_ns() - 1'000'000'000;
  p.restart(t0);
  p.wait_turn();
  EXPECT_EQ(p.last_due(), t0);
  EXPECT_EQ(sent_at(p), t0);
  p.wait_turn();
  EXPECT_EQ(sent_at(p), t0 + 1'000'000);
  const pacer unpaced;
  const std::int64_t before = now_ns();
  EXPECT_GE(sent_at(unpaced), before);
}

TEST(Pacer, RateZeroIsUnpaced) {
  clocked_endpoint ep;
  peer_state s(8);
  EXPECT_FALSE(s.pace.paced());
  s.pace.restart();
  stream_out(ep, s, 50);
  EXPECT_EQ(ep.sent_at.size(), 50u);
}

// Loss as a step at `knee` messages/s; counts the calls.
struct step_loss {
  explicit step_loss(double k, double a = 0.01) : knee(k), above(a) {}
  double knee;
  double above;
  std::vector<double> asked;
  std::optional<double> operator()(double rate) {
    asked.push_back(rate);
    return rate <= knee ? 0.0 : above;
  }
};

TEST(RateSearch, FindsTheHighestRateUnderTheThresholdWithinItsTrials) {
  for (double knee : {700.0, 300.0, 999.0, 63.0}) {
    step_loss loss(knee);
    const auto res = find_highest_rate(1000, std::ref(loss));
    ASSERT_TRUE(res.best) << knee;
    EXPECT_FALSE(res.aborted);
    EXPECT_LE(*res.best, knee);
    // Two bracketing trials and six bisections of a 16x bracket: within 16^(1/64) of the knee.
    EXPECT_GT(*res.best, knee / std::pow(16.0, 1.0 / 64) - 1e-9) << knee;
    EXPECT_EQ(res.trials.size(), kMaxRateTrials);
    EXPECT_EQ(loss.asked.size(), kMaxRateTrials);
    EXPECT_EQ(res.trials[0].rate, 1000);
    EXPECT_DOUBLE_EQ(res.trials[1].rate, 1000 * kLowestRateFraction);
    // The answer is a rate that was tried and qualified, and no qualifying trial was higher.
    for (const auto& t : res.trials) {
      if (t.loss < kMaxPacedLoss) {
        EXPECT_LE(t.rate, *res.best);
      }
      if (t.rate == *res.best) {
        EXPECT_LT(t.loss, kMaxPacedLoss);
      }
    }
  }
}

TEST(RateSearch, NothingLosesTakesTheStartRateInOneTrial) {
  step_loss loss(1e18);
  const auto res = find_highest_rate(5e5, std::ref(loss));
  ASSERT_TRUE(res.best);
  EXPECT_EQ(*res.best, 5e5);
  EXPECT_EQ(res.trials.size(), 1u);
}

TEST(RateSearch, EverythingLosesFindsNoRateAfterTwoTrials) {
  step_loss loss(0, 0.5);
  const auto res = find_highest_rate(5e5, std::ref(loss));
  EXPECT_FALSE(res.best);
  EXPECT_FALSE(res.aborted);
  ASSERT_EQ(res.trials.size(), 2u);
  EXPECT_EQ(res.trials[0].rate, 5e5);
  EXPECT_EQ(res.trials[1].rate, 5e5 * kLowestRateFraction);
  EXPECT_EQ(res.trials[1].loss, 0.5);
}

TEST(RateSearch, ALossOfExactlyTheThresholdDoesNotQualify) {
  const auto res = find_highest_rate(100, [](double) { return std::optional<double>(0.001); });
  EXPECT_FALSE(res.best);
  const auto under = find_highest_rate(100, [](double) { return std::optional<double>(0.000999); });
  ASSERT_TRUE(under.best);
  EXPECT_EQ(*under.best, 100);
}

TEST(RateSearch, StaysWithinItsTrialBudgetAndStopsOnAFailedTrial) {
  for (std::uint64_t budget : {1u, 2u, 3u, 5u}) {
    step_loss loss(40);
    rate_search_limits limits;
    limits.max_trials = budget;
    const auto res = find_highest_rate(1000, std::ref(loss), limits);
    EXPECT_LE(loss.asked.size(), budget) << budget;
    EXPECT_EQ(res.trials.size(), loss.asked.size());
  }
  int calls = 0;
  const auto res = find_highest_rate(1000, [&](double rate) -> std::optional<double> {
    if (++calls == 3) return std::nullopt;
    return rate < 500 ? 0.0 : 0.2;
  });
  EXPECT_TRUE(res.aborted);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(res.trials.size(), 2u);
  EXPECT_TRUE(
      find_highest_rate(0, [](double) { return std::optional<double>(0.0); }).trials.empty());
}

// A pipe that plays a receiver with a bounded buffer draining at kDrainRate: the producer's
// send takes a token from a bucket of kBurst that refills at that rate, and a send that finds
// it empty is dropped, as a full socket buffer drops a datagram. Its receive gives up after
// 200 ms like a socket with SO_RCVTIMEO.
constexpr double kDrainRate = 20'000;
constexpr double kBurst = 256;

class draining_pipe {
 public:
  class endpoint {
   public:
    endpoint(unique_fd in, unique_fd out, bool producer)
        : in_(std::move(in)), out_(std::move(out)), producer_(producer) {}
    io_status send(std::span<const std::byte> msg) {
      if (producer_) {
        const std::int64_t now = now_ns();
        if (last_ != 0)
          tokens_ = std::min(kBurst, tokens_ + static_cast<double>(now - last_) * kDrainRate / 1e9);
        last_ = now;
        if (tokens_ < 1) return io_status::ok;  // dropped
        tokens_ -= 1;
      }
      return write_all(out_.get(), msg);
    }
    std::ptrdiff_t receive(std::span<std::byte> buf) {
      if (!wait_readable(in_.get(), std::chrono::milliseconds(200))) return kTimedOut;
      return read_exact(in_.get(), buf) == io_status::ok ? static_cast<std::ptrdiff_t>(buf.size())
                                                         : kPeerGone;
    }

   private:
    unique_fd in_, out_;
    bool producer_;
    double tokens_ = kBurst;
    std::int64_t last_ = 0;
  };

  static mechanism_traits describe() {
    auto t = pipe_channel::describe();
    t.id = "draining_pipe.paced";
    t.mechanism = "draining_pipe";
    t.lossy = true;
    t.paced = true;
    return t;
  }
  explicit draining_pipe(const channel_config&) {}
  void opened() noexcept { pipes_.opened(); }
  endpoint open(role r) { return pipes_.open(r); }

 private:
  test::two_pipes<endpoint> pipes_;
};

TEST(PacedHarness, SearchesARateAndReportsTheTimedBatchAtIt) {
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 64;
  req.place = placement::none;
  req.target_time_s = 0.05;
  req.timeout = std::chrono::seconds(10);
  const run_result r = run_paced_channel<draining_pipe>(draining_pipe::describe(), req);
  ASSERT_EQ(r.status, run_status::ok) << r.reason;
  EXPECT_GT(r.target_rate, 0);
  EXPECT_GE(r.rate_trials, 2u);  // the unpaced one and at least one paced
  EXPECT_LE(r.rate_trials, 1 + kMaxRateTrials);
  EXPECT_TRUE(r.goodput);
  EXPECT_GE(r.messages, req.min_messages);
  EXPECT_LE(r.delivered, r.messages);
  EXPECT_EQ(r.integrity_errors, 0u);
  EXPECT_GT(r.messages_per_second(), 0);
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(PacedHarness, LatencyIsNotAPacedPattern) {
  run_request req;
  req.pat = pattern::latency;
  const run_result r = run_paced_channel<draining_pipe>(draining_pipe::describe(), req);
  EXPECT_EQ(r.status, run_status::skipped);
}

TEST(PacedRegistry, UdpPacedIsAThroughputOnlyLossyVariantOfUdp) {
  const mechanism_entry* m = find_mechanism("udp.paced");
  ASSERT_NE(m, nullptr);
  if (!m->unavailable.empty()) GTEST_SKIP() << m->unavailable;
  EXPECT_EQ(m->traits.mechanism, "udp");
  EXPECT_EQ(m->traits.variant, "paced");
  EXPECT_TRUE(m->traits.paced);
  EXPECT_TRUE(m->traits.lossy);
  EXPECT_TRUE(m->traits.supports_throughput);
  EXPECT_FALSE(find_mechanism("udp")->traits.paced);
}

TEST(PacedRegistry, UdpPacedRunsThroughTheHarnessAtALowRate) {
  // Real UDP on loopback: a short search and timed batch of fixed length. Loss there depends on
  // the machine, so the run is ok, or skipped because no rate kept under 0.1 %; never failed.
  const mechanism_entry* m = find_mechanism("udp.paced");
  ASSERT_NE(m, nullptr);
  if (!m->unavailable.empty()) GTEST_SKIP() << m->unavailable;
  run_request req;
  req.pat = pattern::throughput;
  req.message_size = 512;
  req.place = placement::none;
  req.fixed_messages = 200;
  req.warmup_messages = 8;
  req.timeout = std::chrono::seconds(10);
  const run_result r = m->run(req);
  if (r.status == run_status::skipped) {
    EXPECT_NE(r.reason.find("no rate tried lost less than 0.1 %"), std::string::npos) << r.reason;
  } else {
    ASSERT_EQ(r.status, run_status::ok) << r.reason;
    EXPECT_EQ(r.messages, 200u);
    EXPECT_GT(r.target_rate, 0);
    EXPECT_GE(r.rate_trials, 1u);
    EXPECT_GT(r.messages_per_second(), 0);
  }
  EXPECT_TRUE(test::no_children());
}

}  // namespace
}  // namespace ipcbench
