// The floors of a run: what the machine and the harness can do with no IPC in the way, measured
// once before the benchmarks (calibration) and, with two pinned CPUs, again right before each
// repetition on its CPUs (adjacent_floors). Plain values from the measurement to the report:
// the ratios read them, calibration_json writes them once. Coordinator side.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/calibrate.hpp"
#include "harness/placement.hpp"

namespace ipcbench {

// The time-stamp counter that times round trips too short for two clock reads each.
struct tsc_calibration {
  double ns_per_tick = 0;
  double read_ns = 0;
};

// What measure_calibration found; context.ipcbench.calibration in the report. The round trips
// and the copy floor are measured only between two different CPUs (`cpus`).
struct calibration {
  double timer_ns = 0;
  double memcpy_bytes_per_second = 0;
  std::optional<tsc_calibration> tsc;
  std::optional<cache_line_rtt> line_rtt;
  std::optional<wake_round_trip> wake_rtt;
  // The cross-core copy floor in bytes/s by message size (nullopt where it could not run).
  std::optional<std::map<std::size_t, std::optional<double>>> copy_by_size;
  std::optional<std::array<int, 2>> cpus;  // producer, consumer of the three above
  // What a separate check pass (mechanism_traits::verification) costs the receiver per message.
  std::map<std::size_t, double> check_ns_by_size;

  // The calibrated floors (the round trips' medians, the copy and the check by message size);
  // nullopt where not measured.
  std::optional<double> line_rtt_p50_ns() const;
  std::optional<double> wake_rtt_p50_ns() const;
  std::optional<double> copy_bytes_per_second(std::size_t size) const;
  std::optional<double> check_ns(std::size_t size) const;
  // 0 without an invariant time-stamp counter (run_request::tsc_ns_per_tick).
  double tsc_ns_per_tick() const { return tsc ? tsc->ns_per_tick : 0; }
};

// Whether `cpus` are two different pinned CPUs: the floors between two CPUs apply.
bool two_cpus(const cpu_choice& cpus);

// Timer cost, memcpy bandwidth and, for two different CPUs, the cache-line round trip, the
// wake-up round trip (futex ping-pong) and the cross-core copy floor at each of `sizes` between
// the two CPUs the peers use.
calibration measure_calibration(const cpu_choice& cpus, const std::vector<std::size_t>& sizes);
// The report's context.ipcbench.calibration.
nlohmann::json calibration_json(const calibration& c);

// The floors measured right before one repetition, on its CPUs: the machine's state drifts
// (on a VM whole minutes run at another speed as the host moves the virtual CPUs), so the
// ratio that says how close a number is to the floor uses a floor from the same moment.
struct adjacent_floors {
  std::optional<double> line_rtt_p50_ns, wake_rtt_p50_ns, copy_bytes_per_second;
  // The cache-line round trip measured again right after the repetition.
  std::optional<double> line_after_rtt_p50_ns;
  // Whether the copy floor is measured right after the repetition (throughput, where the floors
  // bound the benchmark).
  bool copy_after = false;
  // Whether the repetition came so close to the copy floor that it was measured once more, longer.
  bool copy_remeasured = false;
  // Whether the host moved during the repetition: the cache-line round trips before and after it
  // stand 1.5x apart or more. Such a repetition belongs to no regime.
  bool moved() const;
};
// Right before a repetition: the cache-line round trip between `cpus` (the machine's state,
// which the regimes are found in) and, where the floors bound the benchmark (`bounds`), the
// wake-up round trip for latency; for throughput it only marks the copy floor at `message_size`
// (none at 0) to be measured after the repetition (`copy_after`).
// Shorter runs than measure_calibration's: a few milliseconds beside a timed batch of 15 ms (the
// default). `just_measured`: the cache-line round trip measured right after the repetition that ran
// just before this one (bench_session passes it when that was under kLineReuse ago), taken as this
// one's instead of measuring it again a few milliseconds later.
inline constexpr std::chrono::milliseconds kLineReuse{10};
// `station`: where the floors run (harness/floor_station.hpp); without one they fork.
adjacent_floors measure_adjacent_floors(const cpu_choice& cpus, pattern p, std::size_t message_size,
                                        bool bounds,
                                        std::optional<double> just_measured = std::nullopt,
                                        floor_station* station = nullptr);
// Right after the repetition: the cache-line round trip again (where one was measured before it)
// and, for throughput, the copy floor. One short measurement sometimes comes out low, and a
// mechanism would beat it, so where the repetition moved `achieved_bytes_per_second`, 90 % of
// that floor or more, the copy floor is measured once more, for 50 ms, and the higher kept
// (`copy_remeasured`, and the report's `floors.copy_floor_remeasured_s`).
void measure_floors_after(adjacent_floors& f, const cpu_choice& cpus, pattern p,
                          std::size_t message_size, floor_station* station = nullptr,
                          std::optional<double> achieved_bytes_per_second = std::nullopt);
// A repetition's `floors` object ({} when none was measured).
nlohmann::json adjacent_floors_json(const adjacent_floors& f);

}  // namespace ipcbench
