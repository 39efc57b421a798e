// Which CPUs the producer and consumer are pinned to: chosen from the machine's topology (sysfs,
// see sys/topology.hpp) for a placement, or given explicitly (--cpus A,B). Coordinator side.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/session.hpp"
#include "sys/topology.hpp"

namespace ipcbench {

// The CPUs a placement uses and why, or a reason why it cannot be honoured on this machine.
struct cpu_choice {
  int producer = -1;  // -1: not pinned (placement none) or impossible
  int consumer = -1;
  std::string impossible;  // non-empty: the placement cannot be honoured, and why
  std::string reason;      // why these CPUs, in a sentence (also for none and impossible)
  bool given = false;      // from --cpus rather than the topology
  // Two different CPUs: whether they are SMT siblings of one core; nullopt when sysfs does not
  // say, or for fewer than two CPUs.
  std::optional<bool> smt_siblings;
  // What sysfs says about the chosen CPUs (producer first; one entry for same, none for none).
  std::vector<cpu_info> chosen;
};

// The choice among `allowed` (the CPUs this process may use, with their topology):
// - same: one CPU, the lowest other than CPU 0 when another is allowed (CPU 0 takes most
//   interrupts and the kernel's housekeeping);
// - cross: two CPUs, ranked by, in this order: not SMT siblings (two hardware threads of one
//   core share its pipeline and L1/L2, so they measure the core, not the IPC between CPUs;
//   siblings are used only when nothing else is allowed, and the reason says so), CPU 0 left out
//   when more than two CPUs are allowed, sharing an L3 cache, then one package (the cheapest
//   cache-line transfer between two cores, so the numbers sit at the machine's floor), then
//   the lowest numbers. The lower of the pair is the producer.
// - given: exactly those CPUs, which must be allowed; producer == consumer is placement same,
//   otherwise cross (a mismatch with `p` is impossible).
// - none: no CPUs.
cpu_choice choose_cpus(placement p, const std::vector<cpu_info>& allowed,
                       std::optional<cpu_pair> given = std::nullopt);

// The same for this process: allowed_cpus() and their topology read under `root`. Remembers its
// last answer, so a sweep reads sysfs once rather than per benchmark. Throws std::system_error
// when the affinity mask cannot be read.
cpu_choice choose_cpus(placement p, std::optional<cpu_pair> given = std::nullopt,
                       const std::filesystem::path& root = kSysCpuRoot);

}  // namespace ipcbench
