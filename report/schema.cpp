#include "report/schema.hpp"
#include <cmath>

#include <algorithm>
#include <cctype>
#include <vector>

namespace ipcbench::schema {
namespace {

constexpr std::string_view kCounters[] = {
    counter::kMessages,
    counter::kRttP50Ns,
    counter::kRttP90Ns,
    counter::kRttP99Ns,
    counter::kRttP999Ns,
    counter::kRttMaxNs,
    counter::kRttMeanNs,
    counter::kOneWayP50Ns,
    counter::kBytesPerSecond,
    counter::kMessagesPerSecond,
    counter::kLossRate,
    counter::kTargetMessagesPerSecond,
    counter::kRateTrials,
    counter::kCpuNsPerMessage,
    counter::kHelperCpuNsPerMessage,
    counter::kRttBatch,
    counter::kSeparateCheckNsPerMessage,
    counter::kRttSamples,
    counter::kTurnaroundP50Ns,
    counter::kRttP50PerLineFloor,
    counter::kRttP50PerWakeFloor,
    counter::kBytesPerSecondPerCopyFloor,
    counter::kFairnessMinOverMax,
    counter::kFairnessCv,
    counter::kTornRecords,
    counter::kDelayP50Ns,
    counter::kDelayP99Ns,
    counter::kPacedDelayP50Ns,
    counter::kPacedDelayP99Ns,
};

constexpr std::array<metric_spec, 11> kMetrics{{
    {counter::kRttP50Ns, direction::lower_is_better, 0.05, "ns"},
    {counter::kRttP90Ns, direction::lower_is_better, 0.10, "ns"},
    {counter::kRttP99Ns, direction::lower_is_better, 0.15, "ns"},
    {counter::kRttP999Ns, direction::lower_is_better, 0.25, "ns"},
    {counter::kRttMeanNs, direction::lower_is_better, 0.05, "ns"},
    {counter::kOneWayP50Ns, direction::lower_is_better, 0.05, "ns"},
    {counter::kBytesPerSecond, direction::higher_is_better, 0.05, "B/s"},
    {counter::kMessagesPerSecond, direction::higher_is_better, 0.05, "msg/s"},
    {counter::kCpuNsPerMessage, direction::lower_is_better, 0.10, "ns"},
    {"real_time", direction::lower_is_better, 0.05, "ns"},
    {"cpu_time", direction::lower_is_better, 0.05, "ns"},
}};

bool is_gbench_suffix(std::string_view part) {
  return part.find(':') != std::string_view::npos || part == "real_time" || part == "manual_time" ||
         part == "process_time";
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

template <std::size_t N>
bool one_of(std::string_view value, const std::string_view (&known)[N]) {
  return std::find(std::begin(known), std::end(known), value) != std::end(known);
}

}  // namespace

std::span<const std::string_view> counters() {
  return kCounters;
}

std::string_view to_string(status s) noexcept {
  switch (s) {
    case status::ok:
      return "ok";
    case status::skipped:
      return "skipped";
    case status::failed:
      return "failed";
  }
  return "failed";
}

std::optional<status> parse_status(std::string_view text) noexcept {
  for (status s : {status::ok, status::skipped, status::failed})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

std::string error_message(status s, std::string_view reason) {
  std::string text(to_string(s));
  text += ": ";
  text += reason;
  return text;
}

status status_of_error_message(std::string_view message) noexcept {
  return message.starts_with(to_string(status::skipped)) ? status::skipped : status::failed;
}

std::string mechanism_of(std::string_view id) {
  return std::string(id.substr(0, id.find('.')));
}

std::string variant_of(std::string_view id) {
  const auto dot = id.find('.');
  return std::string(dot == std::string_view::npos ? kDefaultVariant : id.substr(dot + 1));
}

std::string format_name(const benchmark_name& name) {
  std::string text = name.id + "/";
  if (!name.topology.empty()) text += name.topology + "/" + std::to_string(name.fan) + "/";
  text += name.pattern + "/" + std::to_string(name.message_size) + "/" + name.placement;
  if (name.spawned) text += kSpawnSuffix;
  if (name.threads) text += kThreadsSuffix;
  return text;
}

std::optional<benchmark_name> parse_name(std::string_view name) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto slash = name.find('/', start);
    parts.push_back(
        name.substr(start, slash == std::string_view::npos ? name.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  while (!parts.empty() && is_gbench_suffix(parts.back())) parts.pop_back();
  benchmark_name parsed;
  if (parts.size() == 6) {
    if (!one_of(parts[1], kTopologies) || !all_digits(parts[2]) || parts[2].size() > 19)
      return std::nullopt;
    parsed.topology = std::string(parts[1]);
    parsed.fan = std::stoull(std::string(parts[2]));
    if (parsed.fan == 0) return std::nullopt;
    parts.erase(parts.begin() + 1, parts.begin() + 3);
  }
  if (parts.size() != 4 || parts[0].empty() || !all_digits(parts[2])) return std::nullopt;
  std::string_view place = parts[3];
  const bool spawned = place.ends_with(kSpawnSuffix);
  if (spawned) place.remove_suffix(kSpawnSuffix.size());
  const bool threads = !spawned && place.ends_with(kThreadsSuffix);
  if (threads) place.remove_suffix(kThreadsSuffix.size());
  if (!one_of(parts[1], kPatterns) || !one_of(place, kPlacements)) return std::nullopt;
  if (parts[2].size() > 19) return std::nullopt;  // would not fit in 64 bits

  parsed.id = std::string(parts[0]);
  parsed.pattern = std::string(parts[1]);
  parsed.message_size = std::stoull(std::string(parts[2]));
  parsed.placement = std::string(place);
  parsed.spawned = spawned;
  parsed.threads = threads;
  return parsed;
}

std::string_view to_string(direction better) noexcept {
  return better == direction::higher_is_better ? "higher_is_better" : "lower_is_better";
}

std::span<const metric_spec> known_metrics() {
  return kMetrics;
}

const metric_spec* find_metric(std::string_view name) {
  const auto it = std::find_if(kMetrics.begin(), kMetrics.end(),
                               [&](const metric_spec& m) { return m.name == name; });
  return it == kMetrics.end() ? nullptr : &*it;
}

void to_json(nlohmann::json& j, const benchmark_fields& f) {
  j = {{field::kMechanism, f.mechanism},
       {field::kVariant, f.variant},
       {field::kId, f.id},
       {field::kFamily, f.family},
       {field::kPattern, f.pattern},
       {field::kMessageSize, f.message_size},
       {field::kPlacement, f.placement},
       {field::kProcess, f.process}};
  if (!f.topology.empty()) {
    j[field::kTopology] = f.topology;
    j[field::kFan] = f.fan;
  }
}

void to_json(nlohmann::json& j, const repetition_fields& r) {
  j = {{field::kStatus, to_string(r.state)}, {field::kReason, r.reason}};
  if (r.loss) {
    j[field::kLost] = r.loss->lost;
    j[field::kDuplicated] = r.loss->duplicated;
    j[field::kReordered] = r.loss->reordered;
    j[field::kStale] = r.loss->stale;
    if (r.loss->delivered) j[field::kDelivered] = *r.loss->delivered;
  }
  if (r.integrity_errors) j[field::kIntegrityErrors] = *r.integrity_errors;
  if (r.cpus) j[field::kCpus] = *r.cpus;
  if (r.cpu)
    j[field::kCpu] = {{"producer_user_ns", r.cpu->producer_user_ns},
                      {"producer_sys_ns", r.cpu->producer_sys_ns},
                      {"consumer_user_ns", r.cpu->consumer_user_ns},
                      {"consumer_sys_ns", r.cpu->consumer_sys_ns},
                      {"producer_ns", r.cpu->producer_ns},
                      {"consumer_ns", r.cpu->consumer_ns},
                      {"split", "approximate (getrusage); producer_ns and consumer_ns are exact"}};
  if (r.cpu && r.cpu->producer_waited_ns)
    j[field::kCpu]["producer_waited_ns"] = *r.cpu->producer_waited_ns;
  if (r.cpu && r.cpu->consumer_waited_ns)
    j[field::kCpu]["consumer_waited_ns"] = *r.cpu->consumer_waited_ns;
  if (r.cpu_states) j[field::kCpuStates] = *r.cpu_states;
  if (r.library_threads) j[field::kLibraryThreads] = *r.library_threads;
  if (r.floors) j[field::kFloors] = *r.floors;
  if (r.turnaround_percentiles_ns) j[field::kTurnaroundPercentiles] = *r.turnaround_percentiles_ns;
  if (r.latency_percentiles_ns) j[field::kLatencyPercentiles] = *r.latency_percentiles_ns;
  if (r.rtt_clock) j[field::kRttClock] = *r.rtt_clock;
  if (r.rtt_tails) j[field::kRttTails] = *r.rtt_tails;
  if (r.sub_batches) j[field::kSubBatches] = *r.sub_batches;
  if (r.start_unix_ns) j[field::kStartUnixNs] = *r.start_unix_ns;
  if (r.order) j[field::kOrder] = *r.order;
  if (r.group) j[field::kGroup] = *r.group;
}

std::optional<std::uint64_t> min_samples_for_percentile(double q) {
  if (q < 90.0 || q >= 100.0) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(10.0 / (1.0 - q / 100.0)));
}

nlohmann::json aggregate_fields() {
  return {{field::kStatus, to_string(status::ok)}, {field::kReason, ""}};
}

}  // namespace ipcbench::schema
