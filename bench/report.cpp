#include "report.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <sstream>

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

const schema::repetition_fields* report_extras::repetition(const std::string& name,
                                                           std::int64_t index) const {
  const auto it = runs_.find({name, index});
  return it == runs_.end() ? nullptr : &it->second;
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

std::string report_extras::repetition_blocked(const std::string& name) const {
  const schema::repetition_fields* first = repetition(name, 0);
  if (first == nullptr || first->state != schema::status::failed) return {};
  return "repetition 1 failed (" + first->reason + "); the other repetitions were not run";
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

report_builder::report_builder(const report_extras& extras)
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
    if (run.run_type == Run::RT_Aggregate)
      entry.update(schema::aggregate_fields());
    else if (const auto* rep = extras_.repetition(name, run.repetition_index))
      entry.update(json(*rep));
    document_["benchmarks"].push_back(std::move(entry));
  }
}

bool tee_reporter::ReportContext(const Context& context) {
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

void progress_line::start(std::size_t total) {
  total_ = total;
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
    left = clock_text(elapsed / static_cast<std::int64_t>(done_ - 1) *
                      static_cast<std::int64_t>(total_ - done_ + 1));
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
  std::cerr << "ran " << done_ << " benchmark repetition(s) in " << clock_text(now_ns() - t0_)
            << "\n";
  active_ = false;
}

}  // namespace ipcbench
