// ipcbench: the Google Benchmark program. Registers mechanism x pattern x size, runs each through
// the harness, and writes the report (Google Benchmark's JSON format with our fields) that
// report_builder assembles from the runs.
#include <benchmark/benchmark.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "bench/context.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "harness/runner.hpp"
#include "harness/spawn.hpp"
#include "probe/report_probes.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {
namespace {

report_extras g_extras;
progress_line g_progress;

// The calibrated floors of this run (bench/calibration.hpp), read by run_case.
calibration g_floors;
// The CPUs the peers run on, for the floors measured beside each repetition (both >= 0 and
// different: placement cross), and whether to measure them.
cpu_choice g_cpus;
bool g_adjacent_floors = false;

adjacent_floors measure_adjacent(const bench_case& c) {
  if (!g_adjacent_floors || c.traits.kind == channel_kind::calibration) return {};
  // A pair's floors bound a pair: fan-in and fan-out aggregates are no pair's.
  if (!floors_apply(c)) return {};
  return measure_adjacent_floors(g_cpus, c.req.pat, c.req.message_size);
}

// Each repetition's place in the run, for the report (interleaved runs shuffle them).
std::uint64_t g_next_order = 0;

void run_case(benchmark::State& state, const bench_case& c) {
  g_progress.step(c.name);
  const auto started = std::chrono::system_clock::now().time_since_epoch();
  const std::uint64_t order = g_next_order++;
  run_result r;
  adjacent_floors adjacent;
  if (std::string blocked = g_extras.repetition_blocked(c.name); !blocked.empty()) {
    r.status = run_status::skipped;
    r.reason = std::move(blocked);
  } else {
    adjacent = measure_adjacent(c);
    run_request req = c.req;
    req.timer_ns = g_floors.timer_ns;
    req.tsc_ns_per_tick = g_floors.tsc_ns_per_tick();
    r = c.run(req);
  }
  repetition_report rep = assemble_repetition(c, r, g_floors, adjacent);
  rep.fields.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started).count();
  rep.fields.order = order;
  if (r.status != run_status::ok) {
    // A lossy mechanism that lost round trips did what it is: the latency run is reported failed
    // with the counts, but it does not set the exit code. (A lossy stream that lost datagrams is
    // ok, with its goodput and loss rate.)
    if (r.status == run_status::failed) {
      if (only_loss(c, r))
        g_extras.count_loss();
      else
        g_extras.count_failure();
    }
    g_extras.add_repetition(c.name, std::move(rep.fields));
    skip_run(state, schema::error_message(report_status(r.status), r.reason));
    return;
  }
  for (auto _ : state) state.SetIterationTime(rep.seconds_per_iteration);
  for (const auto& [name, value] : rep.counters) state.counters[name] = value;
  g_extras.add_repetition(c.name, std::move(rep.fields));
}

// Fails early on an unwritable --benchmark_out, without leaving an empty file behind.
void check_writable(const std::string& path) {
  const bool existed = std::filesystem::exists(path);
  {
    std::ofstream probe(path, std::ios::app);
    if (!probe) throw usage_error("cannot write '" + path + "': " + std::strerror(errno));
  }
  if (!existed) std::filesystem::remove(path);
}

void write_report(const std::string& path, nlohmann::json report, const nlohmann::json& ctx,
                  const std::vector<probes::finding>& probe_findings) {
  report["context"][schema::kContextKey] = ctx;
  report["probes"] = probes::report_probes(probe_findings, report);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << report.dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  }
  std::filesystem::rename(tmp, path);
}

// The hidden peer mode of the spawn process model: this program, launched by a coordinator,
// opens one end of a named channel by its rendezvous and runs the peer loop.
int peer_main(int argc, char** argv) {
  spawned_peer p;
  try {
    p = parse_spawned_peer(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  }
  return run_spawned_peer(
      p, [&p](const nlohmann::json& where, role r, control_link& link, const run_request& req) {
        const mechanism_entry* m = find_mechanism(p.mechanism_id);
        if (m == nullptr) throw std::invalid_argument("no mechanism '" + p.mechanism_id + "'");
        if (!m->can_spawn) throw std::invalid_argument(p.mechanism_id + ": " + kRelatedOnlyReason);
        return m->attach(where, r, link, req);
      });
}

int real_main(int argc, char** argv) {
  bench_options o = parse_options(argc, argv);
  if (o.help) {
    std::cout << usage_text(argv[0]);
    return 0;
  }
  if (o.list) {
    nlohmann::json all = nlohmann::json::array();
    all.push_back(traits_to_json(null_traits()));
    for (const auto& e : registry()) {
      auto j = traits_to_json(e.traits);
      if (!e.unavailable.empty()) j["unavailable"] = e.unavailable;
      all.push_back(std::move(j));
    }
    std::cout << all.dump(2) << "\n";
    return 0;
  }
  if (o.out) check_writable(*o.out);
  std::vector<probes::finding> probe_findings;
  try {
    if (o.probes) probe_findings = probes::read_probe_file(*o.probes);
  } catch (const std::exception& e) {
    throw usage_error(std::string("--probes: ") + e.what());
  }

  cleanup::begin_run("ipcbench");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  const std::vector<bench_case> cases = make_cases(o);
  const std::size_t matching = count_matching(cases, benchmark::GetBenchmarkFilter());
  if (matching == 0)
    throw usage_error("--benchmark_filter '" + benchmark::GetBenchmarkFilter() +
                      "' matches no benchmark (names look like pipe/latency/64/cross; see --list)");
  for (const auto& c : cases) {
    const char* process = in_process(c.traits) ? "none" : to_string(c.req.process);
    g_extras.set_static(c.name, {.mechanism = c.traits.mechanism,
                                 .variant = c.traits.variant,
                                 .id = c.traits.id,
                                 .family = c.traits.family,
                                 .pattern = to_string(c.req.pat),
                                 .message_size = c.req.message_size,
                                 .placement = to_string(c.req.place),
                                 .process = process,
                                 .topology = c.topo ? to_string(*c.topo) : "",
                                 .fan = c.fan});
    benchmark::RegisterBenchmark(c.name.c_str(), run_case, c)
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }

  // The idle-state request is made before the calibration and held until the report is written.
  idle_state_request idle(o.idle);
  if (o.idle == idle_mode::held && idle.in_force() != idle_mode::held)
    std::cerr << "ipcbench: idle states stay allowed (" << idle.reason()
              << "); the report says so\n";
  const run_conditions conditions;
  nlohmann::json ctx = [&] {
    const cpu_choice cpus = choose_cpus(o.place, o.cpus);
    g_cpus = cpus;
    g_adjacent_floors = two_cpus(cpus);
    g_floors = measure_calibration(cpus, o.sizes);
    auto c = build_context(o, g_floors, cpus);
    auto n = traits_to_json(null_traits());
    c["mechanisms"].insert(c["mechanisms"].begin(), n);
    c["idle_states"] = idle.to_json();
    return c;
  }();

  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (o.progress)
    display = std::make_unique<quiet_reporter>();
  else
    display.reset(benchmark::CreateDefaultDisplayReporter());
  report_builder builder(g_extras);
  tee_reporter tee(*display, builder);
  if (o.progress) g_progress.start(matching * static_cast<std::size_t>(o.repetitions));
  benchmark::RunSpecifiedBenchmarks(&tee);
  g_progress.finish();
  benchmark::Shutdown();

  ctx["run_conditions"] = conditions.finish();
  if (o.out) {
    write_report(*o.out, builder.document(), ctx, probe_findings);
    std::cerr << "ipcbench: wrote " << *o.out << "\n";
  }
  if (g_extras.lossy_runs() != 0)
    std::cerr << "ipcbench: " << g_extras.lossy_runs()
              << " latency run(s) of a lossy mechanism lost, duplicated or reordered round trips "
                 "(reported failed with the counts; not an error of the suite)\n";
  if (g_extras.failed() != 0) {
    std::cerr << "ipcbench: " << g_extras.failed()
              << " benchmark run(s) failed (see error_message)\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace ipcbench

int main(int argc, char** argv) {
  if (ipcbench::is_peer_invocation(argc, argv)) return ipcbench::peer_main(argc, argv);
  try {
    return ipcbench::real_main(argc, argv);
  } catch (const ipcbench::usage_error& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  }
}
