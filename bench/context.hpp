// The machine and build facts recorded in every report (context.ipcbench). Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/calibration.hpp"
#include "bench/options.hpp"
#include "harness/placement.hpp"

namespace ipcbench {

// IPC limits read from /proc and the kernel at run time; null where unreadable.
nlohmann::json read_ipc_limits();
// `floors` is written as context.ipcbench.calibration (calibration_json); `cpus` the choice the
// benchmarks run with (context.ipcbench.cpu_placement).
nlohmann::json build_context(const bench_options& o, const calibration& floors,
                             const cpu_choice& cpus);
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
