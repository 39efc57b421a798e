#include "calibrate.hpp"

#include <cstring>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/peer.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// Sends to a consumer that lives in the same process: copy in, check, stamp the reply.
class loopback_endpoint {
 public:
  explicit loopback_endpoint(peer_state& consumer) noexcept : consumer_(consumer) {}

  io_status send(std::span<const std::byte> msg) {
    std::memcpy(consumer_.rbuf.data(), msg.data(), msg.size());
    const std::uint64_t seq = consumer_.next_seq++;
    consumer_.tally.add(consumer_.codec.check({consumer_.rbuf.data(), msg.size()}, seq), seq);
    reply_ = consumer_.codec.stamp(seq);
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) {
    std::memcpy(buf.data(), reply_.data(), reply_.size());
    return static_cast<std::ptrdiff_t>(reply_.size());
  }

 private:
  peer_state& consumer_;
  std::span<const std::byte> reply_;
};

}  // namespace

double timer_cost_ns() {
  constexpr int kCalls = 1'000'000;
  std::int64_t sink = 0;
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) sink += now_ns();
  const std::int64_t t1 = now_ns();
  asm volatile("" : : "r"(sink));
  return static_cast<double>(t1 - t0) / kCalls;
}

double memcpy_bytes_per_second() {
  constexpr std::size_t kSize = 1 << 20;
  std::vector<char> a(kSize, 1), b(kSize, 2);
  for (int i = 0; i < 10; ++i) std::memcpy(b.data(), a.data(), kSize);
  constexpr int kRounds = 200;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < kRounds; ++i) {
      std::memcpy(b.data(), a.data(), kSize);
      asm volatile("" : : "r"(b.data()) : "memory");
    }
    const std::int64_t t1 = now_ns();
    best =
        std::max(best, static_cast<double>(kSize) * kRounds * 1e9 / static_cast<double>(t1 - t0));
  }
  return best;
}

run_result run_null(const run_request& req) {
  run_result res;
  peer_state producer(req.message_size), consumer(req.message_size);
  loopback_endpoint ep(consumer);
  const std::uint64_t warm = warmup_count(req);
  const std::int64_t w0 = now_ns();
  ping_pong(ep, producer, warm, nullptr);
  const std::uint64_t count =
      timed_count(req, static_cast<double>(now_ns() - w0) / static_cast<double>(warm));
  const peer_cpu c0 = cpu_now();
  const std::int64_t t0 = now_ns();
  ping_pong(ep, producer, count, &res.rtt);
  const std::int64_t t1 = now_ns();
  const peer_cpu c1 = cpu_now();
  res.messages = count;
  res.elapsed_ns = t1 - t0;
  res.producer_cpu = {c1.user_ns - c0.user_ns, c1.sys_ns - c0.sys_ns};
  res.integrity_errors = producer.tally.total() + consumer.tally.total();
  res.status = res.integrity_errors ? run_status::failed : run_status::ok;
  if (res.integrity_errors) res.reason = "data check: " + producer.tally.summary();
  return res;
}

}  // namespace ipcbench
