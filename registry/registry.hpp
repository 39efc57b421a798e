// The explicit list of every mechanism the suite carries, each with its traits (read from the
// kernel when the registry is built) and its runner. Coordinator side.
#pragma once

#include <functional>
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
  // The topologies it runs in (harness/group.hpp), and the run of one: pairs/N for every pair
  // mechanism. A topology not listed is skipped with the reason.
  std::vector<topology> topologies;
  std::function<run_result(const run_request&, topology, std::size_t n)> run_group;
  // A named_channel: can also run between separately launched peers (process model spawn),
  // whose side is `attach` (open by the rendezvous, run the peer loop). Empty otherwise.
  bool can_spawn = false;
  attach_fn attach;
};

// Every registered mechanism, in report order. Built once.
const std::vector<mechanism_entry>& registry();
const mechanism_entry* find_mechanism(const std::string& id);

}  // namespace ipcbench
