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

// The entry of channel type C; unavailable, with describe()'s exception as the reason, when
// C::describe() throws (the kernel lacks it).
template <channel C>
mechanism_entry make_entry(const char* id) {
  mechanism_entry e;
  try {
    e.traits = C::describe();
  } catch (const std::exception& ex) {
    e.traits.id = e.traits.mechanism = id;
    e.unavailable = std::string("unavailable on this machine: ") + ex.what();
  }
  e.run = [traits = e.traits, unavailable = e.unavailable](const run_request& req) {
    if (!unavailable.empty()) {
      run_result r;
      r.status = run_status::skipped;
      r.reason = unavailable;
      return r;
    }
    return run_channel<C>(traits, req);
  };
  if constexpr (named_channel<C>) {
    e.can_spawn = true;
    e.attach = run_attached<C>;
  }
  return e;
}

// The entry of a mechanism this build does not carry: its id, mechanism, variant and family
// (so it is listed and charted with its family), every run skipped with `reason`.
inline mechanism_entry unavailable_entry(const char* id, const char* mechanism, const char* variant,
                                         const char* family, const std::string& reason) {
  mechanism_entry e;
  e.traits.id = id;
  e.traits.mechanism = mechanism;
  e.traits.variant = variant;
  e.traits.family = family;
  e.unavailable = "unavailable in this build: " + reason;
  e.run = [why = e.unavailable](const run_request&) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = why;
    return r;
  };
  return e;
}

}  // namespace ipcbench
