// The explicit list of every mechanism the suite carries, each with its traits (read from the
// kernel when the registry is built) and its runner. Coordinator side.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/session.hpp"
#include "harness/spawn.hpp"
#include "mechanisms/adapter.hpp"

namespace ipcbench {

struct mechanism_entry {
  mechanism_traits traits;
  // Non-empty when the mechanism cannot run on this machine at all (its describe() failed).
  std::string unavailable;
  std::function<run_result(const run_request&)> run;
  // The topologies it runs in (harness/coordinator.hpp), each with its run of size n: pairs/N for
  // every pair mechanism (registry/make_entry.hpp), fan_in/N and fan_out/N where added.
  using group_run = std::function<run_result(const run_request&, std::size_t n)>;
  std::map<topology, group_run> groups;
  // A named_channel: can also run between separately launched peers (process model spawn),
  // whose side is `attach` (open by the rendezvous, run the peer loop). Empty otherwise.
  bool can_spawn = false;
  attach_fn attach;

  // The topologies in `groups`, in enum order.
  std::vector<topology> topologies() const;
  // Runs topology t of size n; a topology it does not run is skipped with the reason.
  run_result run_group(const run_request& req, topology t, std::size_t n) const;
};

// Every registered mechanism, in report order. Built once.
const std::vector<mechanism_entry>& registry();
const mechanism_entry* find_mechanism(const std::string& id);

// Adds an out-of-tree mechanism (include/ipcbench/ipcbench.hpp: ipcbench::main<C>, a --plugin),
// listed after the built-in ones and run, reported and compared as they are. Only before the
// registry is first used (std::logic_error after); an empty id, one with '/', ',' or white
// space, or one added twice is refused with std::invalid_argument, and an id that is a built-in
// one's when registry() is first built. An empty family becomes "out of tree".
void add_mechanism(mechanism_entry e);

// What a plug-in (a shared object loaded with --plugin, bench/plugin.hpp) exports as
//   extern "C" const ipcbench::plugin_info* ipcbench_plugin_entry();
// (include/ipcbench/ipcbench.hpp: IPCBENCH_PLUGIN). The first two members stay first in every
// version, so that a program can read them from a plug-in of any version and refuse a mismatch.
struct plugin_info {
  int adapter_api;               // IPCBENCH_ADAPTER_API of the headers it was built with
  const char* ipcbench_version;  // IPCBENCH_VERSION_STRING of the same
  void (*add_mechanisms)();      // calls add_mechanism for each of its channel types
};
inline constexpr const char* kPluginEntry = "ipcbench_plugin_entry";

}  // namespace ipcbench
