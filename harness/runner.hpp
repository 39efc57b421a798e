// Runs one benchmark of a channel type, of any shape (one pair, pairs/N, fan_in/N, fan_out/N):
// checks that the mechanism can carry the request, creates the channels before fork, and hands
// the one coordinator (harness/coordinator.hpp) the members' code, instantiated for this
// channel's endpoint, through one skeleton (run_with); in the spawn process model, the
// rendezvous a launched peer attaches by. Coordinator side, except run_attached (a launched
// peer); instantiated by the mechanism registry.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/fan_in.hpp"
#include "harness/fan_out.hpp"
#include "harness/pairs.hpp"
#include "harness/peer.hpp"
#include "harness/placement.hpp"
#include "harness/rate_search.hpp"
#include "harness/session.hpp"
#include "mechanisms/adapter.hpp"
#include "sys/system.hpp"

namespace ipcbench {

// Why `traits` cannot run `req`, or empty.
std::string cannot_run(const mechanism_traits& traits, const run_request& req);

// The skip reason of a mechanism that is not a named_channel under the spawn process model.
inline constexpr const char* kRelatedOnlyReason = "related processes only (inherited descriptors)";

// A run that did not take place, with the reason.
inline run_result skipped_run(std::string reason) {
  run_result r;
  r.status = run_status::skipped;
  r.reason = std::move(reason);
  return r;
}

// A run whose channel or peers could not be set up: failed, with what threw.
inline run_result setup_failure(const std::exception& e) {
  run_result r;
  r.status = run_status::failed;
  r.reason = std::string("setup: ") + e.what();
  return r;
}

// Opens an end by `open()`. Where the library starts threads of its own (req.library_cpus) and
// they are to run free, they start while the calling thread may run on those CPUs, and the
// calling thread alone is pinned back after (traits.library_threads). Pinned (the default), they
// start from the pinned calling thread and inherit its CPU, as under `taskset`. Peer side.
template <class Open>
auto open_end(const run_request& req, Open&& open) {
  if (req.library_cpus.empty() || req.library_threads != library_threads_mode::free) return open();
  const std::vector<int> mine = allowed_cpus();
  set_cpus(req.library_cpus);
  try {
    auto ep = open();
    set_cpus(mine);
    return ep;
  } catch (...) {
    set_cpus(mine);
    throw;
  }
}

// The request with the mechanism's own facts: whether it loses messages, and the CPUs its
// library's threads may use (the run's allowed CPUs, read before any peer is pinned).
inline run_request request_for(const mechanism_traits& traits, const run_request& req) {
  run_request rq = req;
  rq.lossy = traits.lossy;
  if (traits.library_threads) rq.library_cpus = allowed_cpus();
  return rq;
}

// The shape of one benchmark: one pair (no topology), or a topology of size n, over `channels`
// channels, and how the members' reports become its result.
struct run_shape {
  std::optional<topology> topo;  // nullopt: one pair
  std::size_t n = 1;
  std::size_t channels = 1;
  group_assembler assemble;
};

// The one skeleton of every benchmark: places the members once (a placement this machine cannot
// honour skips the run), creates shape.channels channels of type C by `make(config)` before
// fork, each in a private directory of its own (mechanisms that rendezvous by path use fixed
// names inside theirs), told whether its waiters may share a CPU (may_share_cpu: then spinning
// waiters yield), and hands the coordinator the members' code: `body(chs, member, link, rq)` in
// each forked member, or, in the spawn process model (one pair of a named channel), the
// rendezvous a launched peer attaches by. Every forked member inherits the other channels'
// descriptors until it exits; a member that dies is seen on its control channel, not on the
// data channel, and fails the run at once. A helper process that ended (a killed bus daemon) is
// the cause whatever the peers saw; one that ended while the peers went on (a shared-memory
// broker: the peers' memory outlives it) still fails the run: its numbers were measured with the
// machinery half gone. Never throws: a channel or member that cannot be set up is a failed run.
template <class C, class Make, class Body>
run_result run_with(const mechanism_traits& traits, const run_request& req, const run_shape& shape,
                    Make&& make, Body&& body) {
  try {
    const auto members = members_of(shape.topo.value_or(topology::pairs), shape.n);
    const group_placement where = place_group(req.place, members, req.cpus);
    if (!where.impossible.empty()) return skipped_run(where.impossible);
    const bool share = may_share_cpu(where);
    std::vector<std::unique_ptr<private_dir>> dirs;
    std::vector<std::unique_ptr<C>> chs;
    for (std::size_t i = 0; i < shape.channels; ++i) {
      dirs.push_back(std::make_unique<private_dir>());
      chs.push_back(make(
          channel_config{req.message_size, req.pat, dirs.back().get(), share, req.thread_peers}));
    }
    run_request rq = request_for(traits, req);
    // A topology's report keeps no member's library threads (library_threads is one pair's).
    rq.group_member = shape.topo.has_value();
    group_program program;
    program.members = members;
    program.topo = shape.topo;
    program.body = [&](std::size_t k, control_link& link) -> int {
      return body(chs, members[k], link, rq);
    };
    program.opened = [&] {
      for (auto& ch : chs) ch->opened();
    };
    if constexpr (requires { chs[0]->helper_pids(); }) {
      program.helpers = [&](std::size_t k) {
        return chs[static_cast<std::size_t>(members[k].index) % chs.size()]->helper_pids();
      };
    }
    if constexpr (named_channel<C>) {
      if (rq.process == process_model::spawn)
        program.spawned = spawn_target{traits.id, chs[0]->rendezvous()};
    }
    run_result res = coordinate(rq, program, where, shape.assemble);
    if constexpr (requires { chs[0]->helper_failure(std::chrono::milliseconds(0)); }) {
      // A killed daemon's sockets close (its peers fail) a moment before it can be reaped.
      const auto patience = std::chrono::milliseconds(res.status == run_status::failed ? 200 : 0);
      for (auto& ch : chs) {
        const std::string why =
            res.status == run_status::skipped ? std::string() : ch->helper_failure(patience);
        if (why.empty()) continue;
        if (res.status == run_status::failed) {
          res.reason = why + "; " + res.reason;
        } else {
          res.status = run_status::failed;
          res.reason = why + " during the run";
        }
        break;
      }
    }
    // A lost round trip fails a pair's latency run (assemble): name the mechanism that lost it.
    if (res.status == run_status::failed && !res.group && rq.pat == pattern::latency &&
        res.lost + res.duplicated + res.reordered != 0)
      res.reason = traits.mechanism + " " + res.reason;
    return res;
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
}

// Makes a channel of type C from its configuration (every shape but the broadcast ring).
template <class C>
std::unique_ptr<C> make_channel(const channel_config& cfg) {
  return std::make_unique<C>(cfg);
}

// One pair, and each pair of pairs/N: opens the member's end of its pair's channel and runs the
// peer loop.
inline constexpr auto pair_body = [](auto& chs, const group_member& m, control_link& link,
                                     const run_request& rq) -> int {
  auto& ch = *chs[static_cast<std::size_t>(m.index)];
  return run_peer(open_end(rq, [&] { return ch.open(m.r); }), m.r, link, rq);
};

// Runs one benchmark of a channel type: checks that the mechanism can carry the size, creates
// the channel before fork, and runs one pair over it (run_with).
template <channel C>
run_result run_channel(const mechanism_traits& traits, const run_request& req) {
  if (std::string why = cannot_run(traits, req); !why.empty()) {
    return skipped_run(std::move(why));
  }
  if (req.process == process_model::spawn && !named_channel<C>) {
    return skipped_run(kRelatedOnlyReason);
  }
  return run_with<C>(traits, req, run_shape{std::nullopt, 1, 1, assemble_pair}, make_channel<C>,
                     pair_body);
}

// Why a group run of this size cannot run, or empty: a fork model only (the group forks every
// member), and N from 1 to kMaxGroupSize.
std::string cannot_run_group(const run_request& req, std::size_t n);

// pairs/N: N channels of type C, each created before fork as for one pair, and N pairs of peers
// running run_peer() on them at once (run_with).
template <channel C>
run_result run_pairs(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run(traits, req));
  if (skip.reason.empty()) skip.reason = cannot_run_group(req, n);
  if (!skip.reason.empty()) return skip;
  return run_with<C>(traits, req, run_shape{topology::pairs, n, n, assemble_pairs}, make_channel<C>,
                     pair_body);
}

// A fan-in channel: a channel, or a channel type made for its N producers, C(cfg, n) (a stream
// server that accepts N connections).
template <class C>
concept fan_in_channel = channel<C> ||
    (std::constructible_from<C, const channel_config&, std::size_t>&& requires(C& c, role r) {
      {c.opened()};
      { c.open(r) } -> endpoint;
    });

// fan_in/N: one channel of type C, created before fork (C(cfg, n) where C takes the number of
// producers); N producers each open the producer's end of it (their forked copies of one
// descriptor, the name opened N times, or a connection each) and one consumer the consumer's
// end. Throughput only, records of at least kFanInMinSize bytes (the producer's number rides in
// the sequence field).
template <fan_in_channel C>
run_result run_fan_in(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run(traits, req));
  if (skip.reason.empty()) skip.reason = cannot_run_group(req, n);
  if (skip.reason.empty() && req.pat != pattern::throughput)
    skip.reason = "fan-in is a stream: throughput only";
  if (skip.reason.empty() && req.message_size < kFanInMinSize)
    skip.reason = "fan-in records carry the producer's number in " + std::to_string(kFanInMinSize) +
                  " bytes; " + std::to_string(req.message_size) + " is too small";
  if (!skip.reason.empty()) return skip;
  auto make = [n](const channel_config& cfg) {
    if constexpr (std::constructible_from<C, const channel_config&, std::size_t>)
      return std::make_unique<C>(cfg, n);
    else
      return std::make_unique<C>(cfg);
  };
  return run_with<C>(
      traits, req, run_shape{topology::fan_in, n, 1, assemble_fan_in}, make,
      [&](auto& chs, const group_member& m, control_link& link, const run_request& rq) -> int {
        const fan_in_setup setup{n, m.index, traits.atomic_write_max};
        return run_fan_in_peer(open_end(rq, [&] { return chs[0]->open(m.r); }), m.r, link, rq,
                               setup);
      });
}

// The paced run of a fan topology runs its producers at this fraction of their saturated rate.
inline constexpr double kPacedDelayFraction = 0.5;

// fan_in/N and fan_out/N: runs `run(req)` (saturated); when it is an ok stream, runs it again
// with every producer paced (run_request::send_rate) at kPacedDelayFraction of the rate each
// producer kept in the saturated run (its messages over the common window), and puts that
// run's delay, measured from the scheduled send times, in group->paced. A paced run that failed
// fails the benchmark (its data was wrong); one that was skipped, or not run (an oversubscribed
// group), leaves the reason.
template <class Run>
run_result with_paced_delay(const run_request& req, Run&& run) {
  run_result res = run(req);
  if (res.status != run_status::ok || !res.group || req.pat != pattern::throughput ||
      req.send_rate > 0 || res.elapsed_ns <= 0)
    return res;
  const member_outcome* producer = nullptr;
  for (const auto& m : res.group->members)
    if (m.r == role::producer) producer = &m;
  if (producer == nullptr || producer->messages == 0) return res;
  if (res.group->oversubscribed) {
    // A paced producer busy-waits for its slot (harness/pacer.hpp): with more peers than CPUs
    // it would take the CPU its consumer needs, and the delay would be the scheduler's.
    res.group->paced.emplace().failure =
        "not run: the group is oversubscribed, and a paced producer busy-waits for its slots";
    return res;
  }
  run_request paced = req;
  paced.send_rate = kPacedDelayFraction * static_cast<double>(producer->messages) * 1e9 /
                    static_cast<double>(res.elapsed_ns);
  const run_result p = run(paced);
  paced_delay& out = res.group->paced.emplace();
  out.rate_per_producer = paced.send_rate;
  if (p.status == run_status::failed) {
    res.status = run_status::failed;
    res.reason = "paced run at " + std::to_string(std::llround(paced.send_rate)) +
                 " msg/s per producer: " + p.reason;
    return res;
  }
  if (p.status != run_status::ok || !p.group) {
    out.failure = p.reason;
    return res;
  }
  const role lone = res.group->topo == topology::fan_in ? role::consumer : role::producer;
  for (const auto& m : p.group->members)
    if (m.r == lone) out.delay.merge(m.delay);
  return res;
}

// Why a fan-out of this request cannot run, or empty (group limits, throughput only, and for
// a work queue records that hold their whole sequence number).
std::string cannot_run_fan_out(const mechanism_traits& traits, const run_request& req,
                               std::size_t n, std::size_t min_size);

// fan_out/N over a channel per consumer: N channels of type C created before fork; the producer
// opens the producer's end of all N and writes every message to each, consumer i opens the
// consumer's end of channel i. Every member inherits the other channels' descriptors until it
// exits, as in pairs/N.
template <channel C>
run_result run_fan_out_channels(const mechanism_traits& traits, const run_request& req,
                                std::size_t n) {
  run_result skip = skipped_run(cannot_run_fan_out(traits, req, n, 0));
  if (!skip.reason.empty()) return skip;
  return run_with<C>(
      traits, req, run_shape{topology::fan_out, n, n, assemble_fan_out}, make_channel<C>,
      [](auto& chs, const group_member& m, control_link& link, const run_request& rq) -> int {
        if (m.r == role::consumer)
          return run_fan_out_consumer(
              open_end(rq, [&] { return chs[static_cast<std::size_t>(m.index)]->open(m.r); }), link,
              rq);
        std::vector<decltype(chs[0]->open(role::producer))> eps;
        for (auto& ch : chs) eps.push_back(open_end(rq, [&] { return ch->open(role::producer); }));
        return run_fan_out_producer(std::move(eps), link, rq);
      });
}

// fan_out/N over one broadcast channel of type C that every consumer reads (a shared-memory
// ring): C(cfg, n) before fork, open(role, index) in each member, every consumer receiving
// every message, checked as over a channel of its own.
template <class C>
run_result run_fan_out_broadcast(const mechanism_traits& traits, const run_request& req,
                                 std::size_t n) {
  run_result skip = skipped_run(cannot_run_fan_out(traits, req, n, 0));
  if (!skip.reason.empty()) return skip;
  return run_with<C>(
      traits, req, run_shape{topology::fan_out, n, 1, assemble_fan_out},
      [n](const channel_config& cfg) { return std::make_unique<C>(cfg, n); },
      [](auto& chs, const group_member& m, control_link& link, const run_request& rq) -> int {
        C& ch = *chs[0];
        const auto index = static_cast<std::size_t>(m.index);
        if (m.r == role::consumer)
          return run_fan_out_consumer(open_end(rq, [&] { return ch.open(m.r, index); }), link, rq);
        std::vector<decltype(ch.open(role::producer, 0))> eps;
        eps.push_back(open_end(rq, [&] { return ch.open(role::producer, 0); }));
        return run_fan_out_producer(std::move(eps), link, rq);
      });
}

// fan_out/N over a work queue: one channel of type C (a message queue), one producer, N readers
// that take each message from it, whoever comes first (harness/fan_out.hpp).
template <channel C>
run_result run_work_queue(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run_fan_out(traits, req, n, kWorkQueueMinSize));
  if (!skip.reason.empty()) return skip;
  return run_with<C>(
      traits, req, run_shape{topology::fan_out, n, 1, assemble_fan_out}, make_channel<C>,
      [n](auto& chs, const group_member& m, control_link& link, const run_request& rq) -> int {
        return run_work_queue_peer(open_end(rq, [&] { return chs[0]->open(m.r); }), m.r, link, rq,
                                   n);
      });
}

// A paced stream's trial batches aim at this fraction of the target time, and carry at least
// kMinTrialMessages messages, so that a loss below 0.1 % (none of 1,000) can be told from one
// above it.
inline constexpr double kTrialTimeFraction = 0.1;
inline constexpr std::uint64_t kMinTrialMessages = 1000;

// The request of one run of a paced stream at `rate` (0: unpaced) lasting about `time_s`: the
// sizing run, which the producer paces too, is cut to a quarter of that time, so a low rate does
// not spend seconds on it.
run_request paced_request(const run_request& req, double rate, double time_s,
                          std::uint64_t min_messages);

// Why a paced search found no rate, for the skip reason: every trial's rate and loss.
std::string no_rate_reason(const rate_search_result& s);

// The paced throughput benchmark (the `.paced` registry variants): the highest send rate with
// less than kMaxPacedLoss lost, and a timed batch at it. Every batch is a fresh run_channel()
// (new channel, new peers; a short run of its own with its sizing run and warm-up): first one
// unpaced trial, whose goodput starts the search (find_highest_rate, at most kMaxRateTrials
// paced trials), then the timed batch, paced at the best rate, at the request's target time. Its
// result is the benchmark's, with target_rate and rate_trials (every trial, the unpaced one
// included) set: the rates it reports are those measured in it, and so is its loss, which may
// exceed the threshold where the machine was busier than during the trial. When no rate
// qualified (the lowest tried, 1/16 of the unpaced goodput, lost 0.1 % or more) the benchmark
// is skipped with every trial's rate and loss in the reason: there is no rate to report. A trial
// that fails or is skipped ends the benchmark with that trial's result.
template <channel C>
run_result run_paced_channel(const mechanism_traits& traits, const run_request& req) {
  if (req.pat != pattern::throughput) {
    return skipped_run("a paced stream is throughput only");
  }
  const double trial_s = req.target_time_s * kTrialTimeFraction;
  const std::uint64_t trial_min = std::max(req.min_messages, kMinTrialMessages);
  std::uint64_t trials = 1;
  run_result unpaced = run_channel<C>(traits, paced_request(req, 0, trial_s, trial_min));
  if (unpaced.status != run_status::ok) return unpaced;
  if (!(unpaced.messages_per_second() > 0)) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = "the unpaced trial delivered no message: no rate to start the search from";
    r.rate_trials = trials;
    return r;
  }
  std::optional<run_result> broken;
  const rate_search_result found =
      find_highest_rate(unpaced.messages_per_second(), [&](double rate) -> std::optional<double> {
        run_result t = run_channel<C>(traits, paced_request(req, rate, trial_s, trial_min));
        ++trials;
        if (t.status != run_status::ok) {
          char at[64];
          std::snprintf(at, sizeof at, "trial at %.0f msg/s: ", rate);
          t.reason = at + t.reason;
          broken = std::move(t);
          return std::nullopt;
        }
        return t.loss_rate();
      });
  if (broken) {
    broken->rate_trials = trials;
    return *broken;
  }
  if (!found.best) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = no_rate_reason(found);
    r.rate_trials = trials;
    return r;
  }
  run_result res =
      run_channel<C>(traits, paced_request(req, *found.best, req.target_time_s, req.min_messages));
  res.target_rate = *found.best;
  res.rate_trials = trials;
  return res;
}

// In a launched peer (spawn process model): opens the endpoint by the rendezvous and runs the
// peer loop. Throws what attach() throws.
template <named_channel C>
int run_attached(const nlohmann::json& rendezvous, role r, control_link& link,
                 const run_request& req) {
  return run_peer(open_end(req, [&] { return C::attach(rendezvous, r); }), r, link, req);
}

}  // namespace ipcbench
