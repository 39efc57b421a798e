#include "calibrate.hpp"

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/peer.hpp"
#include "sys/child.hpp"
#include "sys/mapping.hpp"
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
    reply_ = consumer_.codec.stamp(reply_sequence(seq));
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

std::optional<cache_line_rtt> cache_line_round_trip(int cpu_a, int cpu_b) {
  // One page: the two counters on their own cache lines, and the result.
  struct alignas(64) line {
    std::atomic<std::uint64_t> value{0};
  };
  struct shared {
    line ping, pong;
    cache_line_rtt result;
    std::atomic<int> done{0};
  };
  constexpr std::uint64_t kRounds = 200'000;
  std::optional<cache_line_rtt> out;
  try {
    shared_page<shared> sh;  // unmapped after the children below are reaped
    auto echo = child_process::fork([&] {
      pin_to_cpu(cpu_b);
      for (std::uint64_t i = 1; i <= kRounds; ++i) {
        while (sh->ping.value.load(std::memory_order_acquire) != i) {
        }
        sh->pong.value.store(i, std::memory_order_release);
      }
      return 0;
    });
    auto timer = child_process::fork([&] {
      pin_to_cpu(cpu_a);
      histogram h;
      for (std::uint64_t i = 1; i <= kRounds; ++i) {
        const std::int64_t t0 = now_ns();
        sh->ping.value.store(i, std::memory_order_release);
        while (sh->pong.value.load(std::memory_order_acquire) != i) {
        }
        h.record(now_ns() - t0);
      }
      sh->result = {static_cast<double>(h.percentile(10)), static_cast<double>(h.percentile(50)),
                    static_cast<double>(h.percentile(90))};
      sh->done.store(1, std::memory_order_release);
      return 0;
    });
    const auto st = timer.wait_for(std::chrono::seconds(10));
    if (st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0 && sh->done.load(std::memory_order_acquire))
      out = sh->result;
  } catch (const std::exception&) {
    out.reset();
  }
  // child_process destructors kill and reap whatever still runs (a spinner whose partner died).
  return out;
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
