// Loading benchmark reports (ipcbench reports and plain Google Benchmark JSON) and turning their
// per-repetition entries into samples per benchmark and metric. Everything here throws
// input_error for input that cannot be used, with a one-line message that names the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/schema.hpp"

namespace ipcbench::compare {

// Bad input: an unreadable file, malformed JSON, JSON that is not a report, nothing to compare.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The metrics and the status values are the report schema's (report/schema.hpp).
using schema::direction;
using schema::find_metric;
using schema::known_metrics;
using schema::metric_spec;
using run_status = schema::status;

// What a benchmark measures; empty where neither the entry nor its name says.
struct benchmark_info {
  std::optional<std::string> id;
  std::optional<std::string> mechanism;
  std::optional<std::string> variant;
  std::optional<std::string> pattern;
  std::optional<std::uint64_t> message_size;
  std::optional<std::string> placement;
};

// schema::parse_name as a benchmark_info, with the id split into mechanism and variant. nullopt
// when the name has another shape.
std::optional<benchmark_info> parse_name(std::string_view name);

// All repetitions of one benchmark in one report.
struct benchmark_samples {
  std::string name;  // run_name, or name where there is no run_name
  benchmark_info info;
  bool ipcbench_fields = false;        // entries carry ipcbench's extra fields (`pattern`, ...)
  run_status status = run_status::ok;  // not ok when any repetition was skipped or failed
  std::string reason;                  // why not ok
  std::size_t repetitions = 0;         // iteration entries seen, ok or not
  std::map<std::string, std::vector<double>, std::less<>> metrics;  // one value per ok repetition
};

class report {
 public:
  report(std::string path, nlohmann::json context, std::vector<benchmark_samples> benchmarks);

  const std::string& path() const { return path_; }
  const nlohmann::json& context() const { return context_; }  // an object, maybe empty
  const std::vector<benchmark_samples>& benchmarks() const { return benchmarks_; }
  const benchmark_samples* find(std::string_view name) const;

 private:
  std::string path_;
  nlohmann::json context_;
  std::vector<benchmark_samples> benchmarks_;  // in order of first appearance
  std::unordered_map<std::string, std::size_t> index_;
};

// Builds a report from parsed JSON; `path` only names the source in messages.
report parse_report(const nlohmann::json& doc, const std::string& path);

// Reads and parses a file: input_error("cannot read 'x': <strerror>"), ("'x' is not valid JSON:
// ..."), ("'x' is not a benchmark report: ...").
report load_report(const std::string& path);

}  // namespace ipcbench::compare
