#include "compare/report.hpp"
#include "compare/stats.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#include "sys/retry.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::compare {

std::optional<std::uint64_t> tail_minimum(std::string_view metric) {
  if (metric == schema::counter::kRttP90Ns) return schema::min_samples_for_percentile(90);
  if (metric == schema::counter::kRttP99Ns) return schema::min_samples_for_percentile(99);
  if (metric == schema::counter::kRttP999Ns) return schema::min_samples_for_percentile(99.9);
  return std::nullopt;
}

std::optional<normalisation> parse_normalisation(std::string_view word) {
  if (word == "wake") return normalisation::wake;
  if (word == "line") return normalisation::line;
  return std::nullopt;
}

std::string_view to_string(normalisation n) {
  switch (n) {
    case normalisation::wake:
      return "wake";
    case normalisation::line:
      return "line";
    case normalisation::none:
      break;
  }
  return "none";
}

std::string_view floor_key(normalisation n) {
  switch (n) {
    case normalisation::wake:
      return "wakeup_rtt_p50_ns";
    case normalisation::line:
      return "cache_line_rtt_p50_ns";
    case normalisation::none:
      break;
  }
  return "";
}

bool latency_metric(std::string_view metric) {
  return metric.starts_with("rtt_") || metric.starts_with("one_way_");
}
namespace {

using nlohmann::json;

[[noreturn]] void not_a_report(const std::string& path, const std::string& why) {
  throw input_error("'" + path + "' is not a benchmark report: " + why);
}

// Messages end up on one stderr line.
std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

// Everything `fd` has until end of file; the error number of a failed read, 0 on success.
int read_all(int fd, std::string& data) {
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = retry_on_eintr([&] { return ::read(fd, buf.data(), buf.size()); });
    if (n < 0) return errno;
    if (n == 0) return 0;
    data.append(buf.data(), static_cast<std::size_t>(n));
  }
}

std::string read_file(const std::string& path) {
  auto fail = [&](int err) -> void {
    throw input_error("cannot read '" + path + "': " + std::strerror(err));
  };
  const unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(errno);
  std::string data;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(errno);
  if (S_ISDIR(st.st_mode)) fail(EISDIR);
  if (const int err = read_all(fd.get(), data); err != 0) fail(err);
  return data;
}

// The program that compressed `text`, by its magic bytes, or nullptr.
const char* compressed_by(std::string_view text) {
  if (text.starts_with("\xFD\x37\x7A\x58\x5A")) return "xz";  // FD '7zXZ'
  if (text.starts_with("\x1F\x8B")) return "gzip";
  return nullptr;
}

// The output of `tool -dc -- path`. Its standard error goes to an anonymous file, read back only
// when it fails: a pipe for it would need both pipes polled at once.
std::string decompress(const std::string& path, const char* tool) {
  const std::string what = "'" + path + "' is " + tool + "-compressed and ";
  fd_pair out = make_pipe();
  const unique_fd err(::memfd_create("ipcbench-compare-stderr", MFD_CLOEXEC));
  if (!err) throw std::system_error(errno, std::system_category(), "memfd_create");
  posix_spawn_file_actions_t actions;
  if (const int rc = ::posix_spawn_file_actions_init(&actions); rc != 0)
    throw std::system_error(rc, std::system_category(), "posix_spawn_file_actions_init");
  int rc = ::posix_spawn_file_actions_adddup2(&actions, out.write_end.get(), STDOUT_FILENO);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions, err.get(), STDERR_FILENO);
  pid_t pid = -1;
  if (rc == 0) {
    // posix_spawnp's argv is char* const[]; the strings are not written to.
    char* const argv[] = {const_cast<char*>(tool), const_cast<char*>("-dc"),
                          const_cast<char*>("--"), const_cast<char*>(path.c_str()), nullptr};
    rc = ::posix_spawnp(&pid, tool, &actions, nullptr, argv, environ);
  }
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT)
    throw input_error(what + "there is no " + tool + " program to decompress it (install " + tool +
                      ", or decompress the report first)");
  if (rc != 0) throw std::system_error(rc, std::system_category(), std::string("spawn ") + tool);
  out.write_end.reset();  // so that the read below ends when the tool exits
  std::string data;
  const int read_error = read_all(out.read_end.get(), data);
  int status = 0;
  if (retry_on_eintr([&] { return ::waitpid(pid, &status, 0); }) < 0)
    throw std::system_error(errno, std::system_category(), "waitpid");
  if (read_error != 0)
    throw input_error("cannot read '" + path + "': " + std::strerror(read_error));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return data;
  std::string message;
  if (::lseek(err.get(), 0, SEEK_SET) == 0) (void)read_all(err.get(), message);
  message.erase(std::min(message.find_first_of("\r\n"), message.size()));
  if (message.empty())
    message = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : "killed by signal " + std::to_string(WTERMSIG(status));
  throw input_error(what + tool + " -dc could not read it: " + message);
}

bool true_field(const json& entry, const char* key) {
  const auto it = entry.find(key);
  return it != entry.end() && it->is_boolean() && it->get<bool>();
}

std::optional<std::string> string_field(const json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The floor beside this repetition that `n` divides by, when the entry has a positive one.
std::optional<double> floor_of(const json& entry, normalisation n) {
  const auto floors = entry.find(schema::field::kFloors);
  if (floors == entry.end() || !floors->is_object()) return std::nullopt;
  const auto value = floors->find(floor_key(n));
  if (value == floors->end() || !value->is_number()) return std::nullopt;
  const double v = value->get<double>();
  return v > 0 && std::isfinite(v) ? std::optional(v) : std::nullopt;
}

void split_id(benchmark_info& info) {
  if (!info.id) return;
  if (!info.mechanism) info.mechanism = schema::mechanism_of(*info.id);
  if (!info.variant) info.variant = schema::variant_of(*info.id);
}

double time_unit_factor(const json& entry, const std::string& path, std::size_t index) {
  const auto unit = string_field(entry, "time_unit");
  if (!unit || *unit == "ns") return 1.0;
  if (*unit == "us") return 1e3;
  if (*unit == "ms") return 1e6;
  if (*unit == "s") return 1e9;
  not_a_report(path,
               "benchmarks[" + std::to_string(index) + "] has unknown time_unit '" + *unit + "'");
}

// An object's `interval`, [lo, hi] of two numbers; nullopt when it has none (null, or another
// shape).
std::optional<std::pair<double, double>> interval_field(const json& o) {
  const auto in = o.find("interval");
  if (in == o.end() || !in->is_array() || in->size() != 2 || !(*in)[0].is_number() ||
      !(*in)[1].is_number())
    return std::nullopt;
  return std::pair((*in)[0].get<double>(), (*in)[1].get<double>());
}

stated_estimate parse_estimate(const json& e, const std::string& path, const std::string& name) {
  const std::string where = "estimates['" + name + "']";
  if (!e.is_object()) not_a_report(path, where + " is not an object");
  stated_estimate s;
  s.metric = string_field(e, "metric").value_or("");
  if (const auto value = e.find("value"); value != e.end() && !value->is_null()) {
    if (!value->is_number()) not_a_report(path, where + ".value is not a number");
    s.value = value->get<double>();
  }
  s.interval = interval_field(e);
  const auto modes = e.find("modes");
  s.multimodal = modes != e.end() && modes->is_array() && !modes->empty();
  s.part_modes =
      s.multimodal && modes->front().is_object() && modes->front().contains("sub_batches");
  const auto cause = e.find("spread_cause");
  s.spread_cause = cause != e.end() && cause->is_string() && !cause->get<std::string>().empty();
  const auto outlier = e.find("spread_outlier");
  s.spread_outlier = outlier != e.end() && outlier->is_object();
  if (const auto spread = e.find("spread"); spread != e.end() && spread->is_number())
    s.spread = spread->get<double>();
  if (const auto paced = e.find("spread_at_run_pace"); paced != e.end() && paced->is_number())
    s.spread_at_run_pace = paced->get<double>();
  if (const auto disturbed = e.find("disturbed");
      disturbed != e.end() && disturbed->is_number_unsigned())
    s.disturbed = disturbed->get<std::size_t>();
  if (const auto stolen = e.find("stolen"); stolen != e.end() && stolen->is_number_unsigned())
    s.stolen = stolen->get<std::size_t>();
  if (const auto p = e.find("preempted"); p != e.end() && p->is_number_unsigned())
    s.preempted = p->get<std::size_t>();
  if (const auto moved = e.find("moved"); moved != e.end() && moved->is_number_unsigned())
    s.moved = moved->get<std::size_t>();
  if (const auto by_regime = e.find("by_regime"); by_regime != e.end() && by_regime->is_array()) {
    s.regimes = by_regime->size();
    for (const json& r : *by_regime) {
      const auto regime = r.find("regime"), reps = r.find("repetitions"), value = r.find("value");
      if (!r.is_object() || regime == r.end() || !regime->is_number_unsigned() || reps == r.end() ||
          !reps->is_number_unsigned())
        not_a_report(path, where + ".by_regime has an entry without regime and repetitions");
      if (value == r.end() || !value->is_number()) continue;
      s.by_regime.push_back({regime->get<std::size_t>(), reps->get<std::size_t>(),
                             value->get<double>(), interval_field(r)});
    }
  }
  if (const auto adj = e.find("adjusted"); adj != e.end() && adj->is_object()) {
    const auto floor = adj->find("floor"), slope = adj->find("slope"), to = adj->find("to_ns");
    if (floor == adj->end() || !floor->is_string() || slope == adj->end() || !slope->is_number() ||
        to == adj->end() || !to->is_number() || !(to->get<double>() > 0) ||
        !(slope->get<double>() >= 0))
      not_a_report(path, where + ".adjusted lacks its floor, a slope >= 0 or a to_ns > 0");
    s.adjusted = stated_estimate::adjustment{floor->get<std::string>(), slope->get<double>(),
                                             to->get<double>()};
  }
  return s;
}

struct entry_status {
  run_status status = run_status::ok;
  std::string reason;
};

entry_status status_of(const json& entry) {
  entry_status s;
  const auto message = [&]() -> std::string {
    for (const char* key : {schema::field::kReason, "error_message", "skip_message"}) {
      if (auto text = string_field(entry, key); text && !text->empty()) return *text;
    }
    return {};
  };
  if (const auto status = string_field(entry, schema::field::kStatus)) {
    // A status this version does not know is a failure: it is not ok.
    s.status = schema::parse_status(*status).value_or(run_status::failed);
    if (s.status != run_status::ok) s.reason = message();
    return s;
  }
  if (true_field(entry, "error_occurred")) {
    s.reason = message();
    s.status = schema::status_of_error_message(s.reason);
    return s;
  }
  if (true_field(entry, "skipped")) {  // Google Benchmark >= 1.8, SkipWithMessage
    s.status = run_status::skipped;
    s.reason = message();
  }
  return s;
}

benchmark_info info_from_entry(const json& entry, const std::string& name) {
  benchmark_info info;
  info.id = string_field(entry, schema::field::kId);
  info.mechanism = string_field(entry, schema::field::kMechanism);
  info.variant = string_field(entry, schema::field::kVariant);
  info.family = string_field(entry, schema::field::kFamily);
  info.pattern = string_field(entry, schema::field::kPattern);
  info.placement = string_field(entry, schema::field::kPlacement);
  if (const auto it = entry.find(schema::field::kMessageSize);
      it != entry.end() && it->is_number_unsigned()) {
    info.message_size = it->get<std::uint64_t>();
  }
  // Fill what the entry lacks from the name, when the name has our shape.
  if (const auto parsed = parse_name(name)) {
    if (!info.id) info.id = parsed->id;
    if (!info.pattern) info.pattern = parsed->pattern;
    if (!info.message_size) info.message_size = parsed->message_size;
    if (!info.placement) info.placement = parsed->placement;
    if (!info.topology) info.topology = parsed->topology;
    if (!info.fan) info.fan = parsed->fan;
  }
  split_id(info);
  return info;
}

}  // namespace

std::optional<benchmark_info> parse_name(std::string_view name) {
  const auto parsed = schema::parse_name(name);
  if (!parsed) return std::nullopt;
  benchmark_info info;
  info.id = parsed->id;
  info.pattern = parsed->pattern;
  info.message_size = parsed->message_size;
  info.placement = parsed->placement;
  if (!parsed->topology.empty()) {
    info.topology = parsed->topology;
    info.fan = parsed->fan;
  }
  split_id(info);
  return info;
}

report::report(std::string path, nlohmann::json context, std::vector<benchmark_samples> benchmarks,
               report_origin origin, std::vector<claim_row> claims)
    : path_(std::move(path)),
      origin_(origin),
      context_(std::move(context)),
      benchmarks_(std::move(benchmarks)),
      claims_(std::move(claims)) {
  for (std::size_t i = 0; i < benchmarks_.size(); ++i) index_.emplace(benchmarks_[i].name, i);
}

const benchmark_samples* report::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &benchmarks_[it->second];
}

namespace {

// The report's `claims` rows (claim_row); none where it has no `claims`. A `claims` that is not an
// array of objects is no report of ours; a row without the fields is left out.
std::vector<claim_row> parse_claims(const json& doc, const std::string& path) {
  std::vector<claim_row> rows;
  const auto list = doc.find("claims");
  if (list == doc.end() || list->is_null()) return rows;
  if (!list->is_array()) not_a_report(path, "'claims' is not an array");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& claim = (*list)[i];
    if (!claim.is_object())
      not_a_report(path, "claims[" + std::to_string(i) + "] is not an object");
    const auto id = claim.find("id");
    const auto claim_rows = claim.find("rows");
    if (id == claim.end() || !id->is_string() || claim_rows == claim.end() ||
        !claim_rows->is_array())
      continue;
    for (const json& row : *claim_rows) {
      if (!row.is_object()) continue;
      const auto where = row.find("where");
      const auto verdict = row.find("verdict");
      if (where == row.end() || !where->is_string() || verdict == row.end() ||
          !verdict->is_string())
        continue;
      claim_row r{.claim = id->get<std::string>(),
                  .where = where->get<std::string>(),
                  .verdict = verdict->get<std::string>(),
                  .regime = std::nullopt};
      for (const char* key : {"against", "speed", "cpu"}) {
        const auto comparisons = row.find(key);
        if (comparisons == row.end() || !comparisons->is_array()) continue;
        for (const json& c : *comparisons) {
          if (r.regime || !c.is_object()) continue;
          const auto interval = c.find("interval");
          const auto regime = c.find("regime");
          if (interval != c.end() && interval->is_array() && regime != c.end() &&
              regime->is_number_unsigned())
            r.regime = regime->get<std::size_t>();
        }
      }
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

}  // namespace

report parse_report(const nlohmann::json& doc, const std::string& path, normalisation normalise) {
  if (!doc.is_object()) not_a_report(path, "the top level is not an object");
  const auto list = doc.find("benchmarks");
  if (list == doc.end() || !list->is_array()) not_a_report(path, "no 'benchmarks' array");
  json context = json::object();
  if (const auto it = doc.find("context"); it != doc.end()) {
    if (!it->is_object()) not_a_report(path, "'context' is not an object");
    context = *it;
  }

  std::vector<benchmark_samples> benchmarks;
  std::unordered_map<std::string, std::size_t> index;
  std::size_t aggregates = 0;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string where = "benchmarks[" + std::to_string(i) + "]";
    if (!entry.is_object()) not_a_report(path, where + " is not an object");
    const auto name = string_field(entry, "name");
    if (!name || name->empty()) not_a_report(path, where + " has no 'name' string");
    if (entry.contains("run_name") && !entry["run_name"].is_string()) {
      not_a_report(path, where + ".run_name is not a string");
    }
    if (entry.contains("run_type") && !entry["run_type"].is_string()) {
      not_a_report(path, where + ".run_type is not a string");
    }
    // Aggregate rows (mean, median, stddev, cv) summarise the repetitions; they are not samples.
    if (string_field(entry, "run_type") == "aggregate" || entry.contains("aggregate_name")) {
      ++aggregates;
      continue;
    }
    const std::string key = string_field(entry, "run_name").value_or(*name);

    auto [it, inserted] = index.emplace(key, benchmarks.size());
    if (inserted) {
      benchmark_samples fresh;
      fresh.name = key;
      fresh.info = info_from_entry(entry, key);
      benchmarks.push_back(std::move(fresh));
    }
    benchmark_samples& bench = benchmarks[it->second];
    ++bench.repetitions;
    ++bench.attempts;
    if (entry.contains(schema::field::kPattern)) bench.ipcbench_fields = true;

    const entry_status st = status_of(entry);
    if (st.status != run_status::ok) {
      ++bench.failures;
      // The first failure wins over skips: a failure (integrity error, hung peer) is the news.
      const bool worse = bench.status == run_status::ok ||
                         (bench.status == run_status::skipped && st.status == run_status::failed);
      if (worse) {
        bench.status = st.status;
        bench.reason = st.reason;
      }
      continue;
    }
    const double unit = time_unit_factor(entry, path, i);
    const std::optional<double> floor =
        normalise == normalisation::none ? std::nullopt : floor_of(entry, normalise);
    if (normalise == normalisation::none) {
      const auto p50 = entry.find(schema::counter::kRttP50Ns);
      if (p50 != entry.end() && p50->is_number() && p50->get<double>() >= 0.0) {
        if (const auto wake = floor_of(entry, normalisation::wake))
          bench.p50_per_wake.push_back(p50->get<double>() / *wake);
        if (const auto line = floor_of(entry, normalisation::line))
          bench.p50_per_line.push_back(p50->get<double>() / *line);
      }
    }
    for (const metric_spec& m : known_metrics()) {
      const auto value = entry.find(m.name);
      if (value != entry.end() && value->is_null()) {
        // The bench program writes a tail percentile as null when too few round trips back it.
        if (const auto need = tail_minimum(m.name)) {
          // Samples: round trips, or batches of rtt_batch round trips where the bench timed
          // short round trips in batches (rtt_samples; older reports have only messages).
          auto samples = entry.find(schema::counter::kRttSamples);
          if (samples == entry.end()) samples = entry.find(schema::counter::kMessages);
          std::string reason = std::string(m.name) + " needs at least " + std::to_string(*need) +
                               " samples per repetition";
          if (samples != entry.end() && samples->is_number())
            reason += "; had " + std::to_string(samples->get<std::uint64_t>());
          bench.unsupported.emplace(std::string(m.name), std::move(reason));
        }
        continue;
      }
      if (value == entry.end()) continue;
      const std::string field = where + "." + std::string(m.name);
      if (!value->is_number()) not_a_report(path, field + " is not a number");
      double v = value->get<double>();
      if (v < 0.0) not_a_report(path, field + " is negative");
      if (m.name == "real_time" || m.name == "cpu_time") v *= unit;
      if (normalise != normalisation::none && latency_metric(m.name)) {
        if (!floor) {
          ++bench.without_floor[std::string(m.name)];
          continue;
        }
        v /= *floor;
      }
      bench.metrics[std::string(m.name)].push_back(v);
    }
  }
  if (benchmarks.empty()) {
    if (aggregates > 0) {
      not_a_report(path,
                   "it has only aggregate rows; per-repetition entries are needed (do not "
                   "use --benchmark_report_aggregates_only)");
    }
    not_a_report(path, "'benchmarks' is empty");
  }
  report_origin origin{.normalised = normalise};
  if (const auto it = doc.find("estimates"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) not_a_report(path, "'estimates' is not an object");
    origin.estimates = true;
    for (benchmark_samples& b : benchmarks)
      if (const auto e = it->find(b.name); e != it->end())
        b.estimate = parse_estimate(*e, path, b.name);
  }
  return report(path, std::move(context), std::move(benchmarks), origin, parse_claims(doc, path));
}

std::size_t repetitions_without_floor(const report& r) {
  std::size_t n = 0;
  // A repetition without the floor leaves every latency metric it has: count it once.
  for (const benchmark_samples& b : r.benchmarks()) {
    std::size_t most = 0;
    for (const auto& [metric, count] : b.without_floor) most = std::max(most, count);
    n += most;
  }
  return n;
}

report load_report(const std::string& path, normalisation normalise) {
  std::string text = read_file(path);
  // A stored report is often compressed (docs/run/report.json.xz).
  if (const char* tool = compressed_by(text)) text = decompress(path, tool);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ..."; drop the tag.
    std::string what = e.what();
    if (const auto close = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
      what.erase(0, close + 2);
    }
    throw input_error("'" + path + "' is not valid JSON: " + one_line(what));
  }
  return parse_report(doc, path, normalise);
}

report merge_runs(const std::vector<report>& runs, bool one_run_as_sample) {
  if (runs.empty()) throw input_error("no reports");
  if (runs.size() == 1 && !one_run_as_sample) return runs.front();
  std::vector<benchmark_samples> merged;
  std::unordered_map<std::string, std::size_t> index;
  const double gap = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t run_index = 0; run_index < runs.size(); ++run_index) {
    for (const benchmark_samples& b : runs[run_index].benchmarks()) {
      auto [it, inserted] = index.emplace(b.name, merged.size());
      if (inserted) {
        benchmark_samples fresh;
        fresh.name = b.name;
        fresh.info = b.info;
        merged.push_back(std::move(fresh));
      }
      benchmark_samples& m = merged[it->second];
      m.ipcbench_fields = m.ipcbench_fields || b.ipcbench_fields;
      m.repetitions += b.repetitions;
      ++m.attempts;
      if (b.status != run_status::ok) {
        ++m.failures;
        if (m.status == run_status::ok ||
            (m.status == run_status::skipped && b.status == run_status::failed)) {
          m.status = b.status;
          m.reason = b.reason;
        }
      }
      for (const auto& [metric, values] : b.metrics) {
        if (values.empty()) continue;
        const double value = median(values);
        m.metrics[metric].push_back(value);
        auto& slots = m.by_run[metric];
        slots.resize(runs.size(), gap);
        slots[run_index] = value;
      }
      for (const auto& [metric, why] : b.unsupported) m.unsupported.emplace(metric, why);
      for (const auto& [metric, count] : b.without_floor) m.without_floor[metric] += count;
    }
  }
  // A benchmark absent from some runs was not measured there: each such run counts as one that
  // did not succeed, so a benchmark that vanishes from a round is never judged as if it had not.
  for (benchmark_samples& m : merged) {
    if (m.attempts == runs.size()) continue;
    const std::size_t absent = runs.size() - m.attempts;
    m.failures += absent;
    m.attempts = runs.size();
    if (m.status == run_status::ok) {
      m.status = run_status::skipped;
      m.reason = "absent from " + std::to_string(absent) + " of the runs";
    }
  }
  std::string path = runs.front().path();
  if (runs.size() > 1) path += " and " + std::to_string(runs.size() - 1) + " more";
  return report(
      std::move(path), runs.front().context(), std::move(merged),
      {.runs = runs.size(), .run_medians = true, .normalised = runs.front().origin().normalised});
}

}  // namespace ipcbench::compare
