// Runs one benchmark of a channel type: checks that the mechanism can carry the size, creates
// the channel before fork, and hands the coordinator the peers' code, instantiated for this
// channel's endpoint; in the spawn process model, the rendezvous a launched peer attaches by.
// Coordinator side, except run_attached (a launched peer); instantiated by the mechanism registry.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "harness/coordinator.hpp"
#include "harness/fan_in.hpp"
#include "harness/group.hpp"
#include "harness/peer.hpp"
#include "harness/session.hpp"
#include "mechanisms/adapter.hpp"
#include "sys/system.hpp"

namespace ipcbench {

// Why `traits` cannot run `req`, or empty.
std::string cannot_run(const mechanism_traits& traits, const run_request& req);

// The skip reason of a mechanism that is not a named_channel under the spawn process model.
inline constexpr const char* kRelatedOnlyReason = "related processes only (inherited descriptors)";

template <channel C>
run_result run_channel(const mechanism_traits& traits, const run_request& req) {
  if (std::string why = cannot_run(traits, req); !why.empty()) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = std::move(why);
    return r;
  }
  if (req.process == process_model::spawn && !named_channel<C>) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = kRelatedOnlyReason;
    return r;
  }
  try {
    private_dir dir;
    // The CPUs the coordinator will pin the peers to (choose_cpus is deterministic): unpinned
    // peers may share a CPU too.
    const cpu_choice cpus = choose_cpus(req.place);
    const bool share = cpus.producer < 0 || cpus.consumer < 0 || cpus.producer == cpus.consumer;
    C ch(channel_config{req.message_size, req.pat, &dir, share});
    run_request rq = req;
    rq.lossy = traits.lossy;
    peer_program program{
        [&](role r, control_link& link) { return run_peer(ch.open(r), r, link, rq); },
        [&] { ch.opened(); }, std::nullopt};
    if constexpr (named_channel<C>) {
      if (rq.process == process_model::spawn)
        program.spawned = spawn_target{traits.id, ch.rendezvous()};
    }
    run_result res = coordinate(rq, program);
    if (res.reason.starts_with("lost ")) res.reason = traits.mechanism + " " + res.reason;
    return res;
  } catch (const std::exception& e) {
    run_result r;
    r.status = run_status::failed;
    r.reason = std::string("setup: ") + e.what();
    return r;
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
  run_result skip;
  skip.status = run_status::skipped;
  skip.reason = cannot_run(traits, req);
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
    run_request rq = req;
    rq.lossy = traits.lossy;
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      return run_peer(chs[static_cast<std::size_t>(m.index)]->open(m.r), m.r, link, rq);
    };
    program.opened = [&] {
      for (auto& ch : chs) ch->opened();
    };
    return coordinate_group(rq, topology::pairs, program, assemble_pairs);
  } catch (const std::exception& e) {
    run_result r;
    r.status = run_status::failed;
    r.reason = std::string("setup: ") + e.what();
    return r;
  }
}

// fan_in/N: one channel of type C, created before fork; N producers each open the producer's
// end of it (their forked copies of one descriptor, or the name opened N times) and one
// consumer the consumer's end. Throughput only, records of at least kFanInMinSize bytes (the
// producer's number rides in the sequence field).
template <channel C>
run_result run_fan_in(const mechanism_traits& traits, const run_request& req, std::size_t n) {
  run_result skip;
  skip.status = run_status::skipped;
  skip.reason = cannot_run(traits, req);
  if (skip.reason.empty()) skip.reason = cannot_run_group(req, n);
  if (skip.reason.empty() && req.pat != pattern::throughput)
    skip.reason = "fan-in is a stream: throughput only";
  if (skip.reason.empty() && req.message_size < kFanInMinSize)
    skip.reason = "fan-in records carry the producer's number in " +
                  std::to_string(kFanInMinSize) + " bytes; " +
                  std::to_string(req.message_size) + " is too small";
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
    run_request rq = req;
    rq.lossy = traits.lossy;
    group_program program;
    program.members = members;
    program.body = [&](std::size_t k, control_link& link) {
      const group_member& m = members[k];
      const fan_in_setup setup{n, m.index, traits.atomic_write_max};
      return run_fan_in_peer(ch.open(m.r), m.r, link, rq, setup);
    };
    program.opened = [&] { ch.opened(); };
    return coordinate_group(rq, topology::fan_in, program, assemble_fan_in);
  } catch (const std::exception& e) {
    run_result r;
    r.status = run_status::failed;
    r.reason = std::string("setup: ") + e.what();
    return r;
  }
}

// In a launched peer (spawn process model): opens the endpoint by the rendezvous and runs the
// peer loop. Throws what attach() throws.
template <named_channel C>
int run_attached(const nlohmann::json& rendezvous, role r, control_link& link,
                 const run_request& req) {
  return run_peer(C::attach(rendezvous, r), r, link, req);
}

}  // namespace ipcbench
