// Runs one benchmark of a channel type: checks that the mechanism can carry the size, creates
// the channel before fork, and hands the coordinator the peers' code, instantiated for this
// channel's endpoint. Coordinator side; instantiated by the mechanism registry.
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

template <channel C>
run_result run_channel(const mechanism_traits& traits, const run_request& req) {
  if (std::string why = cannot_run(traits, req); !why.empty()) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = std::move(why);
    return r;
  }
  try {
    private_dir dir;
    C ch(channel_config{req.message_size, req.pat, &dir});
    run_request rq = req;
    rq.lossy = traits.lossy;
    peer_program program{[&](role r, control_link& link) {
                           auto ep = ch.open(r);
                           return run_peer(ep, r, link, rq);
                         },
                         [&] { ch.opened(); }};
    run_result res = coordinate(rq, program);
    if (res.lost + res.duplicated + res.reordered != 0)
      res.reason = traits.mechanism + " " + res.reason;
    return res;
  } catch (const std::exception& e) {
    run_result r;
    r.status = run_status::failed;
    r.reason = std::string("setup: ") + e.what();
    return r;
  }
}

}  // namespace ipcbench
