// The machine and build facts recorded in every report (context.ipcbench). Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/options.hpp"
#include "harness/placement.hpp"

namespace ipcbench {

// IPC limits read from /proc and the kernel at run time; null where unreadable.
nlohmann::json read_ipc_limits();
// `calibration` is the report's context.ipcbench.calibration (see measure_calibration); `cpus`
// the choice the benchmarks run with (context.ipcbench.cpu_placement).
nlohmann::json build_context(const bench_options& o, nlohmann::json calibration,
                             const cpu_choice& cpus);
// Timer cost, memcpy bandwidth and, for two different CPUs, the cache-line round trip, the
// wake-up round trip (futex ping-pong) and the cross-core copy floor at each of `sizes`
// ({"by_size": {"<size>": bytes/s}}) between the two CPUs the peers use.
nlohmann::json measure_calibration(const cpu_choice& cpus, const std::vector<std::size_t>& sizes);
// context.ipcbench.cpu_placement: the CPUs, why, and their sysfs ids (schema::placement_field).
nlohmann::json cpu_placement_json(placement p, const cpu_choice& cpus);

// What the machine did around the run, for context.ipcbench.run_conditions: the steal time the
// hypervisor took (from /proc/stat, over the whole machine) and the load average before and
// after. Starts counting when constructed.
class run_conditions {
 public:
  run_conditions();
  // {"elapsed_s", "steal_s", "steal_fraction" (of all CPU time), "loadavg_before",
  // "loadavg_after"}; null where unreadable.
  nlohmann::json finish() const;

 private:
  std::int64_t start_ns_;
  nlohmann::json loadavg_before_;
  unsigned long long total_before_ = 0, steal_before_ = 0;
  bool have_ticks_ = false;
};
nlohmann::json traits_to_json(const mechanism_traits& t);

}  // namespace ipcbench
