// The bench program's own command line (Google Benchmark's --benchmark_* flags pass through,
// except --benchmark_out, which we write ourselves with the extra fields). Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "harness/idle_state.hpp"
#include "harness/session.hpp"

namespace ipcbench {

struct bench_options {
  std::vector<std::size_t> sizes;
  // --fan LIST: the N of pairs/N and fan_in/N (empty: --fan none, no topology benchmarks), and
  // the sizes they run at (topology_sizes(), quick_topology_sizes(), or --sizes when given).
  std::vector<std::size_t> fan = {1, 2, 4, 8};
  // --fan given: every N runs, oversubscribed or not (flagged in the report). The default runs
  // only the N whose processes fit the CPUs the run may use (fan_fits).
  bool fan_given = false;
  std::vector<std::size_t> topology_sizes;
  bool sizes_given = false;    // --sizes: every topology and pattern runs at topology_sizes
  std::string sweep = "full";  // full, quick, custom
  placement place = placement::cross;
  // --cpus A,B: the producer on CPU A, the consumer on B (A == B: placement same).
  std::optional<cpu_pair> cpus;
  process_model process = process_model::fork;
  // --peers: the one-pair benchmarks run with process peers, thread peers (two threads of one
  // process), or both, each benchmark beside its other form in the run's interleaved order.
  bool peers_processes = true;
  bool peers_threads = false;
  idle_mode idle = idle_mode::held;                                     // --idle-states
  library_threads_mode library_threads = library_threads_mode::pinned;  // --library-threads
  // 15 ms: a third more repetitions fit the default budget than with 30 ms (about 9,000 against
  // 6,750 in 600 s on the 2-vCPU VM), each no noisier (docs/methodology.md, "Batches").
  double target_time_s = 0.015;
  int timeout_s = 30;
  bool progress = false;
  // --header-only: the "header only" ids (mechanism_traits::header_only) run too; left out
  // otherwise, as they move no data.
  bool header_only = false;
  bool list = false;
  bool help = false;
  // --probes FILE: the findings of ipcbench-probe --out, for the report's `probes` array.
  std::optional<std::string> probes;
  std::optional<std::string> out;  // --benchmark_out
  std::string filter = ".";        // --benchmark_filter, as Google Benchmark reads it
  bool list_tests = false;         // --benchmark_list_tests
  // The stop rule (bench/session.hpp repetition_plan): --min-repetitions, --max-repetitions,
  // --ci-width, --budget, --seed; --benchmark_repetitions=N runs every benchmark N times.
  int min_repetitions = 5, max_repetitions = 12;
  double ci_width = 0.10;
  double budget_s = 600;
  std::optional<std::uint64_t> seed;
};

inline constexpr std::size_t kMaxMessageSize = std::size_t{1} << 30;

const std::vector<std::size_t>& full_sizes();
const std::vector<std::size_t>& quick_sizes();
// The topology benchmarks' sizes: both sides of PIPE_BUF (where fan-in's atomicity ends) and a
// pipe's capacity, few enough that N x mechanisms x sizes keeps the sweep short.
const std::vector<std::size_t>& topology_sizes();
const std::vector<std::size_t>& quick_topology_sizes();

// The sizes a topology benchmark runs at (docs/topologies.md): with --sizes
// all of o.topology_sizes; otherwise those of o.topology_sizes that tell something for it:
// fan_in over a stream whose writes may tear (`tears`) all of them, PIPE_BUF's both sides
// included; fan_in over anything else and fan_out leave out PIPE_BUF +- 1, which is no boundary
// for them; pairs/N, whose every pair is a one-pair benchmark already in the sweep, runs its
// throughput at the smallest and largest size and its latency at the smallest only (what N
// pairs at once cost a round trip shows at one size).
std::vector<std::size_t> topology_sizes_for(const bench_options& o, topology t, pattern p,
                                            bool tears);
// "1,2,4,8" -> N list; "none" -> empty. Throws usage_error on 0, garbage, duplicates or an N
// above kMaxGroupSize.
std::vector<std::size_t> parse_fan(const std::string& text);
// Whether a topology of size n runs under the default --fan on `cpus` allowed CPUs: no more
// processes than CPUs (pairs/N has 2N, fan_in/N and fan_out/N N + 1). More peers than CPUs
// measure the scheduler as much as the channel: opt-in (--fan), and flagged oversubscribed.
bool fan_fits(topology t, std::size_t n, std::size_t cpus);

// Parses and removes our flags from argv; leaves Google Benchmark's in place. Throws usage_error.
bench_options parse_options(int& argc, char** argv);
// --peers LIST: sets o.peers_processes and o.peers_threads. Throws usage_error.
void parse_peers(const std::string& text, bench_options& o);
// "1,64,4096" -> sizes; throws usage_error on 0, garbage, or more than kMaxMessageSize.
std::vector<std::size_t> parse_sizes(const std::string& text);

// "A,B" -> producer A, consumer B; throws usage_error unless it is exactly two CPU numbers, each
// in `allowed` (the CPUs this process may run on).
cpu_pair parse_cpus(const std::string& text, const std::vector<int>& allowed);

std::string usage_text(const char* argv0);

}  // namespace ipcbench
