// The machine and build facts recorded in every report (context.ipcbench). Coordinator side.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/options.hpp"

namespace ipcbench {

// IPC limits read from /proc and the kernel at run time; null where unreadable.
nlohmann::json read_ipc_limits();
// `calibration` is the report's context.ipcbench.calibration (see measure_calibration).
nlohmann::json build_context(const bench_options& o, nlohmann::json calibration);
// Timer cost, memcpy bandwidth and, for placement cross, the cache-line round trip between the
// two CPUs the peers use.
nlohmann::json measure_calibration(placement p);
nlohmann::json traits_to_json(const mechanism_traits& t);

}  // namespace ipcbench
