// How a registry entry is made: from a channel type (its traits read now, its runner
// instantiated), or, for a mechanism this build does not carry (an optional library missing at
// configure time), from its id and the reason alone. Coordinator side; used by the registry's
// lists only.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "harness/runner.hpp"
#include "registry/registry.hpp"

namespace ipcbench {

// The run of a topology of size n when the mechanism is unavailable: skipped with the reason.
inline run_result unavailable_group(const std::string& why) {
  return skipped_run(why);
}

// The entry of channel type C, with pairs/N; unavailable, with describe()'s exception as the
// reason, when C::describe() throws (the kernel lacks it).
template <channel C>
mechanism_entry make_entry(const char* id) {
  mechanism_entry e;
  try {
    e.traits = C::describe();
  } catch (const std::exception& ex) {
    e.traits.id = e.traits.mechanism = id;
    e.unavailable = std::string("unavailable on this machine: ") + ex.what();
  }
  e.traits.verification = verification_of<decltype(std::declval<C&>().open(role::producer))>();
  // Adapters declare that two threads of one process may open their two ends (kThreadPeers), or
  // why not (kNoThreadPeers).
  if constexpr (requires { C::kNoThreadPeers; })
    e.traits.no_thread_peers = C::kNoThreadPeers;
  else if constexpr (!requires { C::kThreadPeers; })
    e.traits.no_thread_peers =
        "its adapter opens its ends for forked or launched processes only, not for two threads "
        "of one process";
  e.run = [traits = e.traits, unavailable = e.unavailable](const run_request& req) {
    if (!unavailable.empty()) return skipped_run(unavailable);
    return run_channel<C>(traits, req);
  };
  e.groups[topology::pairs] = [traits = e.traits, unavailable = e.unavailable](
                                  const run_request& req, std::size_t n) {
    if (!unavailable.empty()) return unavailable_group(unavailable);
    // A channel that needs a machine-wide resource of its own (iceoryx: one RouDi per machine)
    // runs one pair at a time.
    if constexpr (requires { C::kOnePerMachine; }) {
      if (n > 1) return unavailable_group(C::kOnePerMachine);
    }
    return run_pairs<C>(traits, req, n);
  };
  if constexpr (named_channel<C>) {
    e.can_spawn = true;
    e.attach = run_attached<C>;
  }
  return e;
}

// Adds fan_in/N over one channel of type C (the entry's own type, or for shared memory the
// same segment with a ring the producers share, mechanisms/shm/shm_shared.hpp, or for stream
// sockets a server that accepts a connection per producer, mechanisms/sockets/stream_server.hpp):
// N producers open its producer's end, for mechanisms where many writers on one channel make
// sense (a FIFO server, a job queue, a socket server). A channel type that declares kFanInNote
// (how its fan-in differs from its one pair) has it in the entry's notes as "fan_in".
template <fan_in_channel C>
mechanism_entry with_fan_in(mechanism_entry e) {
  if constexpr (requires { C::kFanInNote; }) e.traits.notes["fan_in"] = C::kFanInNote;
  e.groups[topology::fan_in] = [traits = e.traits, unavailable = e.unavailable](
                                   const run_request& req, std::size_t n) {
    if (!unavailable.empty()) return unavailable_group(unavailable);
    return with_paced_delay(req, [&](const run_request& r) { return run_fan_in<C>(traits, r, n); });
  };
  return e;
}

// Adds fan_out/N over a channel of type C per consumer (the producer writes every message to
// each): pipes and stream sockets.
template <channel C>
mechanism_entry with_fan_out_channels(mechanism_entry e) {
  e.groups[topology::fan_out] = [traits = e.traits, unavailable = e.unavailable](
                                    const run_request& req, std::size_t n) {
    if (!unavailable.empty()) return unavailable_group(unavailable);
    return with_paced_delay(
        req, [&](const run_request& r) { return run_fan_out_channels<C>(traits, r, n); });
  };
  return e;
}

// Adds fan_out/N over one broadcast channel of type C that all N consumers read (a
// shared-memory ring, mechanisms/shm/shm_broadcast.hpp).
template <class C>
mechanism_entry with_fan_out_broadcast(mechanism_entry e) {
  e.groups[topology::fan_out] = [traits = e.traits, unavailable = e.unavailable](
                                    const run_request& req, std::size_t n) {
    if (!unavailable.empty()) return unavailable_group(unavailable);
    return with_paced_delay(
        req, [&](const run_request& r) { return run_fan_out_broadcast<C>(traits, r, n); });
  };
  return e;
}

// Adds fan_out/N as a work queue over one channel of type C that N readers share: message
// queues, where each message goes to exactly one reader.
template <channel C>
mechanism_entry with_work_queue(mechanism_entry e) {
  e.groups[topology::fan_out] = [traits = e.traits, unavailable = e.unavailable](
                                    const run_request& req, std::size_t n) {
    if (!unavailable.empty()) return unavailable_group(unavailable);
    return with_paced_delay(req,
                            [&](const run_request& r) { return run_work_queue<C>(traits, r, n); });
  };
  return e;
}

// The entry of a mechanism this build does not carry: its id, mechanism, variant and family
// (so it is listed and charted with its family), every run skipped with `reason`, pairs/N too
// (as a built one would run it).
inline mechanism_entry unavailable_entry(const char* id, const char* mechanism, const char* variant,
                                         const char* family, const std::string& reason) {
  mechanism_entry e;
  e.traits.id = id;
  e.traits.mechanism = mechanism;
  e.traits.variant = variant;
  e.traits.family = family;
  e.unavailable = "unavailable in this build: " + reason;
  e.run = [why = e.unavailable](const run_request&) { return skipped_run(why); };
  e.groups[topology::pairs] = [why = e.unavailable](const run_request&, std::size_t) {
    return unavailable_group(why);
  };
  return e;
}

}  // namespace ipcbench
