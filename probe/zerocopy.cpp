// The kernel's own claim about MSG_ZEROCOPY (Documentation/networking/msg_zerocopy.rst): on
// loopback it gains nothing, since the kernel copies the pages when it hands them to the
// receiving socket, and below about 10 KB the page pinning and notifications cost more than the
// copy they save. Measured as an application would stream: a pool of buffers, each reused only
// after its notification came, against plain send(2) of the same buffers.
#include "probe/zerocopy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "stats/rank.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/socket.hpp"
#include "sys/system.hpp"
#include "sys/zerocopy.hpp"

namespace ipcbench::probes {
namespace {

constexpr std::array<std::size_t, 4> kSizes = {4096, 16384, 65536, 262144};
// A side, per size: 7 against 7 reach a two-sided p of 2 / C(14, 7) = 0.00058, below the
// 0.1 / 4 a gain needs.
constexpr int kRuns = 7;
constexpr std::size_t kRunBytes = std::size_t{16} << 20;
constexpr std::size_t kPool = 16;  // buffers in flight, zerocopy

std::size_t messages_per_run(std::size_t size) {
  return kRunBytes / size;
}

// The reader: accepts one connection, then for every run reads its bytes and answers one byte.
int reader(int listener) {
  unique_fd s(check(::accept(listener, nullptr, nullptr), "accept"));
  std::vector<std::byte> buf(std::size_t{1} << 20);
  for (std::size_t size : kSizes) {
    for (int r = 0; r < 2 * kRuns; ++r) {
      std::size_t left = messages_per_run(size) * size;
      while (left > 0) {
        const ssize_t n =
            retry_on_eintr([&] { return ::read(s.get(), buf.data(), std::min(left, buf.size())); });
        if (n <= 0) return n == 0 ? 0 : 1;
        left -= static_cast<std::size_t>(n);
      }
      const std::byte ack{1};
      if (write_all(s.get(), std::span(&ack, 1)) != io_status::ok) return 1;
    }
  }
  return 0;
}

class sender {
 public:
  sender(unique_fd s, const deadline& d) : s_(std::move(s)), d_(d) {
    set_int_option(s_.get(), SOL_SOCKET, SO_ZEROCOPY, 1, "SO_ZEROCOPY");
  }
  const zerocopy_completions& completions() const noexcept { return done_; }

  // Streams one run of `size`-byte messages from the pool; returns bytes per second.
  double run(std::size_t size, bool zerocopy, std::vector<std::vector<std::byte>>& pool) {
    std::vector<std::uint32_t> released_at(pool.size(), done_.issued_count());
    const std::size_t n = messages_per_run(size);
    const std::int64_t t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = i % pool.size();
      if (zerocopy) await(released_at[b]);
      send_all(std::span(pool[b]).first(size), zerocopy);
      released_at[b] = done_.issued_count();
    }
    if (zerocopy) await(done_.issued_count());
    std::byte ack{};
    if (read_exact(s_.get(), std::span(&ack, 1)) != io_status::ok)
      throw std::runtime_error("the reader closed the connection");
    return static_cast<double>(n * size) * 1e9 / static_cast<double>(now_ns() - t0);
  }

 private:
  void send_all(std::span<const std::byte> msg, bool zerocopy) {
    const int flags = MSG_NOSIGNAL | (zerocopy ? MSG_ZEROCOPY : 0);
    while (!msg.empty()) {
      const ssize_t n =
          retry_on_eintr([&] { return ::send(s_.get(), msg.data(), msg.size(), flags); });
      if (n < 0) {
        if (errno == ENOBUFS && zerocopy && !done_.done_below(done_.issued_count())) {
          await_any();
          continue;
        }
        throw_errno(zerocopy ? "send(MSG_ZEROCOPY)" : "send");
      }
      if (zerocopy) done_.issued();
      msg = msg.subspan(static_cast<std::size_t>(n));
    }
  }
  void await(std::uint32_t upto) {
    while (!done_.done_below(upto)) await_any();
  }
  void await_any() {
    if (drain_zerocopy_notifications(s_.get(), done_)) return;
    d_.check("waiting for MSG_ZEROCOPY notifications");
    pollfd p{s_.get(), 0, 0};
    const auto wait = std::min<long long>(d_.left().count(), 1000);
    if (retry_on_eintr([&] { return ::poll(&p, 1, static_cast<int>(wait)); }) < 0)
      throw_errno("poll");
    if ((p.revents & POLLHUP) != 0 && !drain_zerocopy_notifications(s_.get(), done_))
      throw std::runtime_error("the connection closed with notifications outstanding");
  }

  unique_fd s_;
  const deadline& d_;
  zerocopy_completions done_;
};

outcome loopback(const deadline& d) {
  sockaddr_in a{};
  unique_fd listener = listen_on_loopback(a, 1);
  child_process child = child_process::fork([fd = listener.get()] { return reader(fd); });
  unique_fd s = make_socket(AF_INET, SOCK_STREAM);
  check(::connect(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), "connect");
  listener.reset();
  sender out(std::move(s), d);

  std::vector<std::vector<std::byte>> pool(kPool);
  for (std::size_t b = 0; b < kPool; ++b) pool[b].assign(kSizes.back(), std::byte(b + 1));

  std::vector<zerocopy_runs> runs;
  for (std::size_t size : kSizes) {
    zerocopy_runs& r = runs.emplace_back(zerocopy_runs{.size = size, .send = {}, .zerocopy = {}});
    for (int k = 0; k < kRuns; ++k) {
      d.check("streaming");
      // Alternate which goes first, so a drift of the machine falls on both.
      if (k % 2 == 0) {
        r.send.push_back(out.run(size, false, pool));
        r.zerocopy.push_back(out.run(size, true, pool));
      } else {
        r.zerocopy.push_back(out.run(size, true, pool));
        r.send.push_back(out.run(size, false, pool));
      }
    }
  }
  outcome o = decide_zerocopy(runs);
  const auto& c = out.completions();
  o.value["notifications reported as copied"] =
      std::to_string(c.copied_calls()) + " of " + std::to_string(c.completed_calls());
  o.value["bytes per run"] = kRunBytes;
  o.value["buffers in flight"] = kPool;
  o.detail += "; the kernel reported " + std::to_string(c.copied_calls()) + " of " +
              std::to_string(c.completed_calls()) + " zerocopy sends as copied";
  return o;
}

}  // namespace

outcome decide_zerocopy(const std::vector<zerocopy_runs>& sizes) {
  outcome o;
  o.value = nlohmann::json::object();
  const double gain_level =
      kRankLevel / static_cast<double>(std::max<std::size_t>(sizes.size(), 1));
  bool any_gain = false, any_small = false, all_small_lose = true;
  std::size_t runs_a_side = 0;
  std::string where;
  for (const zerocopy_runs& r : sizes) {
    runs_a_side = std::max({runs_a_side, r.send.size(), r.zerocopy.size()});
    const std::vector<rank_stats::rank_stratum> one = {{.a = r.zerocopy, .b = r.send}};
    const auto test = rank_stats::stratified_rank_test(one);
    const bool small = r.size < kZerocopySmall;
    any_small = any_small || small;
    if (!test) {  // a side without runs: nothing shown
      all_small_lose = all_small_lose && !small;
      continue;
    }
    // The share of the pairs of runs in which zerocopy moved more (a tie: half).
    const double faster = 1 - test->a_lower;
    // The ratio zerocopy/send with its interval at the gain's level (the Hodges-Lehmann shift of
    // the logarithms): a gain refutes "nothing" only where it lies wholly beyond the margin.
    const auto shift = rank_stats::stratified_ratio_interval(one, 1 - gain_level);
    const double lo = shift ? shift->lo : 0, hi = shift ? shift->hi : 0;
    const bool faster_shown = within_rank_level(test->p, gain_level) && faster > 0.5;
    const bool gain = faster_shown && shift && lo > 1 + kZerocopyMargin;
    const bool loss = within_rank_level(test->p) && faster < 0.5;
    any_gain = any_gain || gain;
    if (small) all_small_lose = all_small_lose && loss;
    const double ratio = median(r.zerocopy) / median(r.send);
    const char* shown = gain           ? "faster"
                        : faster_shown ? "faster, not beyond the margin"
                        : loss         ? "slower"
                                       : "no difference";
    o.value[std::to_string(r.size) + " B"] = {
        {"send GB/s, median", round_to(median(r.send) / 1e9, 2)},
        {"MSG_ZEROCOPY GB/s, median", round_to(median(r.zerocopy) / 1e9, 2)},
        {"ratio zerocopy/send", round_to(ratio, 3)},
        {"ratio interval", shift ? nlohmann::json::array({round_to(lo, 3), round_to(hi, 3)})
                                 : nlohmann::json(nullptr)},
        {"zerocopy faster in share of pairs", round_to(faster, 3)},
        {"rank test p", test->p},
        {"shown", shown}};
    if (!where.empty()) where += ", ";
    where += std::to_string(r.size) + " B " + rounded(ratio, 2) + "x (";
    if (gain || loss)
      where += std::string(shown) + " in " + rounded(100 * (gain ? faster : 1 - faster), 0) +
               " % of the pairs of runs, p = " + p_text(test->p) + ")";
    else if (faster_shown)
      where += "faster in " + rounded(100 * faster, 0) +
               " % of the pairs of runs, p = " + p_text(test->p) + ", but the ratio's interval, " +
               rounded(lo, 2) + " to " + rounded(hi, 2) + ", is not wholly beyond the " +
               rounded(100 * kZerocopyMargin, 0) + " % margin)";
    else
      where += "no difference shown: faster in " + rounded(100 * faster, 0) +
               " % of the pairs of runs, p = " + p_text(test->p) + ")";
  }
  o.value["runs a side"] = runs_a_side;
  o.value["rank test level"] = {{"slower", kRankLevel}, {"faster", gain_level}};
  o.value["gain margin"] = kZerocopyMargin;
  o.result = any_gain                      ? verdict::does_not_hold
             : any_small && all_small_lose ? verdict::holds
                                           : verdict::inconclusive;
  o.detail =
      "MSG_ZEROCOPY against plain send(2), median throughput ratio per message size: " + where;
  if (o.result == verdict::inconclusive)
    o.detail +=
        "; no size gained, but below 10 KB the loss is not shown (exact rank test, p at "
        "most " +
        p_text(kRankLevel) + " needed)";
  return o;
}

std::vector<probe> zerocopy_probes() {
  return {
      {"tcp_zerocopy_loopback",
       "MSG_ZEROCOPY gains nothing over TCP loopback, and below about 10 KB it is slower than a "
       "plain send",
       "the kernel's Documentation/networking/msg_zerocopy.rst (loopback; 'above around 10 KB')",
       "one TCP connection over 127.0.0.1 to a forked reader; 16 MiB per run of 4, 16, 64 and "
       "256 KiB messages from a pool of 16 buffers, each reused only after its notification "
       "came; 7 runs a side per size, alternating with plain send(2) of the same buffers, timed "
       "until the reader acknowledges the run's last byte. Each size is decided by the exact "
       "rank test between its runs: slower at two-sided p <= 0.1; faster at p <= 0.025 (0.1 "
       "over the four sizes, since a gain at any one refutes the claim) with the ratio's "
       "interval at that level (Hodges-Lehmann) wholly above 1.1, since a gain within 10 % is "
       "nothing at the suite's resolution. Holds when no size is faster and every size below "
       "10 KB is slower; does not hold when a size is faster",
       loopback},
  };
}

}  // namespace ipcbench::probes
