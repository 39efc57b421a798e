// ipcbench: the Google Benchmark program. Registers mechanism x pattern x size, runs each through
// the harness, and writes the report (Google Benchmark's JSON format with our fields) that
// report_builder assembles from the runs.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <regex>
#include <string_view>

#include "bench/calibration.hpp"
#include "bench/context.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "harness/calibrate.hpp"
#include "harness/runner.hpp"
#include "harness/spawn.hpp"
#include "probe/report_probes.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "sys/cleanup.hpp"

namespace ipcbench {
namespace {

struct bench_case {
  std::string name;
  mechanism_traits traits;
  std::optional<topology> topo;  // a topology benchmark (harness/group.hpp)
  std::size_t fan = 0;
  run_request req;
  std::function<run_result(const run_request&)> run;
};

report_extras g_extras;
progress_line g_progress;

// The calibrated floors of this run (bench/calibration.hpp), read by run_case.
calibration g_floors;
// The CPUs the peers run on, for the floors measured beside each repetition (both >= 0 and
// different: placement cross), and whether to measure them.
cpu_choice g_cpus;
bool g_adjacent_floors = false;

// Whether the floors (a pair's cache-line and wake-up round trips, a pair's copy) bound this
// benchmark: one pair, and pairs/N (each pair's round trip, each pair's copy); not the
// aggregate of N producers or N consumers sharing a channel.
bool floors_apply(const bench_case& c) {
  return !c.topo || *c.topo == topology::pairs;
}

adjacent_floors measure_adjacent(const bench_case& c) {
  if (!g_adjacent_floors || c.traits.kind == channel_kind::calibration) return {};
  // A pair's floors bound a pair: fan-in and fan-out aggregates are no pair's.
  if (!floors_apply(c)) return {};
  return measure_adjacent_floors(g_cpus, c.req.pat, c.req.message_size);
}

double ratio_or_null(double value, std::optional<double> floor) {
  return floor && *floor > 0 ? value / *floor : std::numeric_limits<double>::quiet_NaN();
}

mechanism_traits null_traits() {
  mechanism_traits t;
  t.id = "null";
  t.mechanism = "null";
  t.variant = "loopback";
  t.family = "calibration";
  t.kind = channel_kind::calibration;
  t.wait = "none";
  t.description =
      "the harness loop of both peers in one process, no IPC: the floor of every number";
  return t;
}

// The calibration runs both peers' loops in one process: no process model applies.
bool in_process(const mechanism_traits& t) {
  return t.kind == channel_kind::calibration;
}

// With `only_median` (samples that are means of several round trips: their spread is not the
// round trips'), the percentiles above p50 are left out.
std::map<std::string, std::int64_t> percentiles_of(const histogram& h, bool only_median = false) {
  std::map<std::string, std::int64_t> p;
  for (std::string_view k : schema::kLatencyPercentileKeys) {
    const std::string key(k);
    const double q = std::stod(key);
    if (const auto need = schema::min_samples_for_percentile(q); need && h.count() < *need)
      continue;  // too few round trips behind it (see schema::min_samples_for_percentile)
    if (only_median && q > 50) continue;
    p[key] = h.percentile(q);
  }
  return p;
}

// A percentile as a counter, or NaN (written as null) when too few round trips back it, or
// when it is a tail (`only_median`, as above).
double supported_percentile(const histogram& h, double q, bool only_median = false) {
  if (const auto need = schema::min_samples_for_percentile(q); need && h.count() < *need)
    return std::numeric_limits<double>::quiet_NaN();
  if (only_median && q > 50) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(h.percentile(q));
}

// Each repetition's place in the run, for the report (interleaved runs shuffle them).
std::uint64_t g_next_order = 0;

schema::status report_status(run_status s) {
  switch (s) {
    case run_status::ok:
      return schema::status::ok;
    case run_status::skipped:
      return schema::status::skipped;
    case run_status::failed:
      return schema::status::failed;
  }
  return schema::status::failed;
}

// The report's `group` object of a topology benchmark (results/README.md).
// `means`: each round-trip sample is the mean of several (run_result::rtt_batch > 1).
nlohmann::json group_json(const group_outcome& g, pattern p, bool means) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : g.members) {
    nlohmann::json j = {{"role", to_string(m.r)},
                        {"index", m.index},
                        {"cpu", m.cpu < 0 ? nlohmann::json() : nlohmann::json(m.cpu)},
                        {"messages", m.messages},
                        {"elapsed_ns", m.elapsed_ns},
                        {"cpu_ns", m.cpu_ns}};
    if (m.elapsed_ns > 0 && m.messages != 0)
      j["messages_per_second"] =
          static_cast<double>(m.messages) * 1e9 / static_cast<double>(m.elapsed_ns);
    if (p == pattern::latency && m.r == role::producer && m.rtt.count() != 0) {
      j["rtt_p50_ns"] = m.rtt.percentile(50);
      const double p99 = supported_percentile(m.rtt, 99, means);
      j["rtt_p99_ns"] = std::isnan(p99) ? nlohmann::json() : nlohmann::json(p99);
      j["rtt_samples"] = m.rtt.count();
    }
    if (m.torn) j["torn_records"] = *m.torn;
    if (g.topo != topology::pairs) {
      // One-way delay of sampled timed records (harness/delay.hpp); p99 only with 1,000 samples.
      j["delay_samples"] = m.delay.count();
      j["delay_p50_ns"] =
          m.delay.count() != 0 ? nlohmann::json(m.delay.percentile(50)) : nlohmann::json();
      const double p99 = supported_percentile(m.delay, 99);
      j["delay_p99_ns"] = std::isnan(p99) ? nlohmann::json() : nlohmann::json(p99);
    }
    members.push_back(std::move(j));
  }
  nlohmann::json j = {
      {"topology", to_string(g.topo)},      {"n", g.n},
      {"peers", g.members.size()},          {"allowed_cpus", g.allowed_cpus},
      {"oversubscribed", g.oversubscribed}, {"placement_reason", g.placement_reason},
      {"members", std::move(members)}};
  if (g.fairness)
    j["fairness"] = {{"min_over_max", g.fairness->min_over_max}, {"cv", g.fairness->cv}};
  if (g.torn_records) j["torn_records"] = *g.torn_records;
  if (g.paced) {
    nlohmann::json pj = {{"rate_per_producer", g.paced->rate_per_producer},
                         {"delay_samples", g.paced->delay.count()}};
    if (!g.paced->failure.empty()) pj["reason"] = g.paced->failure;
    if (g.paced->delay.count() != 0) {
      pj["delay_p50_ns"] = g.paced->delay.percentile(50);
      const double p99 = supported_percentile(g.paced->delay, 99);
      pj["delay_p99_ns"] = std::isnan(p99) ? nlohmann::json() : nlohmann::json(p99);
    }
    j["paced_delay"] = std::move(pj);
  }
  return j;
}

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
  schema::repetition_fields extra;
  extra.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started).count();
  extra.order = order;
  extra.state = report_status(r.status);
  extra.reason = r.reason;
  if (r.group) extra.group = group_json(*r.group, c.req.pat, r.rtt_batch > 1);
  // Lossy mechanisms: the loss counts, when the peers got as far as reporting them.
  if (c.traits.lossy && (r.status == run_status::ok || r.lost + r.duplicated + r.reordered != 0)) {
    extra.loss = schema::loss_counts{r.lost, r.duplicated, r.reordered, r.stale, std::nullopt};
    if (r.goodput) extra.loss->delivered = r.delivered;
  }
  if (r.status != run_status::ok) {
    // A lossy mechanism that lost round trips did what it is: the latency run is reported failed
    // with the counts, but it is no fault of the suite or the machine, so it does not set the
    // exit code. (A lossy stream that lost datagrams is ok, with its goodput and loss rate.)
    const bool only_loss = c.traits.lossy &&
                           r.integrity_errors == r.lost + r.duplicated + r.reordered &&
                           r.lost + r.duplicated + r.reordered != 0;
    if (r.status == run_status::failed) {
      if (only_loss)
        g_extras.count_loss();
      else
        g_extras.count_failure();
    }
    g_extras.add_repetition(c.name, std::move(extra));
    skip_run(state, schema::error_message(report_status(r.status), r.reason));
    return;
  }
  const bool latency = c.req.pat == pattern::latency;
  const double per_message_s =
      latency ? r.rtt.mean() / 1e9
              : static_cast<double>(r.elapsed_ns) / 1e9 / static_cast<double>(r.messages);
  for (auto _ : state) state.SetIterationTime(per_message_s);

  namespace counter = schema::counter;
  state.counters[counter::kMessages] = static_cast<double>(r.messages);
  state.counters[counter::kCpuNsPerMessage] = r.cpu_ns_per_message();
  if (c.traits.verification == "separate")
    if (const auto check = g_floors.check_ns(c.req.message_size))
      state.counters[counter::kSeparateCheckNsPerMessage] = *check;
  if (r.helper_cpu_ns)
    state.counters[counter::kHelperCpuNsPerMessage] =
        static_cast<double>(*r.helper_cpu_ns) / static_cast<double>(r.messages);
  if (latency) {
    // A sample that is the mean of rtt_batch round trips hides their tail: a 10 us preemption
    // in a batch of 14 shows as +0.7 us. Its tails are null, with the reason.
    const bool means = r.rtt_batch > 1;
    state.counters[counter::kRttP50Ns] = static_cast<double>(r.rtt.percentile(50));
    state.counters[counter::kRttP90Ns] = supported_percentile(r.rtt, 90, means);
    state.counters[counter::kRttP99Ns] = supported_percentile(r.rtt, 99, means);
    state.counters[counter::kRttP999Ns] = supported_percentile(r.rtt, 99.9, means);
    state.counters[counter::kRttMaxNs] =
        means ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(r.rtt.max());
    extra.rtt_clock = to_string(r.clock);
    if (means)
      extra.rtt_tails = "each sample is the mean of " + std::to_string(r.rtt_batch) +
                        " back-to-back round trips (no invariant time-stamp counter to time them "
                        "one by one): percentiles above p50 and the max are not measured";
    state.counters[counter::kRttMeanNs] = r.rtt.mean();
    state.counters[counter::kOneWayP50Ns] = static_cast<double>(r.rtt.percentile(50)) / 2;
    state.counters[counter::kRttBatch] = static_cast<double>(r.rtt_batch);
    state.counters[counter::kRttSamples] = static_cast<double>(r.rtt.count());
    const double p50 = static_cast<double>(r.rtt.percentile(50));
    state.counters[counter::kRttP50PerLineFloor] = ratio_or_null(
        p50, adjacent.line_rtt_p50_ns ? adjacent.line_rtt_p50_ns : g_floors.line_rtt_p50_ns());
    state.counters[counter::kRttP50PerWakeFloor] = ratio_or_null(
        p50, adjacent.wake_rtt_p50_ns ? adjacent.wake_rtt_p50_ns : g_floors.wake_rtt_p50_ns());
    state.counters[counter::kTurnaroundP50Ns] =
        r.turnaround.count() != 0 ? static_cast<double>(r.turnaround.percentile(50))
                                  : std::numeric_limits<double>::quiet_NaN();
    extra.latency_percentiles_ns = percentiles_of(r.rtt, means);
    if (r.turnaround.count() != 0) extra.turnaround_percentiles_ns = percentiles_of(r.turnaround);
  } else {
    const double bps = r.bytes_per_second(c.req.message_size);
    state.counters[counter::kBytesPerSecond] = bps;
    state.counters[counter::kMessagesPerSecond] = r.messages_per_second();
    state.counters[counter::kBytesPerSecondPerCopyFloor] = ratio_or_null(
        bps, !floors_apply(c)                 ? std::nullopt
             : adjacent.copy_bytes_per_second ? adjacent.copy_bytes_per_second
                                              : g_floors.copy_bytes_per_second(c.req.message_size));
    if (r.goodput) state.counters[counter::kLossRate] = r.loss_rate();
    if (c.traits.paced) {
      state.counters[counter::kTargetMessagesPerSecond] = r.target_rate;
      state.counters[counter::kRateTrials] = static_cast<double>(r.rate_trials);
    }
  }
  if (r.group) {
    if (r.group->fairness) {
      state.counters[counter::kFairnessMinOverMax] = r.group->fairness->min_over_max;
      state.counters[counter::kFairnessCv] = r.group->fairness->cv;
    }
    if (r.group->torn_records)
      state.counters[counter::kTornRecords] = static_cast<double>(*r.group->torn_records);
    // The lone member's histogram holds every path's samples: fan-in's consumer, fan-out's
    // producer.
    const role lone = r.group->topo == topology::fan_in ? role::consumer : role::producer;
    for (const auto& m : r.group->members)
      if (r.group->topo != topology::pairs && m.r == lone && m.delay.count() != 0) {
        state.counters[counter::kDelayP50Ns] = static_cast<double>(m.delay.percentile(50));
        if (const double p99 = supported_percentile(m.delay, 99); !std::isnan(p99))
          state.counters[counter::kDelayP99Ns] = p99;
      }
    if (r.group->paced && r.group->paced->delay.count() != 0) {
      const histogram& d = r.group->paced->delay;
      state.counters[counter::kPacedDelayP50Ns] = static_cast<double>(d.percentile(50));
      if (const double p99 = supported_percentile(d, 99); !std::isnan(p99))
        state.counters[counter::kPacedDelayP99Ns] = p99;
    }
  }
  extra.integrity_errors = r.integrity_errors;
  // A group's CPUs are in `group`, member by member.
  if (!r.group) extra.cpus = std::array<int, 2>{r.producer_cpu_id, r.consumer_cpu_id};
  extra.cpu = schema::peer_cpu_times{r.producer_cpu.user_ns,  r.producer_cpu.sys_ns,
                                     r.consumer_cpu.user_ns,  r.consumer_cpu.sys_ns,
                                     r.producer_cpu.total_ns, r.consumer_cpu.total_ns};
  if (r.cpu_states) {
    nlohmann::json cpus = nlohmann::json::object();
    for (const auto& [cpu, t] : r.cpu_states->cpus)
      cpus[std::to_string(cpu)] = {{"user_ns", t.user_ns},       {"nice_ns", t.nice_ns},
                                   {"system_ns", t.system_ns},   {"idle_ns", t.idle_ns},
                                   {"iowait_ns", t.iowait_ns},   {"irq_ns", t.irq_ns},
                                   {"softirq_ns", t.softirq_ns}, {"steal_ns", t.steal_ns}};
    extra.cpu_states =
        nlohmann::json{{"window_ns", r.cpu_states->window_ns},
                       {"resolution_ns", 1'000'000'000LL / std::max(1L, ::sysconf(_SC_CLK_TCK))},
                       {"cpus", std::move(cpus)}};
  }
  if (nlohmann::json floors = adjacent_floors_json(adjacent); !floors.empty())
    extra.floors = std::move(floors);
  g_extras.add_repetition(c.name, std::move(extra));
}

std::vector<bench_case> make_cases(const bench_options& o) {
  std::vector<bench_case> cases;
  auto add = [&](const mechanism_traits& t, pattern p, std::size_t size, placement place,
                 std::function<run_result(const run_request&)> run,
                 std::optional<topology> topo = std::nullopt, std::size_t fan = 0) {
    bench_case c;
    c.traits = t;
    c.topo = topo;
    c.fan = fan;
    c.req.pat = p;
    c.req.message_size = size;
    c.req.place = place;
    if (place != placement::none) c.req.cpus = o.cpus;
    c.req.target_time_s = o.target_time_s;
    c.req.timeout = std::chrono::seconds(o.timeout_s);
    c.req.process = o.process;
    // Launched peers get their own names, so compare never matches them with forked ones. The
    // null calibration runs in one process under either model.
    c.name = schema::format_name({.id = t.id,
                                  .topology = topo ? to_string(*topo) : "",
                                  .fan = fan,
                                  .pattern = to_string(p),
                                  .message_size = size,
                                  .placement = to_string(place),
                                  .spawned = o.process == process_model::spawn && !in_process(t)});
    c.run = std::move(run);
    cases.push_back(std::move(c));
  };
  for (pattern p : {pattern::latency, pattern::throughput})
    for (std::size_t size : o.sizes) add(null_traits(), p, size, placement::none, run_null);
  for (const auto& e : registry()) {
    // A mechanism with sizes of its own runs at those: notifications carry no payload (size 0
    // only), the real-time signal at 0 and 8 bytes (its sigval).
    const std::vector<std::size_t>& sizes = e.traits.sizes.empty() ? o.sizes : e.traits.sizes;
    for (pattern p : {pattern::latency, pattern::throughput}) {
      if (p == pattern::throughput && !e.traits.supports_throughput) continue;
      if (p == pattern::latency && e.traits.paced) continue;  // a paced stream: throughput only
      for (std::size_t size : sizes) add(e.traits, p, size, o.place, e.run);
    }
  }
  // The topology benchmarks, after every one-pair benchmark: a group forks its members, so the
  // fork process model only.
  if (o.process != process_model::fork) return cases;
  const std::size_t cpus = allowed_cpus().size();
  for (const auto& e : registry()) {
    for (topology t : e.topologies())
      for (std::size_t n : o.fan) {
        if (!o.fan_given && !fan_fits(t, n, cpus)) continue;
        for (pattern p : {pattern::latency, pattern::throughput}) {
          if (p == pattern::throughput && !e.traits.supports_throughput) continue;
          // Fan-in and fan-out are streams: one consumer's latency is not a round trip.
          if (p == pattern::latency && t != topology::pairs) continue;
          const std::vector<std::size_t> sizes =
              e.traits.sizes.empty()
                  ? topology_sizes_for(o, t, p, e.traits.atomic_write_max.has_value())
                  : e.traits.sizes;
          for (std::size_t size : sizes) {
            auto run = [&e, t, n](const run_request& req) { return e.run_group(req, t, n); };
            add(e.traits, p, size, o.place, run, t, n);
          }
        }
      }
  }
  return cases;
}

// How many names Google Benchmark's filter will select (it matches with POSIX extended regex
// search; a leading '-' negates).
std::size_t count_matching(const std::vector<bench_case>& cases, std::string filter) {
  bool negate = false;
  if (!filter.empty() && filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  if (filter.empty() || filter == "all") filter = ".";
  std::regex re;
  try {
    re = std::regex(filter, std::regex::extended);
  } catch (const std::regex_error& e) {
    throw usage_error("--benchmark_filter '" + filter + "' is not a valid regular expression");
  }
  std::size_t n = 0;
  for (const auto& c : cases) n += std::regex_search(c.name + kGoogleSuffix, re) != negate;
  return n;
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
