// ipcbench: the Google Benchmark program. Registers mechanism x pattern x size (bench/cases),
// runs each through the harness in one bench_session (bench/session), and writes the report
// (Google Benchmark's JSON format with our fields) that report_builder assembles from the runs.
#include "bench/program.hpp"

#include <benchmark/benchmark.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "bench/claims.hpp"
#include "bench/context.hpp"
#include "bench/options.hpp"
#include "bench/plugin.hpp"
#include "bench/report.hpp"
#include "bench/session.hpp"
#include "harness/idle_state.hpp"
#include "harness/runner.hpp"
#include "harness/spawn.hpp"
#include "probe/report_probes.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "sys/cleanup.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

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
                  const nlohmann::json& probe_findings) {
  report["context"][schema::kContextKey] = ctx;
  report["probes"] = probe_findings;
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

// One paragraph on stderr: the regimes the run saw, and how the stop rule ended the benchmarks.
void print_answer_summary(const bench_session& session) {
  const run_regimes& r = session.regimes();
  if (r.found.list.size() > 1) {
    std::cerr << "ipcbench: the host moved between " << r.found.list.size()
              << " regimes during the run (cache-line round trip";
    for (const auto& g : r.found.list)
      std::cerr << " ~" << static_cast<long>(g.median) << " ns in "
                << 100 * g.count / r.found.of.size() << " %";
    std::cerr << "); estimates are taken in regime " << r.found.reference << "\n";
  }
  std::map<std::string, int> stopped;
  for (const auto& h : session.histories()) ++stopped[h.stopped];
  // What stopped each benchmark (`stopped` in the report's estimates), in words.
  const std::map<std::string, std::string> words = {
      {"converged", "converged (interval within the width)"},
      {"cap", "at the repetition cap"},
      {"budget", "at the end of the budget"},
      {"skipped", "skipped"},
      {"failed", "failed"}};
  std::cerr << "ipcbench: stop rule, of " << session.histories().size() << " benchmarks:";
  const char* sep = " ";
  for (const auto& [why, n] : stopped) {
    const auto it = words.find(why);
    std::cerr << sep << n << " " << (it == words.end() ? why : it->second);
    sep = ", ";
  }
  std::cerr << "\n";
}

// The one-pair benchmarks of the run as the computed claims see them.
std::vector<claim_benchmark> claim_benchmarks(const bench_session& session) {
  std::vector<claim_benchmark> out;
  const auto& cases = session.cases();
  const auto& histories = session.histories();
  for (std::size_t i = 0; i < cases.size() && i < histories.size(); ++i) {
    const bench_case& c = cases[i];
    if (c.topo) continue;
    out.push_back({.id = c.traits.id,
                   .family = c.traits.family,
                   .pattern = to_string(c.req.pat),
                   .size = c.req.message_size,
                   .threads = c.req.thread_peers,
                   .paced = c.traits.paced,
                   .history = &histories[i]});
  }
  return out;
}

// A tax's rows (process_tax, namespace_tax, relay_tax), one line each, on stderr; a count per
// verdict when there are many. `name` ("process tax") and `what` (what the ratio says) head them.
void print_tax(const nlohmann::json& rows, const char* name, const char* key, const char* what) {
  if (rows.empty()) return;
  if (rows.size() > 60) {
    std::map<std::string, int> verdicts;
    for (const auto& r : rows) ++verdicts[r["verdict"].get<std::string>()];
    std::cerr << "ipcbench: " << name << " of " << rows.size() << " benchmarks (report: " << key
              << "):";
    for (const auto& [v, n] : verdicts) std::cerr << " " << n << " " << v << ";";
    std::cerr << "\n";
    return;
  }
  std::cerr << "ipcbench: " << name << " (" << what << "; 90 % interval; report: " << key << "):\n";
  for (const auto& r : rows) std::cerr << "  " << tax_line(r) << "\n";
}

nlohmann::json list_mechanisms() {
  nlohmann::json all = nlohmann::json::array();
  all.push_back(traits_to_json(null_traits()));
  for (const auto& e : registry()) {
    auto j = traits_to_json(e.traits);
    if (!e.unavailable.empty()) j["unavailable"] = e.unavailable;
    all.push_back(std::move(j));
  }
  return all;
}

int real_main(int argc, char** argv) {
  bench_options o = parse_options(argc, argv);
  if (o.help) {
    std::cout << usage_text(argv[0]);
    return 0;
  }
  if (o.list) {
    std::cout << list_mechanisms().dump(2) << "\n";
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

  const std::vector<bench_case> cases =
      select_matching(make_cases(o), benchmark::GetBenchmarkFilter());
  if (cases.empty()) {
    std::string why = "--benchmark_filter '" + benchmark::GetBenchmarkFilter() +
                      "' matches no benchmark (names look like pipe/latency/64/cross; see --list";
    if (!o.header_only) why += "; the header-only ids run only with --header-only";
    throw usage_error(why + ")");
  }
  if (o.list_tests) {
    for (const auto& c : cases) std::cout << c.name << kGoogleSuffix << "\n";
    return 0;
  }
  bench_session session;
  for (const auto& c : cases) session.add(c);

  // The idle-state request is made before the calibration and held until the report is written;
  // where it reaches nothing or cannot be made, idle pollers hold the CPUs instead
  // (harness/idle_state.hpp).
  const idle_hold idle(o.idle, allowed_cpus());
  const std::string why = "the PM QoS request was " + idle.request().outcome();
  if (idle.poller())
    std::cerr << "ipcbench: idle states held by pollers (" << idle.poller()->effect() << "), since "
              << why << "; the report says so\n";
  else if (!idle.no_poller().empty())
    std::cerr << "ipcbench: idle states "
              << (idle.request().in_force() == idle_mode::held ? "held to no effect"
                                                               : "stay allowed")
              << " (" << why << "; and no idle poller: " << idle.no_poller()
              << "); the report says so\n";
  const run_conditions conditions;
  session.calibrate(choose_cpus(o.place, o.cpus), o.sizes);
  nlohmann::json ctx = build_context(o, session.floors(), session.cpus());
  ctx["mechanisms"].insert(ctx["mechanisms"].begin(), traits_to_json(null_traits()));
  ctx["idle_states"] = idle.to_json();

  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (o.progress)
    display = std::make_unique<quiet_reporter>();
  else
    display.reset(benchmark::CreateDefaultDisplayReporter());
  report_builder builder(session.extras());
  tee_reporter tee(*display, builder);
  const repetition_plan plan{.rule = {.confidence = 0.9,
                                      .relative_width = o.ci_width,
                                      .min_repetitions = o.min_repetitions,
                                      .max_repetitions = o.max_repetitions},
                             .reference_share = o.sweep == "quick" ? estimate::kQuickReferenceShare
                                                                   : estimate::kReferenceShare,
                             .budget_s = o.budget_s,
                             .seed = o.seed ? *o.seed : std::random_device{}()};
  session.run(tee, plan, o.progress);
  benchmark::Shutdown();
  builder.finish();

  ctx["run_conditions"] = conditions.finish();
  ctx["regimes"] = regimes_json(session.regimes());
  ctx["stop_rule"] = session.stop_rule_json();
  print_answer_summary(session);
  if (o.out) {
    nlohmann::json doc = builder.document();
    for (auto& entry : doc["benchmarks"])
      if (entry.contains("order")) {
        const auto order = entry["order"].get<std::uint64_t>();
        if (const auto g = session.regimes().of(order)) entry["regime"] = *g;
        if (session.regimes().in_disturbance(order)) entry["disturbed"] = true;
      }
    doc["estimates"] = session.estimates_json();
    doc["process_tax"] =
        process_tax_json(session.histories(), session.regimes(), plan.rule.confidence);
    print_tax(doc["process_tax"], "process tax", "process_tax",
              "how many times worse with process peers than with thread peers");
    doc["namespace_tax"] =
        namespace_tax_json(session.histories(), session.regimes(), plan.rule.confidence);
    print_tax(doc["namespace_tax"], "namespace tax", "namespace_tax",
              "how many times worse TCP is between two network namespaces over a veth pair than "
              "over loopback");
    doc["relay_tax"] = relay_tax_json(session.histories(), session.regimes(), plan.rule.confidence);
    print_tax(doc["relay_tax"], "relay tax", "relay_tax",
              "how many times worse a pipe is through a relay process than direct");
    doc["claims"] = claims_json(claim_benchmarks(session), session.regimes(), plan.rule.confidence,
                                doc["process_tax"]);
    for (const auto& c : doc["claims"]) {
      std::string summary = c["summary"].get<std::string>();
      if (summary.size() > 160) summary = summary.substr(0, 157) + "...";
      std::cerr << "ipcbench: claim '" << c["claim"].get<std::string>()
                << "': " << c["verdict"].get<std::string>() << " (" << summary << ")\n";
    }
    const nlohmann::json& calibrated = ctx["calibration"]["copy_floor_bytes_per_second"];
    ctx["copy_floors"] = apply_run_copy_floors(
        doc["benchmarks"],
        calibrated.is_object() ? calibrated.value("by_size", nlohmann::json()) : nlohmann::json());
    ctx["floor_check"] = floor_check_json(doc["benchmarks"], ctx["mechanisms"]);
    // A floor that a repetition beat is wrong there, not the mechanism fast: said on stderr.
    const auto say_beaten = [&](const char* key, const char* one, const char* many,
                                const char* what) {
      if (const auto& beaten = ctx["floor_check"][key]; !beaten.empty())
        std::cerr << "ipcbench: " << beaten.size() << (beaten.size() == 1 ? one : many) << what
                  << " (context.ipcbench.floor_check): the floor is wrong there, not the "
                     "mechanism fast\n";
    };
    say_beaten("copy_floor_beaten", " repetition", " repetitions",
               " moved data faster than the best copy floor the run measured at their size");
    say_beaten("line_floor_beaten", " round trip", " round trips",
               " came in under the cache-line floor measured beside them");
    write_report(*o.out, std::move(doc), ctx,
                 probes::report_probes(probe_findings, session.records()));
    std::cerr << "ipcbench: wrote " << *o.out << "\n";
  }
  const report_extras& extras = session.extras();
  if (extras.lossy_runs() != 0)
    std::cerr << "ipcbench: " << extras.lossy_runs()
              << " latency run(s) of a lossy mechanism lost, duplicated or reordered round trips "
                 "(reported failed with the counts; not an error of the suite)\n";
  if (extras.failed() != 0) {
    std::cerr << "ipcbench: " << extras.failed()
              << " benchmark run(s) failed (see error_message)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int program_main(int argc, char** argv) {
  try {
    // Plug-ins first (--plugin, and IPCBENCH_PLUGINS for a spawned peer): their mechanisms are
    // in the registry before anything reads it.
    load_plugins(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  }
  if (is_peer_invocation(argc, argv)) return peer_main(argc, argv);
  try {
    return real_main(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ipcbench: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace ipcbench
