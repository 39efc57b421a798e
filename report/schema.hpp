// The report schema, the one place both the bench program (which writes reports) and compare
// (which reads them) take it from: the benchmark name format, the names of the fields and
// counters of a benchmark entry, the metrics with their direction, the status values, and the
// structs the bench program fills per benchmark and per repetition. results/README.md documents
// the same names for people and for plots/. Plain values and pure functions: nothing here owns a
// resource, and nothing throws but std::bad_alloc. Usable on either side of a fork.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace ipcbench::schema {

// The top-level `context` object carries ours under this key.
inline constexpr char kContextKey[] = "ipcbench";

// A spread of a benchmark's repetitions above this (max / min of the main metric) counts as
// unstable: the bench program names its cause in the estimate (`spread_cause`), and
// ipcbench-compare --same-answer counts the benchmarks over it.
inline constexpr double kSpreadLimit = 1.5;

// The message sizes of the answer's two rankings: latency at 64 B, throughput at 1 MiB. The
// bench program gives their benchmarks more repetitions (bench/cases.hpp, in_ranking), and
// ipcbench-compare --same-answer compares two reports' rankings at them.
inline constexpr std::uint64_t kRankingLatencySize = 64;
inline constexpr std::uint64_t kRankingThroughputSize = 1048576;

// Fields of a benchmark entry beyond Google Benchmark's (results/README.md, `benchmarks`).
namespace field {
inline constexpr char kMechanism[] = "mechanism";
inline constexpr char kVariant[] = "variant";
inline constexpr char kId[] = "id";
inline constexpr char kFamily[] = "family";
inline constexpr char kPattern[] = "pattern";
inline constexpr char kMessageSize[] = "message_size";
inline constexpr char kPlacement[] = "placement";
inline constexpr char kProcess[] = "process";
inline constexpr char kStatus[] = "status";
inline constexpr char kReason[] = "reason";
inline constexpr char kLost[] = "lost";
inline constexpr char kDuplicated[] = "duplicated";
inline constexpr char kReordered[] = "reordered";
inline constexpr char kStale[] = "stale";
inline constexpr char kDelivered[] = "delivered";
inline constexpr char kIntegrityErrors[] = "integrity_errors";
inline constexpr char kCpus[] = "cpus";
inline constexpr char kCpu[] = "cpu";
inline constexpr char kLatencyPercentiles[] = "latency_percentiles_ns";
inline constexpr char kStartUnixNs[] = "start_unix_ns";
inline constexpr char kOrder[] = "order";
inline constexpr char kCpuStates[] = "cpu_states";
inline constexpr char kLibraryThreads[] = "library_threads";
inline constexpr char kTurnaroundPercentiles[] = "turnaround_percentiles_ns";
inline constexpr char kRttClock[] = "rtt_clock";
inline constexpr char kRttTails[] = "rtt_tails";
inline constexpr char kSubBatches[] = "sub_batches";
// Topology benchmarks only (absent on a one-pair benchmark): "pairs", "fan_in" or "fan_out",
// and its N.
inline constexpr char kTopology[] = "topology";
inline constexpr char kFan[] = "fan";
// Topology benchmarks, per repetition: the placement of every process and each one's numbers.
inline constexpr char kGroup[] = "group";
inline constexpr char kFloors[] = "floors";
}  // namespace field

// context.ipcbench.cpu_placement (results/README.md, `context`): the CPUs the peers were pinned
// to, why, and what sysfs says about them.
namespace placement_field {
inline constexpr char kCpuPlacement[] = "cpu_placement";  // the object's key in the context
inline constexpr char kPlacement[] = "placement";         // cross, same, none
inline constexpr char kChosenBy[] = "chosen_by";          // "topology", "--cpus" or "none"
inline constexpr char kCpus[] = "cpus";                   // [producer, consumer], or null
inline constexpr char kReason[] = "reason";               // why these CPUs, in a sentence
inline constexpr char kImpossible[] = "impossible";       // why the placement cannot be honoured
inline constexpr char kSmtSiblings[] = "smt_siblings";    // bool, or null when unknown or one CPU
inline constexpr char kShareL3[] = "share_l3";            // bool, or null when unknown or one CPU
inline constexpr char kProducer[] = "producer";           // a CPU object, or null
inline constexpr char kConsumer[] = "consumer";
// A CPU object: sysfs's ids, null where sysfs lacks them.
inline constexpr char kCpu[] = "cpu";
inline constexpr char kCoreId[] = "core_id";
inline constexpr char kPackageId[] = "package_id";
inline constexpr char kDieId[] = "die_id";
inline constexpr char kSiblings[] = "siblings";  // the core's CPUs, itself included; [] unknown
inline constexpr char kL2Id[] = "l2_id";
inline constexpr char kL3Id[] = "l3_id";
}  // namespace placement_field

// Counters: numbers flat on an entry, which Google Benchmark also aggregates over repetitions.
namespace counter {
inline constexpr char kMessages[] = "messages";
inline constexpr char kCpuNsPerMessage[] = "cpu_ns_per_message";
// Mechanisms with a helper process (a bus daemon, a broker) only: its CPU time per message, which
// kCpuNsPerMessage includes.
inline constexpr char kHelperCpuNsPerMessage[] = "helper_cpu_ns_per_message";
// Mechanisms whose receiver checks a message in a pass of its own (mechanism traits'
// `verification` "separate"): what that pass costs per message at this size (calibration's
// check_ns_by_size), included in the numbers; "fused" and "in place" receivers do not pay it.
inline constexpr char kSeparateCheckNsPerMessage[] = "separate_check_ns_per_message";
inline constexpr char kRttP50Ns[] = "rtt_p50_ns";
inline constexpr char kRttP90Ns[] = "rtt_p90_ns";
inline constexpr char kRttP99Ns[] = "rtt_p99_ns";
inline constexpr char kRttP999Ns[] = "rtt_p999_ns";
inline constexpr char kRttMaxNs[] = "rtt_max_ns";
inline constexpr char kRttMeanNs[] = "rtt_mean_ns";
inline constexpr char kOneWayP50Ns[] = "one_way_p50_ns";
inline constexpr char kBytesPerSecond[] = "bytes_per_second";
inline constexpr char kMessagesPerSecond[] = "messages_per_second";
// Lossy throughput only: the fraction of the timed batch's messages that never arrived. Not a
// gate metric (known_metrics()): an unpaced stream's loss measures how far the sender overran
// the receiver, which the gate judges through the goodput in kBytesPerSecond.
inline constexpr char kLossRate[] = "loss_rate";
// Paced streams only (`.paced` variants): the rate (messages/s) the producer was paced to in the
// timed batch, the highest the search found with under 0.1 % lost; what it achieved is
// kMessagesPerSecond (and kBytesPerSecond), measured, and kLossRate is the loss at it. Not gate
// metrics: the target is a setting the search chose, the achieved rates are judged.
inline constexpr char kTargetMessagesPerSecond[] = "target_messages_per_second";
// Paced streams only: short trial batches run to find the rate (the unpaced one included).
inline constexpr char kRateTrials[] = "rate_trials";
// Round trips averaged per latency sample (1: each timed on its own).
inline constexpr char kRttBatch[] = "rtt_batch";
// Latency samples behind the percentiles: messages / rtt_batch.
inline constexpr char kRttSamples[] = "rtt_samples";
// The consumer's turnaround (request received to reply handed over), sampled, median.
inline constexpr char kTurnaroundP50Ns[] = "turnaround_p50_ns";
// Ratios to the calibrated floors of the same report (null when that floor was not measured).
inline constexpr char kRttP50PerLineFloor[] = "rtt_p50_per_line_floor";
inline constexpr char kRttP50PerWakeFloor[] = "rtt_p50_per_wake_floor";
inline constexpr char kBytesPerSecondPerCopyFloor[] = "bytes_per_second_per_copy_floor";
// Topology benchmarks: the spread of the producers' (pairs: the pairs') rates, min over max
// and coefficient of variation (1 and 0: perfectly even); fan_in over a stream: records that
// did not arrive whole (writes above PIPE_BUF torn by the kernel), reassembled and checked.
inline constexpr char kFairnessMinOverMax[] = "fairness_min_over_max";
inline constexpr char kFairnessCv[] = "fairness_cv";
inline constexpr char kTornRecords[] = "torn_records";
// fan_in/N and fan_out/N: one-way delay of sampled timed records, send to received and checked
// (harness/delay.hpp), over every producer-consumer path at once: p50, and p99 only with 1,000
// samples behind it (absent otherwise). Per member in `group.members`. Not gate metrics.
inline constexpr char kDelayP50Ns[] = "delay_p50_ns";
inline constexpr char kDelayP99Ns[] = "delay_p99_ns";
// The same delay from a second run whose producers were paced at half their saturated rate,
// measured from the scheduled send times (no coordinated omission): the channel's delay with
// room to spare, where the saturated one is mostly its queue. Not gate metrics.
inline constexpr char kPacedDelayP50Ns[] = "paced_delay_p50_ns";
inline constexpr char kPacedDelayP99Ns[] = "paced_delay_p99_ns";
}  // namespace counter

// Every counter above, in the order results/README.md lists them.
std::span<const std::string_view> counters();

// The keys of `latency_percentiles_ns`, each the percentile it names ("99.9" is p99.9).
inline constexpr std::array<std::string_view, 10> kLatencyPercentileKeys{
    "0", "50", "75", "90", "95", "99", "99.5", "99.9", "99.99", "100"};

// Round trips a percentile needs behind it before it is reported: ten beyond it, for p90 and
// above below the maximum (p90: 100, p99: 1,000, p99.9: 10,000); nullopt for the others (the
// median and lower, and the maximum, which is a value seen). Below its minimum a percentile is
// null in the counters and left out of latency_percentiles_ns, and the gate does not judge it.
std::optional<std::uint64_t> min_samples_for_percentile(double q);

// --- Status

// How a repetition ended: `ok`, `skipped` (cannot run here, by design) or `failed` (an error).
enum class status { ok, skipped, failed };
std::string_view to_string(status s) noexcept;
// "ok", "skipped", "failed"; nullopt for anything else.
std::optional<status> parse_status(std::string_view text) noexcept;
// Google Benchmark's error_message of a repetition that is not ok: "<status>: <reason>".
std::string error_message(status s, std::string_view reason);
// The status an error_message without a `status` field stands for: skipped when it starts with
// "skipped", failed otherwise.
status status_of_error_message(std::string_view message) noexcept;

// --- Names

inline constexpr std::string_view kPatterns[] = {"latency", "throughput"};
inline constexpr std::string_view kPlacements[] = {"cross", "same", "none"};
inline constexpr std::string_view kTopologies[] = {"pairs", "fan_in", "fan_out"};
// Appended to the placement of a benchmark whose peers were launched as separate programs
// (`--process spawn`), so compare never matches it with a forked one.
inline constexpr std::string_view kSpawnSuffix = ".spawn";
// Appended to the placement of a benchmark whose two peers were threads of one process
// (`--peers threads`), so compare never matches it with one of process peers.
inline constexpr std::string_view kThreadsSuffix = ".threads";
// The variant of an id without a dot.
inline constexpr std::string_view kDefaultVariant = "default";

// `<id>/<pattern>/<size>/<placement>[.spawn|.threads]`, `<id>` = `<mechanism>[.<variant>]`; a
// topology benchmark inserts `<topology>/<N>` after the id: `pipe/fan_in/4/throughput/4097/cross`.
struct benchmark_name {
  std::string id;
  std::string topology = {};  // empty: one pair; otherwise one of kTopologies
  std::uint64_t fan = 0;      // N of the topology; 0 with none
  std::string pattern;
  std::uint64_t message_size = 0;
  std::string placement;
  bool spawned = false;  // the `.spawn` suffix
  bool threads = false;  // the `.threads` suffix
};

std::string mechanism_of(std::string_view id);  // the id up to its first dot
std::string variant_of(std::string_view id);    // after the first dot, or kDefaultVariant

std::string format_name(const benchmark_name& name);
// Parses a name of our shape, ignoring Google Benchmark's own trailing components (those with a
// ':' such as `/repeats:5`, and `/real_time`, `/manual_time`, `/process_time`). nullopt when the
// name has another shape: an unknown pattern or placement, a size that is not a 64-bit number.
std::optional<benchmark_name> parse_name(std::string_view name);

// --- Metrics

enum class direction { lower_is_better, higher_is_better };
std::string_view to_string(direction better) noexcept;  // "lower_is_better", "higher_is_better"

struct metric_spec {
  std::string_view name;
  direction better;
  double default_threshold;  // fraction of the median, e.g. 0.05 for 5 %
  std::string_view unit;     // "ns", "B/s" or "msg/s"
};

// The metrics a report can be judged on, with their direction and default threshold: the
// latency, throughput and CPU counters, and Google Benchmark's `real_time` and `cpu_time`
// (in the entry's `time_unit`; readers normalise them to nanoseconds).
std::span<const metric_spec> known_metrics();
const metric_spec* find_metric(std::string_view name);

// --- What the bench program writes per entry

// What a benchmark is: the same on each of its entries, repetitions and aggregates alike.
struct benchmark_fields {
  std::string mechanism;
  std::string variant;
  std::string id;
  std::string family;
  std::string pattern;
  std::uint64_t message_size = 0;
  std::string placement;      // cross, same, none (without `.spawn`)
  std::string process;        // fork, spawn, threads (peers as threads), or none (the calibration)
  std::string topology = {};  // empty: one pair (the fields are left out)
  std::uint64_t fan = 0;
};

// Of the timed batch alone. `stale`: messages of an earlier batch (the warm-up) that arrived in
// it. `delivered` (streams): distinct messages that arrived, what the goodput counts.
struct loss_counts {
  std::uint64_t lost = 0, duplicated = 0, reordered = 0, stale = 0;
  std::optional<std::uint64_t> delivered;
};

// CPU time of both peers over the timed batch: exact totals (CLOCK_PROCESS_CPUTIME_ID) and the
// approximate user/system split (getrusage, apportioned from tick samples).
struct peer_cpu_times {
  std::int64_t producer_user_ns = 0, producer_sys_ns = 0;
  std::int64_t consumer_user_ns = 0, consumer_sys_ns = 0;
  std::int64_t producer_ns = 0, consumer_ns = 0;
  // How long each peer's thread waited runnable for its CPU over the timed batch, another task
  // running there (schedstat run_delay); absent where not read (a group of more than one producer
  // or consumer).
  std::optional<std::int64_t> producer_waited_ns = std::nullopt, consumer_waited_ns = std::nullopt;
};

// What one repetition (an `iteration` entry) adds. The optional parts are written only when set:
// the loss counts for lossy mechanisms, the rest for repetitions that ran.
struct repetition_fields {
  status state = status::ok;
  std::string reason;  // why skipped or failed; empty when ok
  std::optional<loss_counts> loss;
  std::optional<std::uint64_t> integrity_errors;
  std::optional<std::array<int, 2>> cpus;  // producer, consumer; -1 when not pinned
  std::optional<peer_cpu_times> cpu;
  // Per-CPU /proc/stat deltas of the pinned CPUs around the timed batch: {"window_ns": ...,
  // "cpus": {"<cpu>": {"user_ns", "system_ns", "softirq_ns", ...}}}.
  std::optional<nlohmann::json> cpu_states;
  // A mechanism whose library runs threads of its own in each peer (process peers pinned to one
  // CPU each): where those threads ran, per peer, from halfway through the warm-up to the end of
  // the timed batch: {"producer": {"own_cpu_ns", "other_cpu_ns", "moved_ns", "threads",
  // "window_ns", "placement"}, "consumer": {...}, "placement": "<producer's>/<consumer's>"}.
  std::optional<nlohmann::json> library_threads;
  // The floors measured on the same CPUs right before this repetition (placement cross):
  // {"cache_line_rtt_p50_ns", "wakeup_rtt_p50_ns"} for latency, {"copy_floor_bytes_per_second"}
  // for throughput; the *_per_*_floor counters divide by these.
  std::optional<nlohmann::json> floors;
  // The consumer's sampled turnaround per key of kLatencyPercentileKeys (latency only).
  std::optional<std::map<std::string, std::int64_t>> turnaround_percentiles_ns;
  // Round-trip time per key of kLatencyPercentileKeys (latency only).
  std::optional<std::map<std::string, std::int64_t>> latency_percentiles_ns;
  // Latency: how the samples were timed ("clock_gettime" or "tsc"), and, where a sample is the
  // mean of rtt_batch round trips, why the percentiles above p50 and the max are null.
  std::optional<std::string> rtt_clock;
  std::optional<std::string> rtt_tails;
  // The timed batch's parts in order (run_result::sub_values), where it was split: each part's
  // median round trip in ns (latency) or its rate in bytes per second (throughput).
  std::optional<std::vector<double>> sub_batches;
  // When the repetition started (Unix time, ns) and its place in the run's order (0, 1, ...):
  // with interleaved repetitions, what ran when.
  std::optional<std::int64_t> start_unix_ns;
  std::optional<std::uint64_t> order;
  // Topology benchmarks (results/README.md, `group`).
  std::optional<nlohmann::json> group;
};

void to_json(nlohmann::json& j, const benchmark_fields& f);
void to_json(nlohmann::json& j, const repetition_fields& r);
// Aggregate rows summarise repetitions that ran: they are `ok` with an empty reason.
nlohmann::json aggregate_fields();

}  // namespace ipcbench::schema
