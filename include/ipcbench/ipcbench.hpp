// ipcbench's public adapter API: measure your own transport in the same arena as every built-in
// mechanism, with the same sizes, patterns, placements, floors, stop rule and report.
//
// 1. Write a channel type: the `channel` concept and `mechanism_traits` (mechanisms/adapter.hpp,
//    documented there): a constructor that creates the channel before fork, opened(), open(role)
//    returning an endpoint with send() and receive(), and a static describe() whose traits.id is
//    the id you choose for reports, charts and compare (no '/', ',' or white space; not a
//    built-in id). Declare `static constexpr const char* kId` too to keep that id when
//    describe() throws (the mechanism is then listed as unavailable, with the exception).
// 2. Either build a program that is ipcbench with your mechanism beside the built-in ones:
//        int main(int argc, char** argv) { return ipcbench::main<my_channel>(argc, argv); }
//    (link ipcbench::harness), or a plug-in that the installed ipcbench loads with
//    `--plugin path.so`:
//        IPCBENCH_PLUGIN(my_channel)
//    in a MODULE library (link ipcbench::harness). Either way the harness is instantiated in
//    your code, so the timed loop calls your endpoint directly.
// 3. Prove it delivers every byte before you believe a number (ipcbench/conformance.hpp):
//        int main(int argc, char** argv) {
//          return ipcbench::conformance::main<my_channel>(argc, argv);
//        }
//    (link ipcbench::conformance).
//
// Stability: IPCBENCH_ADAPTER_API (ipcbench/version.hpp) names the version of this API; an
// adapter written for one value compiles unchanged against every release with that value.
#pragma once

#include <cstdio>
#include <exception>
#include <string>

#include "ipcbench/version.hpp"
#include "mechanisms/adapter.hpp"
#include "registry/make_entry.hpp"
#include "registry/registry.hpp"

namespace ipcbench {

// The ipcbench program (bench/program.hpp): loads --plugin objects, then runs.
int program_main(int argc, char** argv);

// The registry entry of an out-of-tree channel type C: pairs/N, thread peers when C declares
// kThreadPeers, spawned peers when it is a named_channel, as for a built-in mechanism; the
// report's traits carry notes.adapter.
template <channel C>
mechanism_entry external_entry() {
  const char* fallback = "out-of-tree";
  if constexpr (requires { C::kId; }) fallback = C::kId;
  mechanism_entry e = make_entry<C>(fallback);
  e.traits.notes["adapter"] =
      "out of tree, ipcbench adapter API " + std::to_string(IPCBENCH_ADAPTER_API);
  return e;
}

// Adds channel types to the registry, before anything reads it. Throws std::invalid_argument
// for an id that is empty, malformed or given twice (registry/registry.hpp: add_mechanism).
template <channel... C>
void add_mechanisms() {
  (add_mechanism(external_entry<C>()), ...);
}

// The ipcbench program with channel types C... beside the built-in mechanisms: the same flags
// (--help), report, exit status. Select yours with --filter '^my_id/'.
template <channel... C>
int main(int argc, char** argv) {
  try {
    add_mechanisms<C...>();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ipcbench: %s\n", e.what());
    return 2;
  }
  return program_main(argc, argv);
}

}  // namespace ipcbench

// A plug-in's entry point (registry/registry.hpp: plugin_info): adds channel types ... when
// `ipcbench --plugin this.so` loads it. Once per plug-in, at namespace scope.
#define IPCBENCH_PLUGIN(...)                                                                      \
  extern "C" __attribute__((visibility("default"))) const ::ipcbench::plugin_info*                \
  ipcbench_plugin_entry() {                                                                       \
    static const ::ipcbench::plugin_info info{IPCBENCH_ADAPTER_API, IPCBENCH_VERSION_STRING,      \
                                              [] { ::ipcbench::add_mechanisms<__VA_ARGS__>(); }}; \
    return &info;                                                                                 \
  }
