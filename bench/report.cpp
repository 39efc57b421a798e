#include "report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "bench/estimate.hpp"
#include "sys/system.hpp"

namespace ipcbench {

int report_extras::add_repetition(const std::string& name, schema::repetition_fields fields) {
  const int rep = next_rep_[name]++;
  runs_[{name, rep}] = std::move(fields);
  return rep;
}

const schema::benchmark_fields* report_extras::fields(const std::string& name) const {
  const auto it = static_.find(name);
  return it == static_.end() ? nullptr : &it->second;
}

std::optional<schema::repetition_fields> report_extras::take_repetition(const std::string& name,
                                                                        std::int64_t index) {
  const auto it = runs_.find({name, index});
  if (it == runs_.end()) return std::nullopt;
  std::optional<schema::repetition_fields> out(std::move(it->second));
  runs_.erase(it);
  return out;
}

std::string report_name(std::string gb_name) {
  const auto at = gb_name.find(kGoogleSuffix);
  if (at != std::string::npos) gb_name.erase(at, std::string_view(kGoogleSuffix).size());
  return gb_name;
}

void skip_run(benchmark::State& state, const std::string& message) {
  for (auto _ : state) {
    state.SkipWithError(message.c_str());
    break;
  }
}

namespace {

using nlohmann::json;
using Run = benchmark::BenchmarkReporter::Run;

// A number as JSON has it: NaN and infinities have no JSON form, and become null.
json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

// The local time in RFC 3339, yyyy-mm-ddTHH:MM:SS+HH:MM, as Google Benchmark writes `date`; UTC
// with the offset -00:00 where the local offset is unknown (RFC 3339, section 4.3).
std::string local_date_time() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  char stamp[32];
  char zone[16];
  ::localtime_r(&now, &tm);
  if (std::strftime(zone, sizeof zone, "%z", &tm) == 5) {  // +HHMM
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(stamp) + std::string(zone, 3) + ":" + std::string(zone + 3, 2);
  }
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(stamp) + "-00:00";
}

// Whether the Google Benchmark library (not this program) was built without NDEBUG. The library
// has no call that says; its basic context, printed by its own code, warns when it was.
bool library_is_debug(const benchmark::BenchmarkReporter::Context& context) {
  std::ostringstream text;
  benchmark::BenchmarkReporter::PrintBasicContext(&text, context);
  return text.str().find("Library was built as DEBUG") != std::string::npos;
}

// MemoryManager::TombstoneValue, which the shared library does not export: the value of a memory
// metric that was not measured.
constexpr std::int64_t kNotMeasured = std::numeric_limits<std::int64_t>::max();

const char* big_o_text(benchmark::BigO complexity) {
  switch (complexity) {
    case benchmark::oN:
      return "N";
    case benchmark::oNSquared:
      return "N^2";
    case benchmark::oNCubed:
      return "N^3";
    case benchmark::oLogN:
      return "lgN";
    case benchmark::oNLogN:
      return "NlgN";
    case benchmark::o1:
      return "(1)";
    default:
      return "f(N)";
  }
}

}  // namespace

json gbench_context_json(const benchmark::BenchmarkReporter::Context& context) {
  const benchmark::CPUInfo& cpu = context.cpu_info;
  json c;
  c["date"] = local_date_time();
  c["host_name"] = context.sys_info.name;
  if (benchmark::BenchmarkReporter::Context::executable_name != nullptr)
    c["executable"] = benchmark::BenchmarkReporter::Context::executable_name;
  c["num_cpus"] = cpu.num_cpus;
  c["mhz_per_cpu"] = std::lround(cpu.cycles_per_second / 1e6);
  if (cpu.scaling != benchmark::CPUInfo::UNKNOWN)
    c["cpu_scaling_enabled"] = cpu.scaling == benchmark::CPUInfo::ENABLED;
  c["caches"] = json::array();
  for (const auto& cache : cpu.caches)
    c["caches"].push_back({{"type", cache.type},
                           {"level", cache.level},
                           {"size", cache.size},
                           {"num_sharing", cache.num_sharing}});
  c["load_avg"] = json::array();
  for (double load : cpu.load_avg) c["load_avg"].push_back(number(load));
  c["library_build_type"] = library_is_debug(context) ? "debug" : "release";
  if (const auto* global = benchmark::internal::GetGlobalContext(); global != nullptr)
    for (const auto& [key, value] : *global) c[key] = value;
  return c;
}

json gbench_run_json(const Run& run) {
  const bool aggregate = run.run_type == Run::RT_Aggregate;
  json j;
  j["name"] = run.benchmark_name();
  j["family_index"] = run.family_index;
  j["per_family_instance_index"] = run.per_family_instance_index;
  j["run_name"] = run.run_name.str();
  j["run_type"] = aggregate ? "aggregate" : "iteration";
  j["repetitions"] = run.repetitions;
  if (!aggregate) j["repetition_index"] = run.repetition_index;
  j["threads"] = run.threads;
  if (aggregate) {
    j["aggregate_name"] = run.aggregate_name;
    j["aggregate_unit"] = run.aggregate_unit == benchmark::kPercentage ? "percentage" : "time";
  }
  if (run.error_occurred) {
    j["error_occurred"] = true;
    j["error_message"] = run.error_message;
  }
  if (!run.report_big_o && !run.report_rms) {
    j["iterations"] = run.iterations;
    // A percentage aggregate (the coefficient of variation) is a ratio, not a time per iteration.
    const bool ratio = aggregate && run.aggregate_unit == benchmark::kPercentage;
    j["real_time"] = number(ratio ? run.real_accumulated_time : run.GetAdjustedRealTime());
    j["cpu_time"] = number(ratio ? run.cpu_accumulated_time : run.GetAdjustedCPUTime());
    j["time_unit"] = benchmark::GetTimeUnitString(run.time_unit);
  } else if (run.report_big_o) {
    j["cpu_coefficient"] = number(run.GetAdjustedCPUTime());
    j["real_coefficient"] = number(run.GetAdjustedRealTime());
    j["big_o"] = big_o_text(run.complexity);
    j["time_unit"] = benchmark::GetTimeUnitString(run.time_unit);
  } else {
    j["rms"] = number(run.GetAdjustedCPUTime());
  }
  for (const auto& [name, value] : run.counters) j[name] = number(value.value);
  if (run.memory_result != nullptr) {
    const auto& memory = *run.memory_result;
    j["allocs_per_iter"] = number(run.allocs_per_iter);
    j["max_bytes_used"] = memory.max_bytes_used;
    if (memory.total_allocated_bytes != kNotMeasured)
      j["total_allocated_bytes"] = memory.total_allocated_bytes;
    if (memory.net_heap_growth != kNotMeasured) j["net_heap_growth"] = memory.net_heap_growth;
  }
  if (!run.report_label.empty()) j["label"] = run.report_label;
  return j;
}

report_builder::report_builder(report_extras& extras)
    : extras_(extras), document_({{"context", json::object()}, {"benchmarks", json::array()}}) {}

bool report_builder::ReportContext(const Context& context) {
  document_["context"] = gbench_context_json(context);
  return true;
}

void report_builder::ReportRuns(const std::vector<Run>& report) {
  for (const Run& run : report) {
    json entry = gbench_run_json(run);
    const std::string name = report_name(run.run_name.str());
    entry["name"] = report_name(entry["name"].get<std::string>());
    entry["run_name"] = name;
    if (const auto* fields = extras_.fields(name)) entry.update(json(*fields));
    if (run.run_type == Run::RT_Aggregate) {
      entry.update(schema::aggregate_fields());
    } else {
      // Each round reports one repetition of a benchmark: its index is the count so far.
      const int index = seen_[name]++;
      for (const auto& [counter, value] : run.counters) counters_[name].insert(counter);
      entry["repetition_index"] = index;
      if (const auto rep = extras_.take_repetition(name, index)) entry.update(json(*rep));
    }
    packed_.push_back(json::to_msgpack(entry));
  }
}

const json& report_builder::document() {
  json& benchmarks = document_["benchmarks"];
  for (auto& bytes : packed_) {
    benchmarks.push_back(json::from_msgpack(bytes));
    std::vector<std::uint8_t>().swap(bytes);
  }
  packed_.clear();
  return document_;
}

namespace {

// Google Benchmark's aggregate rows (mean, median, stddev, cv) of one benchmark's repetitions
// that ran, over the times and every counter they all carry, as its JSON reporter writes them
// when it runs the repetitions itself.
void add_aggregates(json& out, const std::vector<const json*>& reps,
                    const std::set<std::string>& counters, const json& fields) {
  if (reps.size() < 2) return;
  std::vector<std::string> keys = {"real_time", "cpu_time"};
  keys.insert(keys.end(), counters.begin(), counters.end());
  std::erase_if(keys, [&](const std::string& k) {
    return std::any_of(reps.begin(), reps.end(),
                       [&](const json* r) { return !r->contains(k) || !(*r)[k].is_number(); });
  });
  const json& first = *reps.front();
  for (const char* stat : {"mean", "median", "stddev", "cv"}) {
    json row = {{"name", first["run_name"].get<std::string>() + "_" + stat},
                {"family_index", first["family_index"]},
                {"per_family_instance_index", first["per_family_instance_index"]},
                {"run_name", first["run_name"]},
                {"run_type", "aggregate"},
                {"repetitions", reps.size()},
                {"threads", first["threads"]},
                {"aggregate_name", stat},
                {"aggregate_unit", std::string(stat) == "cv" ? "percentage" : "time"},
                {"iterations", reps.size()},
                {"time_unit", first["time_unit"]}};
    for (const auto& k : keys) {
      std::vector<double> v;
      for (const json* r : reps) v.push_back((*r)[k].get<double>());
      const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      const double sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
      const double med = estimate::median(v);
      const std::string st = stat;
      row[k] = number(st == "mean" ? mean : st == "median" ? med : st == "stddev" ? sd : sd / mean);
    }
    row.update(fields);
    row.update(schema::aggregate_fields());
    out.push_back(std::move(row));
  }
}

}  // namespace

void report_builder::finish() {
  document();  // every entry unpacked
  json& benchmarks = document_["benchmarks"];
  std::map<std::string, std::vector<const json*>> ran;
  std::vector<std::string> order;
  for (auto& entry : benchmarks) {
    const std::string name = entry["run_name"].get<std::string>();
    entry["repetitions"] = seen_[name];
    if (!ran.contains(name)) order.push_back(name);
    auto& reps = ran[name];
    if (!entry.value("error_occurred", false)) reps.push_back(&entry);
  }
  json aggregates = json::array();
  for (const auto& name : order) {
    const auto* fields = extras_.fields(name);
    add_aggregates(aggregates, ran[name], counters_[name], fields ? json(*fields) : json::object());
  }
  for (auto& row : aggregates) benchmarks.push_back(std::move(row));
}

namespace {

double ratio_or_null(double value, std::optional<double> floor) {
  return floor && *floor > 0 ? value / *floor : std::numeric_limits<double>::quiet_NaN();
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

json null_if_nan(double v) {
  return std::isnan(v) ? json() : json(v);
}

// The report's `group` object of a topology benchmark (results/README.md).
// `means`: each round-trip sample is the mean of several (run_result::rtt_batch > 1).
json group_json(const group_outcome& g, pattern p, bool means) {
  json members = json::array();
  for (const auto& m : g.members) {
    json j = {{"role", to_string(m.r)},
              {"index", m.index},
              {"cpu", m.cpu < 0 ? json() : json(m.cpu)},
              {"messages", m.messages},
              {"elapsed_ns", m.elapsed_ns},
              {"cpu_ns", m.cpu_ns}};
    if (m.elapsed_ns > 0 && m.messages != 0)
      j["messages_per_second"] =
          static_cast<double>(m.messages) * 1e9 / static_cast<double>(m.elapsed_ns);
    if (p == pattern::latency && m.r == role::producer && m.rtt.count() != 0) {
      j["rtt_p50_ns"] = m.rtt.percentile(50);
      j["rtt_p99_ns"] = null_if_nan(supported_percentile(m.rtt, 99, means));
      j["rtt_samples"] = m.rtt.count();
    }
    if (m.torn) j["torn_records"] = *m.torn;
    if (g.topo != topology::pairs) {
      // One-way delay of sampled timed records (harness/delay.hpp); p99 only with 1,000 samples.
      j["delay_samples"] = m.delay.count();
      j["delay_p50_ns"] = m.delay.count() != 0 ? json(m.delay.percentile(50)) : json();
      j["delay_p99_ns"] = null_if_nan(supported_percentile(m.delay, 99));
    }
    members.push_back(std::move(j));
  }
  json j = {{"topology", to_string(g.topo)},      {"n", g.n},
            {"peers", g.members.size()},          {"allowed_cpus", g.allowed_cpus},
            {"oversubscribed", g.oversubscribed}, {"placement_reason", g.placement_reason},
            {"members", std::move(members)}};
  if (g.fairness)
    j["fairness"] = {{"min_over_max", g.fairness->min_over_max}, {"cv", g.fairness->cv}};
  if (g.torn_records) j["torn_records"] = *g.torn_records;
  if (g.paced) {
    json pj = {{"rate_per_producer", g.paced->rate_per_producer},
               {"delay_samples", g.paced->delay.count()}};
    if (!g.paced->failure.empty()) pj["reason"] = g.paced->failure;
    if (g.paced->delay.count() != 0) {
      pj["delay_p50_ns"] = g.paced->delay.percentile(50);
      pj["delay_p99_ns"] = null_if_nan(supported_percentile(g.paced->delay, 99));
    }
    j["paced_delay"] = std::move(pj);
  }
  return j;
}

json cpu_states_json(const cpu_window& w) {
  json cpus = json::object();
  for (const auto& [cpu, t] : w.cpus)
    cpus[std::to_string(cpu)] = {{"user_ns", t.user_ns},       {"nice_ns", t.nice_ns},
                                 {"system_ns", t.system_ns},   {"idle_ns", t.idle_ns},
                                 {"iowait_ns", t.iowait_ns},   {"irq_ns", t.irq_ns},
                                 {"softirq_ns", t.softirq_ns}, {"steal_ns", t.steal_ns}};
  return {{"window_ns", w.window_ns},
          {"resolution_ns", 1'000'000'000LL / std::max(1L, ::sysconf(_SC_CLK_TCK))},
          {"cpus", std::move(cpus)}};
}

// A round trip's counters: its percentiles (null where too few back them, or where a sample is
// the mean of rtt_batch round trips, which hides their tail: a 10 us preemption in a batch of 14
// shows as +0.7 us), its ratios to the floors, and the consumer's turnaround.
void add_latency(repetition_report& out, const run_result& r, std::optional<double> line_floor,
                 std::optional<double> wake_floor) {
  namespace counter = schema::counter;
  auto& n = out.counters;
  const bool means = r.rtt_batch > 1;
  const double p50 = static_cast<double>(r.rtt.percentile(50));
  n[counter::kRttP50Ns] = p50;
  n[counter::kRttP90Ns] = supported_percentile(r.rtt, 90, means);
  n[counter::kRttP99Ns] = supported_percentile(r.rtt, 99, means);
  n[counter::kRttP999Ns] = supported_percentile(r.rtt, 99.9, means);
  n[counter::kRttMaxNs] =
      means ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(r.rtt.max());
  out.fields.rtt_clock = to_string(r.clock);
  if (means)
    out.fields.rtt_tails = "each sample is the mean of " + std::to_string(r.rtt_batch) +
                           " back-to-back round trips (no invariant time-stamp counter to time "
                           "them one by one): percentiles above p50 and the max are not measured";
  n[counter::kRttMeanNs] = r.rtt.mean();
  n[counter::kOneWayP50Ns] = p50 / 2;
  n[counter::kRttBatch] = static_cast<double>(r.rtt_batch);
  n[counter::kRttSamples] = static_cast<double>(r.rtt.count());
  n[counter::kRttP50PerLineFloor] = ratio_or_null(p50, line_floor);
  n[counter::kRttP50PerWakeFloor] = ratio_or_null(p50, wake_floor);
  n[counter::kTurnaroundP50Ns] = r.turnaround.count() != 0
                                     ? static_cast<double>(r.turnaround.percentile(50))
                                     : std::numeric_limits<double>::quiet_NaN();
  out.fields.latency_percentiles_ns = percentiles_of(r.rtt, means);
  if (r.turnaround.count() != 0)
    out.fields.turnaround_percentiles_ns = percentiles_of(r.turnaround);
}

// A group's counters: how fairly the channel served its members, and the one-way delays of the
// lone member (fan-in's consumer, fan-out's producer), whose histogram holds every path's
// samples.
void add_group(repetition_report& out, const group_outcome& g) {
  namespace counter = schema::counter;
  auto& n = out.counters;
  if (g.fairness) {
    n[counter::kFairnessMinOverMax] = g.fairness->min_over_max;
    n[counter::kFairnessCv] = g.fairness->cv;
  }
  if (g.torn_records) n[counter::kTornRecords] = static_cast<double>(*g.torn_records);
  const role lone = g.topo == topology::fan_in ? role::consumer : role::producer;
  for (const auto& m : g.members)
    if (g.topo != topology::pairs && m.r == lone && m.delay.count() != 0) {
      n[counter::kDelayP50Ns] = static_cast<double>(m.delay.percentile(50));
      if (const double p99 = supported_percentile(m.delay, 99); !std::isnan(p99))
        n[counter::kDelayP99Ns] = p99;
    }
  if (g.paced && g.paced->delay.count() != 0) {
    const histogram& d = g.paced->delay;
    n[counter::kPacedDelayP50Ns] = static_cast<double>(d.percentile(50));
    if (const double p99 = supported_percentile(d, 99); !std::isnan(p99))
      n[counter::kPacedDelayP99Ns] = p99;
  }
}

}  // namespace

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

bool only_loss(const bench_case& c, const run_result& r) {
  const std::uint64_t counted = r.lost + r.duplicated + r.reordered;
  return c.traits.lossy && r.integrity_errors == counted && counted != 0;
}

std::optional<std::string> library_placement(const run_result& r) {
  if (!r.producer_library || !r.consumer_library) return std::nullopt;
  return std::string(placement_of(*r.producer_library)) + "/" + placement_of(*r.consumer_library);
}

repetition_report assemble_repetition(const bench_case& c, const run_result& r,
                                      const calibration& floors, const adjacent_floors& adjacent) {
  namespace counter = schema::counter;
  repetition_report out;
  schema::repetition_fields& f = out.fields;
  f.state = report_status(r.status);
  f.reason = r.reason;
  if (r.group) f.group = group_json(*r.group, c.req.pat, r.rtt_batch > 1);
  // Lossy mechanisms: the loss counts, when the peers got as far as reporting them.
  if (c.traits.lossy && (r.status == run_status::ok || r.lost + r.duplicated + r.reordered != 0)) {
    f.loss = schema::loss_counts{r.lost, r.duplicated, r.reordered, r.stale, std::nullopt};
    if (r.goodput) f.loss->delivered = r.delivered;
  }
  if (r.status != run_status::ok) return out;

  const bool latency = c.req.pat == pattern::latency;
  out.seconds_per_iteration =
      latency ? r.rtt.mean() / 1e9
              : static_cast<double>(r.elapsed_ns) / 1e9 / static_cast<double>(r.messages);
  auto& n = out.counters;
  n[counter::kMessages] = static_cast<double>(r.messages);
  n[counter::kCpuNsPerMessage] = r.cpu_ns_per_message();
  if (!r.sub_values.empty()) f.sub_batches = r.sub_values;
  if (c.traits.verification == "separate")
    if (const auto check = floors.check_ns(c.req.message_size))
      n[counter::kSeparateCheckNsPerMessage] = *check;
  if (r.helper_cpu_ns)
    n[counter::kHelperCpuNsPerMessage] =
        static_cast<double>(*r.helper_cpu_ns) / static_cast<double>(r.messages);
  if (latency) {
    add_latency(out, r,
                adjacent.line_rtt_p50_ns ? adjacent.line_rtt_p50_ns : floors.line_rtt_p50_ns(),
                adjacent.wake_rtt_p50_ns ? adjacent.wake_rtt_p50_ns : floors.wake_rtt_p50_ns());
  } else {
    const double bps = r.bytes_per_second(c.req.message_size);
    n[counter::kBytesPerSecond] = bps;
    n[counter::kMessagesPerSecond] = r.messages_per_second();
    n[counter::kBytesPerSecondPerCopyFloor] = ratio_or_null(
        bps, !floors_apply(c)                 ? std::nullopt
             : adjacent.copy_bytes_per_second ? adjacent.copy_bytes_per_second
                                              : floors.copy_bytes_per_second(c.req.message_size));
    if (r.goodput) n[counter::kLossRate] = r.loss_rate();
    if (c.traits.paced) {
      n[counter::kTargetMessagesPerSecond] = r.target_rate;
      n[counter::kRateTrials] = static_cast<double>(r.rate_trials);
    }
  }
  if (r.group) add_group(out, *r.group);
  f.integrity_errors = r.integrity_errors;
  // A group's CPUs are in `group`, member by member.
  if (!r.group) f.cpus = std::array<int, 2>{r.producer_cpu_id, r.consumer_cpu_id};
  f.cpu = schema::peer_cpu_times{r.producer_cpu.user_ns,  r.producer_cpu.sys_ns,
                                 r.consumer_cpu.user_ns,  r.consumer_cpu.sys_ns,
                                 r.producer_cpu.total_ns, r.consumer_cpu.total_ns,
                                 r.producer_waited_ns,    r.consumer_waited_ns};
  if (r.cpu_states) f.cpu_states = cpu_states_json(*r.cpu_states);
  if (const auto where = library_placement(r)) {
    const auto peer = [](const library_time& t) {
      return json{{"own_cpu_ns", t.own_cpu_ns}, {"other_cpu_ns", t.other_cpu_ns},
                  {"moved_ns", t.moved_ns},     {"threads", t.threads},
                  {"window_ns", t.window_ns},   {"placement", placement_of(t)}};
    };
    f.library_threads = json{{"producer", peer(*r.producer_library)},
                             {"consumer", peer(*r.consumer_library)},
                             {"placement", *where}};
  }
  if (json j = adjacent_floors_json(adjacent); !j.empty()) f.floors = std::move(j);
  return out;
}

bool tee_reporter::ReportContext(const Context& context) {
  // Each round of the run is a RunSpecifiedBenchmarks call: the context is said once.
  if (context_said_) return true;
  context_said_ = true;
  file_.ReportContext(context);
  return display_.ReportContext(context);
}

void tee_reporter::ReportRuns(const std::vector<Run>& report) {
  file_.ReportRuns(report);
  display_.ReportRuns(report);
}

void tee_reporter::Finalize() {
  file_.Finalize();
  display_.Finalize();
}

void quiet_reporter::ReportRuns(const std::vector<Run>& report) {
  for (const auto& r : report)
    if (r.error_occurred && r.error_message.starts_with(schema::to_string(schema::status::failed)))
      std::cerr << "\n" << r.benchmark_name() << ": " << r.error_message << "\n";
}

namespace {
std::string clock_text(std::int64_t ns) {
  const std::int64_t s = ns / 1'000'000'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                static_cast<long long>(s % 60));
  return buf;
}
}  // namespace

void progress_line::start(std::size_t total, double budget_s) {
  total_ = total;
  budget_ns_ = static_cast<std::int64_t>(budget_s * 1e9);
  done_ = 0;
  t0_ = now_ns();
  last_print_ = 0;
  tty_ = ::isatty(STDERR_FILENO) != 0;
  active_ = true;
}

void progress_line::step(const std::string& name) {
  if (!active_) return;
  ++done_;
  const std::int64_t now = now_ns();
  if (!tty_ && now - last_print_ < 10'000'000'000 && done_ != 1) return;
  last_print_ = now;
  const std::int64_t elapsed = now - t0_;
  std::string left = "?";
  if (done_ > 1 && total_ >= done_)
    left = clock_text(std::max(elapsed / static_cast<std::int64_t>(done_ - 1) *
                                   static_cast<std::int64_t>(total_ - done_ + 1),
                               budget_ns_ - elapsed));
  char head[48];
  std::snprintf(head, sizeof head, "[%4zu/%zu] ", done_, total_);
  std::string line = head + name + "  " + clock_text(elapsed) + " elapsed, ~" + left + " left";
  if (tty_)
    std::cerr << "\r\033[K" << line << std::flush;
  else
    std::cerr << line << "\n";
}

void progress_line::finish() {
  if (!active_) return;
  if (tty_) std::cerr << "\r\033[K";
  std::cerr << "ran " << done_ << " benchmark repetition" << (done_ == 1 ? "" : "s") << " in "
            << clock_text(now_ns() - t0_) << "\n";
  active_ = false;
}

}  // namespace ipcbench
