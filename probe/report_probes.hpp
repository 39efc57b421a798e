// The probes as the bench report carries them: the findings ipcbench-probe wrote with --out,
// read back by `ipcbench --probes FILE`, plus the claim that needs the sweep's own numbers
// (the futex ring against a pipe at 1 MiB), computed when the report is written.
// Coordinator side.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/probe.hpp"

namespace ipcbench::probes {

// Reads a file written by `ipcbench-probe --out` (an object with a `probes` array; a bare array
// is accepted too). Throws std::runtime_error naming the file and the problem.
std::vector<finding> read_probe_file(const std::string& path);

// Claim 9 from a finished report (Google Benchmark JSON with our fields): posix_shm.futex against
// pipe, bytes_per_second at 1 MiB repetition by repetition (see copies.cpp for the rule); holds,
// does not hold or inconclusive, and untested, with the reason, when the report lacks either.
finding copies_finding(const nlohmann::json& report);

// The report's top-level `probes` array: `from_file` in order, then copies_finding(report)
// (replacing a finding with the same id from the file).
nlohmann::json report_probes(const std::vector<finding>& from_file, const nlohmann::json& report);

}  // namespace ipcbench::probes
