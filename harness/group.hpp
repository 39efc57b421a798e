// Many processes on one benchmark: the topology axis beside the pattern. The group coordinator
// forks M peers (N independent pairs, or N producers into one consumer), pins each to its CPU,
// drives the same conversation as the pair coordinator (harness/protocol.hpp: opened, a sizing
// run, go, reports, exit) with every peer at once, enforces a deadline on every wait, and turns
// the outcome into a run_result with a group_outcome: the placement of every process, whether
// the group oversubscribes the CPUs, and each member's numbers. A peer that crashes, stops,
// errs or misses a deadline fails the benchmark with the reason; every peer is killed and
// reaped. It never names a mechanism: the peers' code arrives type-erased. Coordinator side
// only; not reentrant.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/control.hpp"
#include "harness/protocol.hpp"
#include "harness/session.hpp"
#include "sys/topology.hpp"

namespace ipcbench {

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
// The same for this process (allowed_cpus() and sysfs). Throws std::system_error when the
// affinity mask cannot be read.
group_placement place_group(placement p, const std::vector<group_member>& members,
                            std::optional<cpu_pair> given = std::nullopt);

struct group_program {
  std::vector<group_member> members;
  // Runs in forked member `k` after pinning: opens its endpoint and runs the peer loop.
  std::function<int(std::size_t k, control_link&)> body;
  // Runs in the coordinator once every member has opened its end.
  std::function<void()> opened;
  // The helper processes (a bus daemon) whose CPU time producer member `k` reads over its timed
  // batch (go_order::helper_pids); empty function or list: none.
  std::function<std::vector<pid_t>(std::size_t k)> helpers;
};

// The reports of a batch every member completed, by member, and the orders that sized it.
struct group_reports {
  go_order go;
  std::vector<peer_report> reports;
};

// How the member reports become one result: pairs and fan-in differ (assemble_pairs,
// assemble_fan_in). Throws std::runtime_error on reports that do not fit.
using group_assembler =
    std::function<run_result(const run_request&, const group_program&, const group_reports&)>;

// Runs one benchmark of a group: launch, drive, assemble. Never throws: a failure is a failed
// run_result with the reason, every member killed and reaped; a placement this machine cannot
// honour is a skipped one. The result carries the group_outcome (placement, members) whenever
// the group was placed.
run_result coordinate_group(const run_request& req, topology t, const group_program& program,
                            const group_assembler& assemble);

// N pairs: each pair's run_result as for one pair (harness/coordinator.hpp assemble), then the
// aggregate over the common window (earliest start to latest end): messages, and for latency
// every pair's round trips in one histogram.
run_result assemble_pairs(const run_request& req, const group_program& program,
                          const group_reports& b);

// N producers into one consumer: the aggregate of the consumer's messages over the window from
// the earliest producer's start to the consumer's end; fairness from each producer's rate over
// its own window; the consumer's torn records.
run_result assemble_fan_in(const run_request& req, const group_program& program,
                           const group_reports& b);

// One producer to N consumers (harness/fan_out.hpp): the aggregate of every consumer's messages
// over the window from the producer's start to the last consumer's end; fairness from each
// consumer's rate over its own window. Over a work queue (the reports carry work_hash), the
// consumers' counts must add up to the producer's and their hashes to its hash: a record lost
// or taken twice is an integrity error.
run_result assemble_fan_out(const run_request& req, const group_program& program,
                            const group_reports& b);

// The spread (harness/session.hpp) of `values`; {0, 1} for fewer than two values or a zero
// mean. Exact on known inputs (tests).
spread spread_of(const std::vector<double>& values);

}  // namespace ipcbench
