#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string_view>

#include "harness/placement.hpp"
#include "sys/system.hpp"

namespace ipcbench {

// POSIX PIPE_BUF on Linux: the boundary fan-in over a stream is measured on both sides of.
constexpr std::size_t kPipeBuf = 4096;
namespace {

template <class T>
T parse_number(const std::string& text, const char* what) {
  T v{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end)
    throw usage_error(std::string(what) + " '" + text + "' is not a number");
  return v;
}

}  // namespace

const std::vector<std::size_t>& full_sizes() {
  static const std::vector<std::size_t> s = {1,     64,    512,   4095,   4096,    4097,   16384,
                                             65535, 65536, 65537, 262144, 1048576, 4194304};
  return s;
}

const std::vector<std::size_t>& quick_sizes() {
  static const std::vector<std::size_t> s = {1, 64, 4095, 4096, 4097, 65535, 65536, 65537, 1048576};
  return s;
}

const std::vector<std::size_t>& topology_sizes() {
  static const std::vector<std::size_t> s = {64, 4095, 4096, 4097, 65536};
  return s;
}

const std::vector<std::size_t>& quick_topology_sizes() {
  static const std::vector<std::size_t> s = {64, 4096, 4097};
  return s;
}

std::vector<std::size_t> topology_sizes_for(const bench_options& o, topology t, pattern p,
                                            bool tears) {
  const std::vector<std::size_t>& all = o.topology_sizes;
  if (o.sizes_given || all.empty()) return all;
  std::vector<std::size_t> out;
  switch (t) {
    case topology::fan_in:
      if (tears) return all;
      [[fallthrough]];
    case topology::fan_out:
      for (std::size_t s : all)
        if (s != kPipeBuf - 1 && s != kPipeBuf + 1) out.push_back(s);
      return out;
    case topology::pairs: {
      const auto [lo, hi] = std::minmax_element(all.begin(), all.end());
      out.push_back(*lo);
      if (p == pattern::throughput && *hi != *lo) out.push_back(*hi);
      return out;
    }
  }
  return all;
}

bool fan_fits(topology t, std::size_t n, std::size_t cpus) {
  return (t == topology::pairs ? 2 * n : n + 1) <= cpus;
}

std::vector<std::size_t> parse_fan(const std::string& text) {
  if (text == "none") return {};
  std::vector<std::size_t> fan;
  std::string_view rest = text;
  if (rest.empty()) throw usage_error("--fan is empty (a list such as 1,2,4,8, or none)");
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string item(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) throw usage_error("--fan has an empty item in '" + text + "'");
    if (item.find_first_not_of("0123456789") != std::string::npos)
      throw usage_error("--fan: '" + item + "' is not a number");
    const auto v = parse_number<unsigned long long>(item, "--fan");
    if (v == 0 || v > kMaxGroupSize)
      throw usage_error("--fan: " + item + " is outside 1.." + std::to_string(kMaxGroupSize));
    if (std::find(fan.begin(), fan.end(), v) != fan.end())
      throw usage_error("--fan: " + item + " appears twice in '" + text + "'");
    fan.push_back(static_cast<std::size_t>(v));
  }
  return fan;
}

// --peers: processes, threads, or both (in either order), each once.
void parse_peers(const std::string& text, bench_options& o) {
  o.peers_processes = o.peers_threads = false;
  std::string_view rest = text;
  const auto fail = [&text] {
    throw usage_error("--peers must be processes, threads or processes,threads, not '" + text +
                      "'");
  };
  if (rest.empty()) fail();
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    bool& flag = item == "processes" ? o.peers_processes : o.peers_threads;
    if ((item != "processes" && item != "threads") || flag) fail();
    flag = true;
  }
}

std::vector<std::size_t> parse_sizes(const std::string& text) {
  std::vector<std::size_t> sizes;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string item(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) throw usage_error("--sizes has an empty item in '" + text + "'");
    const auto v = parse_number<unsigned long long>(item, "message size");
    if (v == 0)
      throw usage_error("message size 0 is invalid (sizes are 1.." +
                        std::to_string(kMaxMessageSize) + " bytes)");
    if (v > kMaxMessageSize)
      throw usage_error("message size " + item + " is larger than the limit of " +
                        std::to_string(kMaxMessageSize) + " bytes");
    sizes.push_back(static_cast<std::size_t>(v));
  }
  if (sizes.empty()) throw usage_error("--sizes is empty");
  return sizes;
}

cpu_pair parse_cpus(const std::string& text, const std::vector<int>& allowed) {
  const auto comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    throw usage_error("--cpus needs exactly two CPU numbers A,B (producer, consumer), not '" +
                      text + "'");
  int cpu[2] = {-1, -1};
  const std::string items[2] = {text.substr(0, comma), text.substr(comma + 1)};
  for (int i = 0; i < 2; ++i) {
    if (items[i].empty() || items[i].find_first_not_of("0123456789") != std::string::npos)
      throw usage_error("--cpus: '" + items[i] + "' in '" + text + "' is not a CPU number");
    cpu[i] = parse_number<int>(items[i], "--cpus: CPU");
    if (std::find(allowed.begin(), allowed.end(), cpu[i]) == allowed.end()) {
      std::string list;
      for (int c : allowed) {
        if (!list.empty()) list += ',';
        list += std::to_string(c);
      }
      throw usage_error("--cpus: CPU " + items[i] + " is not one this process may run on (" +
                        (list.empty() ? "none" : list) + ")");
    }
  }
  return {cpu[0], cpu[1]};
}

bench_options parse_options(int& argc, char** argv) {
  bench_options o;
  o.sizes = full_sizes();
  bool sizes_given = false, quick = false, target_given = false, placement_given = false;
  bool min_given = false, max_given = false, budget_given = false;
  std::optional<int> fixed;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (take_flag(i, argc, argv, "--sizes", v)) {
      o.sizes = parse_sizes(v);
      sizes_given = true;
    } else if (take_flag(i, argc, argv, "--fan", v)) {
      o.fan = parse_fan(v);
      o.fan_given = true;
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (take_flag(i, argc, argv, "--placement", v)) {
      auto p = parse_placement(v);
      if (!p) throw usage_error("--placement must be cross, same or none, not '" + v + "'");
      o.place = *p;
      placement_given = true;
    } else if (take_flag(i, argc, argv, "--cpus", v)) {
      o.cpus = parse_cpus(v, allowed_cpus());
    } else if (take_flag(i, argc, argv, "--process", v)) {
      auto m = parse_process_model(v);
      if (!m) throw usage_error("--process must be fork or spawn, not '" + v + "'");
      o.process = *m;
    } else if (take_flag(i, argc, argv, "--peers", v)) {
      parse_peers(v, o);
    } else if (take_flag(i, argc, argv, "--library-threads", v)) {
      auto m = parse_library_threads_mode(v);
      if (!m) throw usage_error("--library-threads must be pinned or free, not '" + v + "'");
      o.library_threads = *m;
    } else if (take_flag(i, argc, argv, "--idle-states", v)) {
      auto m = parse_idle_mode(v);
      if (!m) throw usage_error("--idle-states must be held or allowed, not '" + v + "'");
      o.idle = *m;
    } else if (take_flag(i, argc, argv, "--target-time", v)) {
      o.target_time_s = parse_number<double>(v, "--target-time");
      if (!(o.target_time_s > 0 && o.target_time_s <= 60))
        throw usage_error("--target-time must be in (0, 60] seconds");
      target_given = true;
    } else if (take_flag(i, argc, argv, "--timeout", v)) {
      o.timeout_s = parse_number<int>(v, "--timeout");
      if (o.timeout_s < 1 || o.timeout_s > 3600)
        throw usage_error("--timeout must be 1..3600 seconds");
    } else if (take_flag(i, argc, argv, "--probes", v)) {
      if (v.empty()) throw usage_error("--probes needs a file name");
      o.probes = v;
    } else if (take_flag(i, argc, argv, "--min-repetitions", v)) {
      o.min_repetitions = parse_number<int>(v, "--min-repetitions");
      if (o.min_repetitions < 1 || o.min_repetitions > 1000)
        throw usage_error("--min-repetitions must be 1..1000, not " + v);
      min_given = true;
    } else if (take_flag(i, argc, argv, "--max-repetitions", v)) {
      o.max_repetitions = parse_number<int>(v, "--max-repetitions");
      if (o.max_repetitions < 1 || o.max_repetitions > 1000)
        throw usage_error("--max-repetitions must be 1..1000, not " + v);
      max_given = true;
    } else if (take_flag(i, argc, argv, "--ci-width", v)) {
      o.ci_width = parse_number<double>(v, "--ci-width");
      if (!(o.ci_width > 0 && o.ci_width <= 10))
        throw usage_error("--ci-width must be a fraction in (0, 10], not " + v);
    } else if (take_flag(i, argc, argv, "--budget", v)) {
      o.budget_s = parse_number<double>(v, "--budget");
      if (!(o.budget_s >= 0 && o.budget_s <= 86400))
        throw usage_error("--budget must be 0..86400 seconds (0: none), not " + v);
      budget_given = true;
    } else if (take_flag(i, argc, argv, "--seed", v)) {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        throw usage_error("--seed must be a whole number, not '" + v + "'");
      o.seed = parse_number<std::uint64_t>(v, "--seed");
    } else if (std::strcmp(argv[i], "--progress") == 0) {
      o.progress = true;
    } else if (std::strcmp(argv[i], "--header-only") == 0) {
      o.header_only = true;
    } else if (std::strcmp(argv[i], "--list") == 0) {
      o.list = true;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      o.help = true;
    } else if (take_flag(i, argc, argv, "--benchmark_out", v)) {
      if (v.empty()) throw usage_error("--benchmark_out needs a file name");
      o.out = v;
    } else if (take_flag(i, argc, argv, "--benchmark_out_format", v)) {
      if (v != "json")
        throw usage_error("--benchmark_out_format: only json is supported, not '" + v + "'");
    } else {
      // Google Benchmark's flags stay; we read the ones we need without removing them.
      std::string a = argv[i];
      if (a.rfind("--benchmark_repetitions=", 0) == 0) {
        fixed = parse_number<int>(a.substr(24), "--benchmark_repetitions");
        if (*fixed < 1 || *fixed > 1000)
          throw usage_error("--benchmark_repetitions must be 1..1000, not " + a.substr(24));
        continue;  // the rounds run each benchmark once at a time (bench/session.hpp)
      } else if (a == "--benchmark_list_tests" || a == "--benchmark_list_tests=true") {
        o.list_tests = true;
      } else if (a.rfind("--benchmark_filter=", 0) == 0) {
        o.filter = a.substr(19);
      } else if (a.rfind("--benchmark_", 0) != 0 && a != "--v" && a.rfind("--v=", 0) != 0) {
        throw usage_error("unknown option '" + a + "' (see --help)");
      }
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  if (o.cpus) {
    const placement implied =
        o.cpus->producer == o.cpus->consumer ? placement::same : placement::cross;
    if (placement_given && o.place != implied)
      throw usage_error("--cpus " + std::to_string(o.cpus->producer) + "," +
                        std::to_string(o.cpus->consumer) + " means placement " +
                        to_string(implied) + ", not --placement " + to_string(o.place));
    o.place = implied;
  }
  o.topology_sizes = sizes_given ? o.sizes : quick ? quick_topology_sizes() : topology_sizes();
  o.sizes_given = sizes_given;
  if (quick) {
    if (!sizes_given) o.sizes = quick_sizes();
    if (!target_given) o.target_time_s = 0.01;
    if (!min_given) o.min_repetitions = 3;
    if (!max_given) o.max_repetitions = 5;
    if (!budget_given) o.budget_s = 45;
    o.sweep = "quick";
  } else if (sizes_given) {
    o.sweep = "custom";
  }
  if (fixed) {
    if (min_given || max_given)
      throw usage_error(
          "--benchmark_repetitions=N runs every benchmark N times: it does not "
          "take --min-repetitions or --max-repetitions");
    o.min_repetitions = o.max_repetitions = *fixed;
    if (!budget_given) o.budget_s = 0;
  }
  if (o.peers_threads && o.process != process_model::fork)
    throw usage_error(
        "--peers threads runs two threads of one forked process: not with --process " +
        std::string(to_string(o.process)));
  if (o.min_repetitions > o.max_repetitions)
    throw usage_error("--min-repetitions " + std::to_string(o.min_repetitions) +
                      " is more than --max-repetitions " + std::to_string(o.max_repetitions));
  return o;
}

std::string usage_text(const char* argv0) {
  return std::string("usage: ") + argv0 + R"( [options] [Google Benchmark flags]

Measures Linux IPC mechanisms: latency (ping-pong round trips) and throughput (one-way stream)
for each mechanism x message size, between two pinned processes (forked, or with --process
spawn launched separately).

Options:
  --sizes LIST          comma-separated message sizes in bytes (default: the full sweep,
                        1,64,512,4095,4096,4097,16384,65535,65536,65537,262144,1048576,4194304)
  --quick               CI-sized sweep: 1,64,4095,4096,4097,65535,65536,65537,1048576 and
                        a 0.01 s timed batch per benchmark (topologies: 64,4096,4097); the
                        stop rule from 3 to 5 repetitions, within a 45 s budget
  --fan LIST            the N of the topology benchmarks, comma-separated, 1..64, or none
                        (default 1,2,4,8, each only where its processes fit the allowed CPUs;
                        name N here to oversubscribe): pairs/N runs N independent pairs of
                        every pair mechanism at once, fan_in/N N producers into one consumer
                        over one channel, fan_out/N one producer to N consumers (a channel
                        each, a shared-memory ring all read, or a work queue); fork process
                        model only. fan_in over pipes and FIFOs runs at 64,4095,4096,4097,65536
                        bytes, the rest of fan_in and fan_out at 64,4096,65536, pairs/N
                        throughput at 64,65536 and latency at 64 (--sizes when given: all at
                        those). Names are <mechanism>/<topology>/<N>/<pattern>/<size>/<placement>,
                        e.g. pipe/fan_in/4/throughput/4097/cross. More peers than allowed CPUs is
                        flagged oversubscribed in the report
  --placement P         cross (producer and consumer on two different CPUs, default),
                        same (both on one CPU) or none (not pinned). The CPUs come from the
                        topology in sysfs: cross takes two CPUs that are not SMT siblings
                        (siblings only when nothing else is allowed), sharing an L3 cache where
                        possible, and leaves CPU 0 out when more than two CPUs are allowed;
                        same takes one CPU other than CPU 0 where another is allowed. The
                        report records the choice and why (context.ipcbench.cpu_placement)
  --cpus A,B            pin the producer to CPU A and the consumer to CPU B instead of the
                        topology's choice (A == B: both on one CPU, placement same; A != B:
                        placement cross); both must be CPUs this process may run on
  --process M           fork (peers forked from the coordinator, default) or spawn (peers
                        launched as separate programs that open the channel by name: the
                        unrelated-processes case; names end in .spawn, e.g.
                        fifo/latency/64/cross.spawn; mechanisms that need inherited
                        descriptors are skipped)
  --peers P             processes (default), threads (the two peers are threads of one
                        forked process, each pinned as a process peer would be: the same
                        channel and checks without process isolation; names end in .threads,
                        e.g. pipe/latency/64/cross.threads; mechanisms whose adapter cannot
                        open both ends in one process are skipped with the reason), or
                        processes,threads (both, interleaved: the report's process_tax
                        compares them). Topology benchmarks run with processes only
  --library-threads M   pinned (default): the threads a library starts in a peer (ZeroMQ's I/O
                        thread, nng's pollers, gRPC's) stay on that peer's CPU, as under
                        `taskset -c CPU`; free: they may run on every CPU the run may use, only
                        the peer's own thread pinned (how the libraries' own perf tools run
                        without taskset). Each repetition records where they ran
                        (library_threads), the report the mode
  --idle-states M       held (default): keep the CPUs out of deep idle states for the whole run
                        (a PM QoS request of 0 us through /dev/cpu_dma_latency; where it cannot
                        be made, or no cpuidle driver honours it, a busy loop at idle priority
                        (SCHED_IDLE) on each CPU the run may use, which runs when nothing else
                        there wants to, so that no CPU idles); allowed: leave the machine as it is.
                        The report records the mode in force and what held it.
  --target-time S       length of each timed batch in seconds (default 0.015; quick 0.01)
  --min-repetitions N   repetitions every benchmark runs before the stop rule may end it
                        (default 5; quick 3; with a budget, the rankings' benchmarks at least
                        16 in the reference regime, at most twice --max-repetitions)
  --max-repetitions N   repetitions after which a benchmark stops in any case (default 12;
                        quick 5); with a budget, the rankings' benchmarks N more than their
                        minimum
  --ci-width F          the stop rule: a benchmark stops once the 90 % confidence interval of
                        its median (p50 round trip, or bytes/s) over its repetitions in the
                        reference regime is narrower than F times the median (default 0.10)
  --budget S            seconds after which no new repetition starts (default 600; quick 45;
                        0: none, and every benchmark runs once per round). Every benchmark
                        runs once whatever the budget; the benchmarks furthest from an answer
                        run first, in batches chosen by the host's regime, the headline's (one
                        pair at 64 B, 4 KiB and 1 MiB) first in the reference regime, the
                        rankings' (64 B latency, 1 MiB throughput) paced over the run
                        instead, each owed 16 there by three quarters of the budget
                        (docs/methodology.md)
  --seed N              the seed of each round's shuffled order (default: random; the report
                        records it)
  --timeout S           deadline in seconds for every wait on a peer (default 30; the wait for
                        the peers to open a channel is at least 10)
  --progress            one progress line instead of Google Benchmark's table
  --probes FILE         put the findings of `ipcbench-probe --out FILE` into the report's
                        top-level `probes` array (with the shared memory vs pipe claim,
                        which the report always carries)
  --header-only         also run the "header only" ids (iceoryx.zerocopy.busy.header_only):
                        only the message's 24-byte header written and checked, as iceperf
                        measures; not a measure of moving data, so left out unless asked for
  --plugin PATH         load an out-of-tree mechanism from a shared object built against this
                        ipcbench (IPCBENCH_PLUGIN; docs/packaging.md); may be given again
  --list                list the mechanisms and their traits, then exit
  --help                this text

Google Benchmark flags that matter here:
  --benchmark_filter=REGEX        run the benchmarks whose name matches, names are
                                  <mechanism>/<pattern>/<size>/<placement>, e.g. pipe/latency/64/cross,
                                  or with a topology pipe/pairs/4/throughput/64/cross
  --benchmark_repetitions=N       run every benchmark exactly N times, in N shuffled rounds, with
                                  no stop rule and no budget (reports keep each repetition)
  --benchmark_out=FILE            write the JSON report (Google Benchmark JSON + our fields)
  --benchmark_format=console|json|csv   what goes to stdout
  --benchmark_list_tests=true     list benchmark names and exit
Exit status: 0 all ran (skips, and counted loss of a lossy mechanism such as UDP, included),
1 a benchmark failed, 2 bad input.
)";
}

}  // namespace ipcbench
