// Three claims about waking an io_uring, each made by io_uring users on one machine of theirs:
// - axboe/liburing#1150: a thread wakes a ring about 3x faster with an eventfd that the ring
//   reads than with IORING_OP_MSG_RING;
// - lnx-search/i2o2#18: with IORING_SETUP_DEFER_TASKRUN (and SINGLE_ISSUER) it is the other way
//   round, MSG_RING being 3-4x faster than the eventfd;
// - axboe/liburing#1105: a wake-up through IORING_OP_POLL_ADD took 1.7-2.1 us against 0.65 us
//   through epoll, about 2.9x.
// Measured as round trips between two threads of a forked child, pinned to two CPUs: each
// thread waits in the way under test and wakes the other in the matching way. The methods of a
// claim alternate in rounds, so a drift of the machine falls on each.
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "harness/calibrate.hpp"
#include "harness/idle_state.hpp"
#include "probe/host_state.hpp"
#include "probe/probe.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/mapping.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

#ifdef IPCBENCH_HAVE_URING
#include "mechanisms/uring/uring_ring.hpp"
#endif

namespace ipcbench::probes {
namespace {

constexpr int kRounds = 9;
// A verdict needs all rounds but one on its side of the threshold: were the true ratio at the
// threshold, a round being on either side a coin toss, that would come by chance 2 % of the time
// (10/512), and one round that the host's move spoils does not make it undecided.
constexpr int kAgreeing = kRounds - 1;
constexpr std::size_t kTrips = 2000;    // timed round trips per method and round
constexpr std::size_t kWarmup = 200;    // untimed round trips before them
constexpr std::size_t kMethodsMax = 3;  // a claim compares at most three ways

// How a thread waits to be woken, and so how its partner wakes it.
enum class wake {
  eventfd_read,             // read(2) on an eventfd; woken by write(2)
  ring_read_eventfd,        // IORING_OP_READ of the eventfd in its ring; woken by write(2)
  msg_ring,                 // a CQE in its ring; woken by the partner's IORING_OP_MSG_RING
  ring_read_eventfd_defer,  // ring_read_eventfd, rings with DEFER_TASKRUN | SINGLE_ISSUER
  msg_ring_defer,           // msg_ring, both rings with DEFER_TASKRUN | SINGLE_ISSUER
  poll_add,                 // IORING_OP_POLL_ADD on the eventfd, then read(2); woken by write(2)
  epoll,                    // epoll_wait(2) on the eventfd, then read(2); woken by write(2)
};

#ifdef IPCBENCH_HAVE_URING

const char* label(wake w) {
  switch (w) {
    case wake::eventfd_read:
      return "eventfd read(2)";
    case wake::ring_read_eventfd:
      return "ring READ of an eventfd";
    case wake::msg_ring:
      return "MSG_RING";
    case wake::ring_read_eventfd_defer:
      return "ring READ of an eventfd, DEFER_TASKRUN";
    case wake::msg_ring_defer:
      return "MSG_RING, DEFER_TASKRUN";
    case wake::poll_add:
      return "POLL_ADD of an eventfd";
    case wake::epoll:
      return "epoll_wait of an eventfd";
  }
  return "?";
}

// What the measuring child leaves for the probe: every timed round trip, in ns.
struct samples {
  int done = 0;  // 1 once every round trip is in
  char error[512] = {};
  std::array<std::array<std::array<std::uint32_t, kTrips>, kRounds>, kMethodsMax> ns{};
  // The cache-line round trip between the two CPUs right before each round (0 where it could
  // not run, or the threads share a CPU): the host's state the round ran in.
  std::array<double, kRounds> line_ns{};
};

// Cache-line round trips a round's floor takes: about 10 ms on the development VM.
constexpr std::uint64_t kLineRounds = 20'000;

// Two CPUs this process may run on: the first two of its affinity mask, or one twice.
std::array<int, 2> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
  std::array<int, 2> cpus{-1, -1};
  int found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &set)) cpus[static_cast<std::size_t>(found++)] = c;
  if (found == 1) cpus[1] = cpus[0];
  return cpus;
}

constexpr std::uint64_t kWoken = 0x776f6b656e;  // the CQE that wakes: a READ, POLL_ADD or MSG_RING
constexpr std::uint64_t kSent = 0x73656e74;     // a MSG_RING of ours that failed

bool uses_ring(wake w) {
  return w != wake::eventfd_read && w != wake::epoll;
}
bool by_msg_ring(wake w) {
  return w == wake::msg_ring || w == wake::msg_ring_defer;
}

void drain_eventfd(int efd) {
  std::uint64_t v = 0;
  if (::read(efd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) throw_errno("read(eventfd)");
}

// One thread's end: its eventfd, and the ring or epoll set it waits in. Made in the thread
// that uses it (SINGLE_ISSUER rings belong to the thread that creates them).
class waiter {
 public:
  waiter(wake how, int efd) : how_(how), efd_(efd) {
    if (uses_ring(how)) {
      uring_options o;
      o.entries = 4;
      o.defer_taskrun = how == wake::ring_read_eventfd_defer || how == wake::msg_ring_defer;
      ring_ = std::make_unique<uring_ring>(o);
    } else if (how == wake::epoll) {
      ep_.reset(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
      epoll_event ev{};
      ev.events = EPOLLIN;
      check(::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, efd_, &ev), "epoll_ctl(EPOLL_CTL_ADD)");
    }
  }
  int ring_fd() const noexcept { return ring_ ? ring_->fd() : -1; }

  void wait() {
    switch (how_) {
      case wake::eventfd_read:
        drain_eventfd(efd_);
        return;
      case wake::ring_read_eventfd:
      case wake::ring_read_eventfd_defer: {
        io_uring_sqe* sqe = ring_->sqe();
        io_uring_prep_read(sqe, efd_, &value_, sizeof value_, 0);
        io_uring_sqe_set_data64(sqe, kWoken);
        expect(ring_->submit_and_wait_one(), sizeof value_, "READ of the eventfd");
        return;
      }
      case wake::poll_add: {
        io_uring_sqe* sqe = ring_->sqe();
        io_uring_prep_poll_add(sqe, efd_, POLLIN);
        io_uring_sqe_set_data64(sqe, kWoken);
        expect(ring_->submit_and_wait_one(), -1, "POLL_ADD of the eventfd");
        drain_eventfd(efd_);
        return;
      }
      case wake::msg_ring:
      case wake::msg_ring_defer:
        expect(ring_->wait_one(), 0, "MSG_RING");
        return;
      case wake::epoll: {
        epoll_event ev{};
        int n;
        do n = ::epoll_wait(ep_.get(), &ev, 1, -1);
        while (n < 0 && errno == EINTR);
        if (n != 1) throw_errno("epoll_wait");
        drain_eventfd(efd_);
        return;
      }
    }
  }

  // Wakes the partner, whose eventfd is `partner_efd` and ring `partner_ring`.
  void wake_partner(int partner_efd, int partner_ring) {
    if (by_msg_ring(how_)) {
      io_uring_sqe* sqe = ring_->sqe();
      io_uring_prep_msg_ring(sqe, partner_ring, 0, kWoken, 0);
      io_uring_sqe_set_data64(sqe, kSent);
      sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
      const int rc = io_uring_submit(ring_->get());
      if (rc != 1) throw_errno("io_uring_submit(MSG_RING)", rc < 0 ? -rc : EIO);
      return;
    }
    const std::uint64_t one = 1;
    if (::write(partner_efd, &one, sizeof one) != static_cast<ssize_t>(sizeof one))
      throw_errno("write(eventfd)");
  }

 private:
  // A CQE other than the wake (a failed MSG_RING of ours), or a result other than `want`
  // (-1: any non-negative), is an error.
  static void expect(const uring_ring::completion& c, long long want, const char* what) {
    if (c.user_data != kWoken)
      throw_errno(std::string("io_uring: our MSG_RING failed, waiting for ") + what,
                  c.res < 0 ? -c.res : EIO);
    if (c.res < 0) throw_errno(std::string("io_uring ") + what, -c.res);
    if (want >= 0 && c.res != want)
      throw std::runtime_error(std::string("io_uring ") + what + " returned " +
                               std::to_string(c.res));
  }

  wake how_;
  int efd_;
  std::uint64_t value_ = 0;
  std::unique_ptr<uring_ring> ring_;
  unique_fd ep_;
};

// The child's end on any failure of either thread: the reason for the probe, then _exit, which
// ends the other thread wherever it waits.
[[noreturn]] void fail(samples& s, const char* why) {
  std::snprintf(s.error, sizeof s.error, "%s", why);
  ::_exit(1);
}

// In the child: one round of one method, `out.size()` timed round trips.
void one_round(wake how, std::array<int, 2> cpus, std::span<std::uint32_t> out, samples& s) {
  unique_fd efd[2];
  for (auto& e : efd) e.reset(check(::eventfd(0, EFD_CLOEXEC), "eventfd"));
  std::atomic<int> rings[2] = {-1, -1};
  std::atomic<int> ready{0};

  auto side = [&](int me) {
    try {
      pin_to_cpu(cpus[static_cast<std::size_t>(me)]);
      waiter w(how, efd[me].get());
      rings[me].store(w.ring_fd());
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      const int other = 1 - me;
      const int other_efd = efd[other].get(), other_ring = rings[other].load();
      for (std::size_t i = 0; i < kWarmup + out.size(); ++i) {
        if (me == 1) {
          w.wait();
          w.wake_partner(other_efd, other_ring);
          continue;
        }
        const std::int64_t t0 = now_ns();
        w.wake_partner(other_efd, other_ring);
        w.wait();
        if (i >= kWarmup)
          out[i - kWarmup] = static_cast<std::uint32_t>(
              std::min<std::int64_t>(now_ns() - t0, std::numeric_limits<std::uint32_t>::max()));
      }
    } catch (const std::exception& e) {
      fail(s, e.what());
    }
  };
  std::thread b(side, 1);
  side(0);
  b.join();
}

int measure(const std::vector<wake>& methods, std::array<int, 2> cpus, samples& s) {
  try {
    for (int r = 0; r < kRounds; ++r) {
      if (cpus[0] != cpus[1])
        if (const auto line = cache_line_round_trip(cpus[0], cpus[1], kLineRounds))
          s.line_ns[static_cast<std::size_t>(r)] = line->p50;
      for (std::size_t k = 0; k < methods.size(); ++k) {
        const std::size_t m = (k + static_cast<std::size_t>(r)) % methods.size();
        one_round(methods[m], cpus, s.ns[m][static_cast<std::size_t>(r)], s);
      }
    }
  } catch (const std::exception& e) {
    fail(s, e.what());
  }
  s.done = 1;
  return 0;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

#endif  // IPCBENCH_HAVE_URING

// A claim that `slow` takes `factor` times as long as `fast` per round trip.
struct claim_ratio {
  wake slow;
  wake fast;
  double factor;
  const char* stated;  // how the claim put it: "about 3x"
};

#ifdef IPCBENCH_HAVE_URING

// One placement of the two threads, measured and judged: holds when the ratio of the round's
// medians is nearer the claimed factor than 1 (above its geometric middle, sqrt(factor)) in
// kAgreeing rounds or more, does not hold when it is below in as many, else inconclusive.
struct placement {
  nlohmann::json value;
  verdict result;
  std::string summary;  // "MSG_RING 37.1 us against ... : 0.84x, per round 0.79x to 0.98x"
};

// The host's states over the rounds (states_of_rounds), into `value` ("cache line per round ns",
// "host states") and as a clause for the summary: the rounds' cache-line round trips in one
// state, or each state's round trip, rounds, ratios and rounds above the threshold, and where
// every round of one state is above and every round of the other below, that the host's state
// decides. Empty where no round has a cache-line round trip (the threads on one CPU).
std::string host_states(const std::array<double, kRounds>& line_ns,
                        const std::vector<double>& ratios, double middle, nlohmann::json& value) {
  const std::vector<host_state> states = states_of_rounds(line_ns);
  if (states.empty()) return {};
  value["cache line per round ns"] = nlohmann::json::array();
  for (double ns : line_ns) value["cache line per round ns"].push_back(round_to(ns, 0));
  if (states.size() == 1) {
    std::vector<double> measured;
    for (double ns : line_ns)
      if (ns > 0) measured.push_back(ns);
    const auto [low, high] = std::ranges::minmax(measured);
    return "; a cache line crossed in " + rounded(low, 0) + " to " + rounded(high, 0) +
           " ns before the rounds (one state of the host)";
  }
  std::string out = "; the host in two states over the rounds (cache line before each):";
  value["host states"] = nlohmann::json::array();
  std::vector<std::size_t> above_in;
  for (std::size_t k = 0; k < states.size(); ++k) {
    const host_state& st = states[k];
    std::vector<double> in;
    for (std::size_t r : st.rounds) in.push_back(ratios[r]);
    const auto [low, high] = std::ranges::minmax(in);
    const auto above =
        static_cast<std::size_t>(std::ranges::count_if(in, [&](double x) { return x > middle; }));
    above_in.push_back(above);
    value["host states"].push_back({{"cache line ns", round_to(st.line_ns, 0)},
                                    {"rounds", st.rounds.size()},
                                    {"ratio per round, lowest", round_to(low, 2)},
                                    {"ratio per round, highest", round_to(high, 2)},
                                    {"rounds above the threshold", above}});
    out += std::string(k ? "," : "") + " " + rounded(st.line_ns, 0) + " ns in " +
           std::to_string(st.rounds.size()) + (st.rounds.size() == 1 ? " round" : " rounds") +
           " (" + rounded(low, 2) + "x" +
           (st.rounds.size() == 1 ? std::string() : " to " + rounded(high, 2) + "x") + ", " +
           std::to_string(above) + " above)";
  }
  const bool all_a = above_in[0] == states[0].rounds.size() && above_in[1] == 0;
  const bool all_b = above_in[1] == states[1].rounds.size() && above_in[0] == 0;
  if (all_a || all_b) out += ": the host's state decides the ratio's side of the threshold";
  return out;
}

placement measure_placement(const std::vector<wake>& methods, const claim_ratio& c,
                            std::array<int, 2> cpus, const deadline& d) {
  shared_page<samples> s;
  child_process child = child_process::fork([&] { return measure(methods, cpus, *s); });
  const int status = wait_exit(child, d, "the measuring threads");
  if (s->done != 1)
    throw std::runtime_error(s->error[0] != '\0'
                                 ? std::string(s->error)
                                 : "the measuring child " + describe_wait_status(status));

  placement p;
  p.value = nlohmann::json::object();
  std::vector<std::vector<double>> round_medians(methods.size());
  for (std::size_t m = 0; m < methods.size(); ++m) {
    std::vector<double> all;
    for (const auto& round : s->ns[m]) {
      std::vector<double> one(round.begin(), round.end());
      round_medians[m].push_back(median(one) / 1000);
      all.insert(all.end(), one.begin(), one.end());
    }
    nlohmann::json row = {{"p50 us", round_to(percentile(all, 0.50) / 1000, 2)},
                          {"p90 us", round_to(percentile(all, 0.90) / 1000, 2)},
                          {"p99 us", round_to(percentile(all, 0.99) / 1000, 2)},
                          {"round medians us", nlohmann::json::array()}};
    for (double v : round_medians[m]) row["round medians us"].push_back(round_to(v, 2));
    p.value[label(methods[m])] = std::move(row);
  }
  std::vector<double> ratios;
  for (int r = 0; r < kRounds; ++r)
    ratios.push_back(round_medians[0][static_cast<std::size_t>(r)] /
                     round_medians[1][static_cast<std::size_t>(r)]);
  const double lo = *std::min_element(ratios.begin(), ratios.end());
  const double hi = *std::max_element(ratios.begin(), ratios.end());
  const double middle = std::sqrt(c.factor);
  const double overall = median(round_medians[0]) / median(round_medians[1]);
  const auto above =
      std::count_if(ratios.begin(), ratios.end(), [&](double r) { return r > middle; });
  p.value["ratio, median of rounds"] = round_to(overall, 2);
  p.value["ratio per round, lowest"] = round_to(lo, 2);
  p.value["ratio per round, highest"] = round_to(hi, 2);
  p.value["rounds above the threshold"] = above;
  p.value["threads on CPUs"] = {cpus[0], cpus[1]};
  p.result = above >= kAgreeing             ? verdict::holds
             : kRounds - above >= kAgreeing ? verdict::does_not_hold
                                            : verdict::inconclusive;
  p.summary = std::string(label(c.slow)) + " " + rounded(median(round_medians[0]), 1) +
              " us against " + label(c.fast) + " " + rounded(median(round_medians[1]), 1) +
              " us: " + rounded(overall, 2) + "x, per round " + rounded(lo, 2) + "x to " +
              rounded(hi, 2) + "x, " + std::to_string(above) + " of " + std::to_string(kRounds) +
              " rounds above " + rounded(middle, 2) + "x (" + std::string(to_string(p.result)) +
              ")";
  p.summary += host_states(s->line_ns, ratios, middle, p.value);
  return p;
}

#endif  // IPCBENCH_HAVE_URING

// Runs `methods` (the claim's two first) with the threads on two CPUs, as the suite's peers
// run, which decides the verdict, then on one CPU, where no wake-up crosses CPUs and the paths'
// own costs show; the second is reported beside the first.
outcome decide([[maybe_unused]] const std::vector<wake>& methods,
               [[maybe_unused]] const claim_ratio& c, [[maybe_unused]] const deadline& d) {
#ifndef IPCBENCH_HAVE_URING
  throw std::runtime_error(IPCBENCH_URING_UNAVAILABLE);
#else
  if (const std::string& why = uring_unavailable(false); !why.empty())
    throw std::runtime_error(why);
  const std::array<int, 2> cpus = two_cpus();
  // A sleeping CPU's wake-up is most of a cross-CPU round trip: hold the idle states, as the
  // bench does by default, and say so.
  // Where the request reaches nothing or cannot be made, idle pollers hold them, as in the bench.
  const idle_hold hold(idle_mode::held, allowed_cpus());
  const idle_state_request& idle = hold.request();
  const std::string qos = "the PM QoS request " + idle.outcome(/*brief=*/true);
  outcome o;
  o.value = nlohmann::json::object();
  o.value["idle states"] =
      idle.takes_effect() ? std::string("held")
      : hold.poller()     ? "held by idle pollers (" + qos + ")"
      : idle.in_force() != idle_mode::held
          ? "allowed (" + idle.reason() + "; no idle poller: " + hold.no_poller() + ")"
          : "held, to no effect (" + idle.no_effect_brief() +
                "; no idle poller: " + hold.no_poller() + ")";
  o.value["ratio"] = std::string(label(c.slow)) + " / " + label(c.fast) + ", round trip";
  o.value["claimed ratio"] = round_to(c.factor, 2);
  o.value["threshold (sqrt of claimed)"] = round_to(std::sqrt(c.factor), 2);
  o.value["round trips a round"] = kTrips;
  o.value["rounds"] = kRounds;
  std::string where;
  if (cpus[0] != cpus[1]) {
    placement two = measure_placement(methods, c, cpus, d);
    o.value["two CPUs"] = std::move(two.value);
    o.result = two.result;
    where = "on two CPUs, " + two.summary;
  }
  placement one = measure_placement(methods, c, {cpus[0], cpus[0]}, d);
  o.value["one CPU"] = std::move(one.value);
  if (where.empty()) {
    o.result = one.result;
    where = "one CPU only here, both threads on it: " + one.summary;
  } else {
    where += "; on one CPU, " + one.summary;
  }
  o.detail = "round trip medians of " + std::to_string(kRounds) + " rounds " + where +
             ", where the claim says " + c.stated + "; idle states " +
             o.value["idle states"].get<std::string>();
  return o;
#endif
}

}  // namespace

std::vector<probe> uring_wakeup_probes() {
  const std::string common =
      "round trips between two threads of a forked child, each waking the other, pinned to two "
      "CPUs (the verdict) and then both to one (reported beside it), CPU idle states held as "
      "the bench holds them: " +
      std::to_string(kRounds) + " rounds of " + std::to_string(kTrips) +
      " timed round trips (after " + std::to_string(kWarmup) +
      " untimed) per method, the methods' order rotated each round. Holds when the ratio of a "
      "round's medians is above the square root of the claimed ratio (nearer the claim than to "
      "no difference) in " +
      std::to_string(kAgreeing) + " rounds or more, does not hold when it is below in as many; ";
  return {
      {"io_uring_eventfd_vs_msg_ring",
       "A thread wakes a ring about 3x faster by writing an eventfd the ring reads than with "
       "IORING_OP_MSG_RING from a ring of its own",
       "github.com/axboe/liburing/issues/1150 (a user's comment, 2024)",
       common + "the ring waits for an IORING_OP_READ of its eventfd (woken by write(2)) against a "
                "CQE posted by the partner's MSG_RING (IOSQE_CQE_SKIP_SUCCESS); plain eventfd "
                "read(2) beside them",
       [](const deadline& d) {
         return decide({wake::msg_ring, wake::ring_read_eventfd, wake::eventfd_read},
                       {wake::msg_ring, wake::ring_read_eventfd, 3.0, "about 3x"}, d);
       }},
      {"io_uring_msg_ring_defer_taskrun",
       "With IORING_SETUP_DEFER_TASKRUN, IORING_OP_MSG_RING wakes a ring 3-4x faster than an "
       "eventfd",
       "github.com/lnx-search/i2o2/issues/18",
       common +
           "both rings IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, each made in its "
           "thread; an IORING_OP_READ of the ring's eventfd (woken by write(2)) against a CQE "
           "posted by MSG_RING; plain eventfd read(2) beside them",
       [](const deadline& d) {
         return decide({wake::ring_read_eventfd_defer, wake::msg_ring_defer, wake::eventfd_read},
                       {wake::ring_read_eventfd_defer, wake::msg_ring_defer, 3.5, "3-4x"}, d);
       }},
      {"io_uring_poll_add_vs_epoll",
       "A wake-up through IORING_OP_POLL_ADD costs about 2.9x one through epoll (1.7-2.1 us "
       "against 0.65 us)",
       "github.com/axboe/liburing/issues/1105",
       common +
           "the thread waits for a one-shot IORING_OP_POLL_ADD (POLLIN) of its eventfd against "
           "epoll_wait(2) on it, each then reading the eventfd; woken by write(2)",
       [](const deadline& d) {
         return decide({wake::poll_add, wake::epoll},
                       {wake::poll_add, wake::epoll, 1.9 / 0.65, "about 2.9x"}, d);
       }},
  };
}

}  // namespace ipcbench::probes
