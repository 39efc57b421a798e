// How the registry makes an entry of a channel type: its traits read now (a describe() that
// throws makes it unavailable, with the reason), its runner, and its attach for the spawn model.
// Coordinator side; included by the registry's source files only.
#pragma once

#include <exception>
#include <string>

#include "harness/runner.hpp"
#include "registry/registry.hpp"

namespace ipcbench {

template <channel C>
inline mechanism_entry make_entry(const char* id) {
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

// An entry for a mechanism this build cannot run at all (its library was missing at configure
// time): every run is skipped with `reason`, which --list shows too.
inline mechanism_entry make_unavailable_entry(const char* id, const char* mechanism,
                                              const char* variant, const char* family,
                                              const std::string& reason) {
  mechanism_entry e;
  e.traits.id = id;
  e.traits.mechanism = mechanism;
  e.traits.variant = variant;
  e.traits.family = family;
  e.traits.description = reason;
  e.unavailable = reason;
  e.run = [reason](const run_request&) {
    run_result r;
    r.status = run_status::skipped;
    r.reason = reason;
    return r;
  };
  return e;
}

}  // namespace ipcbench
