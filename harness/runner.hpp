// Runs one benchmark of a channel type: checks that the mechanism can carry the size, creates
// the channel before fork, and hands the coordinator the peers' code, instantiated for this
// channel's endpoint; in the spawn process model, the rendezvous a launched peer attaches by.
// Coordinator side, except run_attached (a launched peer); instantiated by the mechanism registry.
#pragma once

#include <exception>
#include <string>

#include "harness/coordinator.hpp"
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
    if constexpr (requires { ch.helper_pids(); }) rq.helper_pids = ch.helper_pids();
    peer_program program{
        [&](role r, control_link& link) { return run_peer(ch.open(r), r, link, rq); },
        [&] { ch.opened(); }, std::nullopt};
    if constexpr (named_channel<C>) {
      if (rq.process == process_model::spawn)
        program.spawned = spawn_target{traits.id, ch.rendezvous()};
    }
    run_result res = coordinate(rq, program);
    // A helper that ended (a killed bus daemon) is the cause whatever the peers saw.
    if constexpr (requires { ch.helper_failure(); }) {
      if (res.status == run_status::failed) {
        if (std::string why = ch.helper_failure(); !why.empty())
          res.reason = why + "; " + res.reason;
      }
    }
    if (res.reason.starts_with("lost ")) res.reason = traits.mechanism + " " + res.reason;
    return res;
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
