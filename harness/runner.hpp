// Runs one benchmark of a channel type: checks that the mechanism can carry the size, creates
// the channel before fork, and hands the coordinator the peers' code, instantiated for this
// channel's endpoint; in the spawn process model, the rendezvous a launched peer attaches by.
// Coordinator side, except run_attached (a launched peer); instantiated by the mechanism registry.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/fan_in.hpp"
#include "harness/fan_out.hpp"
#include "harness/group.hpp"
#include "harness/peer.hpp"
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

// Opens an end by `open()`. Where the library starts threads of its own (req.library_cpus),
// they start while the calling thread may run on those CPUs, and the calling thread alone is
// pinned back after (traits.library_threads). Peer side.
template <class Open>
auto open_end(const run_request& req, Open&& open) {
  if (req.library_cpus.empty()) return open();
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

template <channel C>
run_result run_channel(const mechanism_traits& traits, const run_request& req) {
  if (std::string why = cannot_run(traits, req); !why.empty()) {
    return skipped_run(std::move(why));
  }
  if (req.process == process_model::spawn && !named_channel<C>) {
    return skipped_run(kRelatedOnlyReason);
  }
  try {
    private_dir dir;
    // The CPUs the coordinator will pin the peers to (choose_cpus is deterministic): unpinned
    // peers may share a CPU too.
    const cpu_choice cpus = choose_cpus(req.place);
    const bool share = cpus.producer < 0 || cpus.consumer < 0 || cpus.producer == cpus.consumer;
    C ch(channel_config{req.message_size, req.pat, &dir, share});
    run_request rq = request_for(traits, req);
    if constexpr (requires { ch.helper_pids(); }) rq.helper_pids = ch.helper_pids();
    peer_program program{[&](role r, control_link& link) {
                           return run_peer(open_end(rq, [&] { return ch.open(r); }), r, link, rq);
                         },
                         [&] { ch.opened(); }, std::nullopt};
    if constexpr (named_channel<C>) {
      if (rq.process == process_model::spawn)
        program.spawned = spawn_target{traits.id, ch.rendezvous()};
    }
    run_result res = coordinate(rq, program);
    // A helper that ended (a killed bus daemon) is the cause whatever the peers saw. A helper
    // that ended while the peers went on (a shared-memory broker: the peers' memory outlives
    // it) still fails the run: its numbers were measured with the machinery half gone.
    if constexpr (requires { ch.helper_failure(std::chrono::milliseconds(0)); }) {
      if (res.status == run_status::failed) {
        // A killed daemon's sockets close (its peers fail) a moment before it can be reaped.
        if (std::string why = ch.helper_failure(std::chrono::milliseconds(200)); !why.empty())
          res.reason = why + "; " + res.reason;
      } else if (res.status == run_status::ok) {
        if (std::string why = ch.helper_failure(std::chrono::milliseconds(0)); !why.empty()) {
          res.status = run_status::failed;
          res.reason = why + " during the run";
        }
      }
    }
    if (res.reason.starts_with("lost ")) res.reason = traits.mechanism + " " + res.reason;
    return res;
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
}

// Why a group run of this size cannot run, or empty: a fork model only (the group forks every
// member), and N from 1 to kMaxGroupSize.
std::string cannot_run_group(const run_request& req, std::size_t n);

// pairs/N: N channels of type C, each created before fork as for one pair, and N pairs of peers
// running run_peer() on them at once under the group coordinator. Every forked member inherits
// the other pairs' channel descriptors until it exits (only its own channel's open() drops the
// rest of its copy); a member that dies is seen on its control channel, not on the data channel,
// and fails the run at once.
template <channel C>
run_result run_pairs(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run(traits, req));
  if (skip.reason.empty()) skip.reason = cannot_run_group(req, n);
  if (!skip.reason.empty()) return skip;
  try {
    // A directory per pair: mechanisms that rendezvous by path use fixed names inside theirs.
    std::vector<std::unique_ptr<private_dir>> dirs;
    const auto members = members_of(topology::pairs, n);
    const group_placement where = place_group(req.place, members, req.cpus);
    // Spinning waiters yield when they may share a CPU: pinned together, unpinned, or more peers
    // than CPUs.
    bool share = where.oversubscribed;
    for (std::size_t i = 0; i < n && !share; ++i)
      share = where.cpus[2 * i] < 0 || where.cpus[2 * i] == where.cpus[2 * i + 1];
    std::vector<std::unique_ptr<C>> chs;
    for (std::size_t i = 0; i < n; ++i) {
      dirs.push_back(std::make_unique<private_dir>());
      chs.push_back(
          std::make_unique<C>(channel_config{req.message_size, req.pat, dirs.back().get(), share}));
    }
    run_request rq = request_for(traits, req);
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      auto& ch = *chs[static_cast<std::size_t>(m.index)];
      return run_peer(open_end(rq, [&] { return ch.open(m.r); }), m.r, link, rq);
    };
    program.opened = [&] {
      for (auto& ch : chs) ch->opened();
    };
    if constexpr (requires { chs[0]->helper_pids(); }) {
      program.helpers = [&](std::size_t k) {
        return chs[static_cast<std::size_t>(members[k].index)]->helper_pids();
      };
    }
    run_result res = coordinate_group(rq, topology::pairs, program, assemble_pairs);
    // A helper that ended (a killed bus daemon) is the cause whatever the peers saw.
    if constexpr (requires { chs[0]->helper_failure(std::chrono::milliseconds(0)); }) {
      if (res.status == run_status::failed) {
        for (auto& ch : chs)
          if (std::string why = ch->helper_failure(std::chrono::milliseconds(200)); !why.empty()) {
            res.reason = why + "; " + res.reason;
            break;
          }
      }
    }
    return res;
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
}

// fan_in/N: one channel of type C, created before fork; N producers each open the producer's
// end of it (their forked copies of one descriptor, or the name opened N times) and one
// consumer the consumer's end. Throughput only, records of at least kFanInMinSize bytes (the
// producer's number rides in the sequence field).
template <channel C>
run_result run_fan_in(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run(traits, req));
  if (skip.reason.empty()) skip.reason = cannot_run_group(req, n);
  if (skip.reason.empty() && req.pat != pattern::throughput)
    skip.reason = "fan-in is a stream: throughput only";
  if (skip.reason.empty() && req.message_size < kFanInMinSize)
    skip.reason = "fan-in records carry the producer's number in " + std::to_string(kFanInMinSize) +
                  " bytes; " + std::to_string(req.message_size) + " is too small";
  if (!skip.reason.empty()) return skip;
  try {
    private_dir dir;
    const auto members = members_of(topology::fan_in, n);
    const group_placement where = place_group(req.place, members, req.cpus);
    // Spinning waiters yield when any two members may share a CPU.
    bool share = where.oversubscribed;
    for (std::size_t i = 0; i < where.cpus.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        share = share || where.cpus[i] < 0 || where.cpus[i] == where.cpus[j];
    C ch(channel_config{req.message_size, req.pat, &dir, share});
    run_request rq = request_for(traits, req);
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      const fan_in_setup setup{n, m.index, traits.atomic_write_max};
      return run_fan_in_peer(open_end(rq, [&] { return ch.open(m.r); }), m.r, link, rq, setup);
    };
    program.opened = [&] { ch.opened(); };
    return coordinate_group(rq, topology::fan_in, program, assemble_fan_in);
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
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
  try {
    std::vector<std::unique_ptr<private_dir>> dirs;
    const auto members = members_of(topology::fan_out, n);
    const group_placement where = place_group(req.place, members, req.cpus);
    const bool share = where.oversubscribed || req.place != placement::cross;
    std::vector<std::unique_ptr<C>> chs;
    for (std::size_t i = 0; i < n; ++i) {
      dirs.push_back(std::make_unique<private_dir>());
      chs.push_back(
          std::make_unique<C>(channel_config{req.message_size, req.pat, dirs.back().get(), share}));
    }
    run_request rq = req;
    rq.lossy = traits.lossy;
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      if (m.r == role::consumer)
        return run_fan_out_consumer(chs[static_cast<std::size_t>(m.index)]->open(m.r), link, rq);
      std::vector<decltype(chs[0]->open(role::producer))> eps;
      for (auto& ch : chs) eps.push_back(ch->open(role::producer));
      return run_fan_out_producer(std::move(eps), link, rq);
    };
    program.opened = [&] {
      for (auto& ch : chs) ch->opened();
    };
    return coordinate_group(rq, topology::fan_out, program, assemble_fan_out);
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
}

// fan_out/N over one broadcast channel of type C that every consumer reads (a shared-memory
// ring): C(cfg, n) before fork, open(role, index) in each member, every consumer receiving
// every message, checked as over a channel of its own.
template <class C>
run_result run_fan_out_broadcast(const mechanism_traits& traits, const run_request& req,
                                 std::size_t n) {
  run_result skip = skipped_run(cannot_run_fan_out(traits, req, n, 0));
  if (!skip.reason.empty()) return skip;
  try {
    private_dir dir;
    const auto members = members_of(topology::fan_out, n);
    const group_placement where = place_group(req.place, members, req.cpus);
    const bool share = where.oversubscribed || req.place != placement::cross;
    C ch(channel_config{req.message_size, req.pat, &dir, share}, n);
    run_request rq = req;
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      const auto index = static_cast<std::size_t>(m.index);
      if (m.r == role::consumer) return run_fan_out_consumer(ch.open(m.r, index), link, rq);
      std::vector<decltype(ch.open(role::producer, 0))> eps;
      eps.push_back(ch.open(role::producer, 0));
      return run_fan_out_producer(std::move(eps), link, rq);
    };
    program.opened = [&] { ch.opened(); };
    return coordinate_group(rq, topology::fan_out, program, assemble_fan_out);
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
}

// fan_out/N over a work queue: one channel of type C (a message queue), one producer, N readers
// that take each message from it, whoever comes first (harness/fan_out.hpp).
template <channel C>
run_result run_work_queue(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip = skipped_run(cannot_run_fan_out(traits, req, n, kWorkQueueMinSize));
  if (!skip.reason.empty()) return skip;
  try {
    private_dir dir;
    const auto members = members_of(topology::fan_out, n);
    const group_placement where = place_group(req.place, members, req.cpus);
    const bool share = where.oversubscribed || req.place != placement::cross;
    C ch(channel_config{req.message_size, req.pat, &dir, share});
    run_request rq = req;
    rq.lossy = traits.lossy;
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      return run_work_queue_peer(ch.open(members[k].r), members[k].r, link, rq, n);
    };
    program.opened = [&] { ch.opened(); };
    return coordinate_group(rq, topology::fan_out, program, assemble_fan_out);
  } catch (const std::exception& e) {
    return setup_failure(e);
  }
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
