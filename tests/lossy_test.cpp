// The harness's loss accounting for lossy mechanisms: a pipe that plays UDP (its producer drops,
// duplicates or swaps chosen messages, and its receive gives up after 200 ms like a socket with
// SO_RCVTIMEO) must fail the run with lost, duplicated and reordered counted exactly, and the
// receiver must resynchronise instead of failing every message after a gap.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>

#include "harness/runner.hpp"
#include "mechanisms/pipes/pipe.hpp"
#include "sys/io.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

// What the producer does to the messages it sends, by the index of the send (the sequence
// number: warm-up and timed batch count on).
struct script {
  std::set<std::uint64_t> drop, duplicate, hold;  // hold: sent after the next one
};

template <const script& S>
class lossy_pipe {
 public:
  class endpoint {
   public:
    endpoint(unique_fd in, unique_fd out, bool producer)
        : in_(std::move(in)), out_(std::move(out)), producer_(producer) {}
    io_status send(std::span<const std::byte> msg) {
      const std::uint64_t n = sent_++;
      if (!producer_) return write_all(out_.get(), msg);
      if (S.drop.count(n)) return io_status::ok;
      if (S.hold.count(n)) {
        held_.assign(msg.begin(), msg.end());
        return io_status::ok;
      }
      io_status st = write_all(out_.get(), msg);
      if (st == io_status::ok && S.duplicate.count(n)) st = write_all(out_.get(), msg);
      if (st == io_status::ok && !held_.empty()) {
        st = write_all(out_.get(), held_);
        held_.clear();
      }
      return st;
    }
    std::ptrdiff_t receive(std::span<std::byte> buf) {
      if (!wait_readable(in_.get(), std::chrono::milliseconds(200))) return kTimedOut;
      return read_exact(in_.get(), buf) == io_status::ok ? static_cast<std::ptrdiff_t>(buf.size())
                                                         : kPeerGone;
    }

   private:
    unique_fd in_, out_;
    bool producer_;
    std::uint64_t sent_ = 0;
    std::vector<std::byte> held_;
  };

  static mechanism_traits describe() {
    auto t = pipe_channel::describe();
    t.id = t.mechanism = "lossy_pipe";
    t.lossy = true;
    return t;
  }
  explicit lossy_pipe(const channel_config&) : forward_(make_pipe()), back_(make_pipe()) {}
  void opened() noexcept {
    forward_ = {};
    back_ = {};
  }
  endpoint open(role r) {
    if (r == role::producer)
      return endpoint(std::move(back_.read_end), std::move(forward_.write_end), true);
    return endpoint(std::move(forward_.read_end), std::move(back_.write_end), false);
  }

 private:
  fd_pair forward_, back_;
};

run_request request(pattern p) {
  run_request req;
  req.pat = p;
  req.message_size = 64;
  req.place = placement::none;
  req.fixed_messages = 50;
  // Sequence numbers 0 (the sizing run), 1 (the warm-up) and 2..51 (timed).
  req.warmup_messages = 1;
  req.timeout = std::chrono::seconds(5);
  return req;
}

template <const script& S>
run_result run_scripted(pattern p) {
  return run_channel<lossy_pipe<S>>(lossy_pipe<S>::describe(), request(p));
}

const script kClean{};
const script kStreamDamage{{10, 51}, {20}, {30}};
const script kLostRequest{{10}, {}, {}};
const script kDuplicatedRequest{{}, {20}, {}};

TEST(LossyHarness, CleanRunIsOkWithZeroCounts) {
  for (pattern p : {pattern::latency, pattern::throughput}) {
    const run_result r = run_scripted<kClean>(p);
    ASSERT_EQ(r.status, run_status::ok) << r.reason;
    EXPECT_EQ(r.lost + r.duplicated + r.reordered, 0u);
    EXPECT_EQ(r.integrity_errors, 0u);
  }
  EXPECT_TRUE(test::no_children());
}

TEST(LossyHarness, StreamCountsLossDuplicationAndReorderingExactly) {
  // 10 dropped, 20 twice, 30 after 31, and the last one (51) dropped: the consumer times out
  // at the end of the stream and counts it lost.
  const run_result r = run_scripted<kStreamDamage>(pattern::throughput);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.lost, 2u);
  EXPECT_EQ(r.duplicated, 1u);
  EXPECT_EQ(r.reordered, 1u);
  EXPECT_EQ(r.integrity_errors, 4u) << "nothing else than the four counted";
  EXPECT_EQ(r.reason, "lossy_pipe lost 2 of 52 messages (3.85%), 1 duplicated, 1 reordered");
  EXPECT_TRUE(test::no_children());
  EXPECT_TRUE(test::leftovers().empty());
}

TEST(LossyHarness, LostRequestEndsTheLatencyRunWithTheCount) {
  const auto t0 = std::chrono::steady_clock::now();
  const run_result r = run_scripted<kLostRequest>(pattern::latency);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.lost, 1u);
  EXPECT_EQ(r.duplicated, 0u);
  EXPECT_EQ(r.reordered, 0u);
  EXPECT_EQ(r.reason, "lossy_pipe lost 1 of 52 round trips (1.92%), 0 duplicated, 0 reordered");
  EXPECT_TRUE(test::no_children());
}

TEST(LossyHarness, DuplicatedRequestIsCountedAndNotAnsweredTwice) {
  const run_result r = run_scripted<kDuplicatedRequest>(pattern::latency);
  EXPECT_EQ(r.status, run_status::failed);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.duplicated, 1u);
  EXPECT_EQ(r.reordered, 0u);
  EXPECT_EQ(r.integrity_errors, 1u);
  EXPECT_NE(r.reason.find("lost 0 of 52 round trips (0.00%), 1 duplicated"), std::string::npos)
      << r.reason;
}

}  // namespace
}  // namespace ipcbench
