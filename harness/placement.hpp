// Which CPUs the peers are pinned to: a pair's two CPUs chosen from the machine's topology (sysfs,
// see sys/topology.hpp) for a placement, or given explicitly (--cpus A,B); a group's members
// (pairs/N, fan_in/N, fan_out/N, and one pair as a group of two) spread from that choice.
// Computed once per benchmark, by the runner, and handed to the coordinator. Coordinator side.
#pragma once

#include <cstddef>
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

// The same for this process: allowed_cpus() and their topology read under `root`, remembered
// while the affinity mask stays the same, so a sweep reads sysfs once rather than per benchmark.
// Throws std::system_error when the affinity mask cannot be read.
cpu_choice choose_cpus(placement p, std::optional<cpu_pair> given = std::nullopt,
                       const std::filesystem::path& root = kSysCpuRoot);

// The largest N of a topology (--fan): beyond it a group of forked peers is a fork bomb on a
// small machine, not a benchmark.
inline constexpr std::size_t kMaxGroupSize = 64;

struct group_member {
  role r = role::producer;
  int index = 0;  // the pair (pairs/N), the producer (fan_in/N); 0 for the one consumer
};

// The members of a topology of size n, in launch order: pairs/N producer 0, consumer 0,
// producer 1, ...; fan_in/N producers 0..N-1, then the consumer.
std::vector<group_member> members_of(topology t, std::size_t n);

// Which CPU each member runs on, and what that means on this machine.
struct group_placement {
  std::vector<int> cpus;         // by member; -1: not pinned
  std::size_t allowed_cpus = 0;  // CPUs this process may use
  // More peers than allowed CPUs: some wait for a CPU while others run, so the numbers measure
  // the scheduler as much as the channel.
  bool oversubscribed = false;
  std::string reason;      // how the CPUs were chosen, in a sentence
  std::string impossible;  // non-empty: the placement cannot be honoured here, and why
};

// cross: the members spread over the allowed CPUs in turn (CPU 0 last when more than two are
// allowed, as for a pair), so a pair's two peers, or consecutive producers, never share a CPU
// while another is free; same: every member on the CPU a pair's `same` uses; none: unpinned;
// given (--cpus A,B): producers on A, consumers on B.
group_placement place_group(placement p, const std::vector<group_member>& members,
                            const std::vector<cpu_info>& allowed,
                            std::optional<cpu_pair> given = std::nullopt);
// The same for this process (allowed_cpus() and sysfs, read as choose_cpus does). Throws
// std::system_error when the affinity mask cannot be read.
group_placement place_group(placement p, const std::vector<group_member>& members,
                            std::optional<cpu_pair> given = std::nullopt);

// Whether any member may share a CPU with another (pinned together, unpinned, or more members
// than CPUs): spinning waiters then yield.
bool may_share_cpu(const group_placement& where);

}  // namespace ipcbench
