// The machine and build facts recorded in every report (context.ipcbench). Coordinator side.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/options.hpp"

namespace ipcbench {

// IPC limits read from /proc and the kernel at run time; null where unreadable.
nlohmann::json read_ipc_limits();
nlohmann::json build_context(const bench_options& o, double timer_ns, double memcpy_bps);
nlohmann::json traits_to_json(const mechanism_traits& t);

}  // namespace ipcbench
