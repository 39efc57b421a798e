// The probes as the bench report carries them: the findings ipcbench-probe wrote with --out,
// read back by `ipcbench --probes FILE`, plus the claim that needs the sweep's own numbers
// (the futex ring against a pipe at 1 MiB), computed from the sweep's run records when the
// report is written. Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/probe.hpp"

namespace ipcbench::probes {

// One repetition the bench program ran, as the report names it: what the claims computed from
// the sweep read.
struct run_record {
  std::string id;       // the mechanism's id: pipe, posix_shm.futex, ...
  std::string pattern;  // latency, throughput
  std::size_t message_size = 0;
  std::string placement;                   // cross, same, none
  std::string topology;                    // pairs, fan_in, fan_out; empty for one pair
  bool ok = false;                         // ran and passed its checks (status ok)
  std::optional<double> bytes_per_second;  // throughput that ran; nullopt otherwise
  std::uint64_t order = 0;                 // the repetition's place in the run
  // The regime of the host it ran in (the report's `regime`), set once the run's regimes are
  // known; nullopt without a floor beside it, or a run without regimes.
  std::optional<int> regime;
};

// Reads a file written by `ipcbench-probe --out` (an object with a `probes` array; a bare array
// is accepted too). Throws std::runtime_error naming the file and the problem.
std::vector<finding> read_probe_file(const std::string& path);

// Claim 9 from the sweep's repetitions: posix_shm.futex against pipe, bytes_per_second at 1 MiB
// repetition by repetition within each regime of the host (see copies.cpp for the rule); holds,
// does not hold or inconclusive, and untested, with the reason, when the sweep lacks either.
finding copies_finding(const std::vector<run_record>& runs);

// The report's top-level `probes` array: `from_file` in order, then copies_finding(runs)
// (replacing a finding with the same id from the file).
nlohmann::json report_probes(const std::vector<finding>& from_file,
                             const std::vector<run_record>& runs);

}  // namespace ipcbench::probes
