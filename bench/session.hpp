// One run of the bench program: the CPUs its peers use, its calibrated floors, and what it
// collected as the benchmarks ran (our report fields, the run records, the failure counts, the
// progress line). Google Benchmark's registered benchmarks hold a reference to it, so it
// outlives benchmark::RunSpecifiedBenchmarks and is neither copied nor moved. Coordinator side,
// one thread.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/calibration.hpp"
#include "bench/cases.hpp"
#include "bench/report.hpp"
#include "harness/placement.hpp"
#include "probe/report_probes.hpp"

namespace ipcbench {

class bench_session {
 public:
  bench_session() = default;
  bench_session(const bench_session&) = delete;
  bench_session& operator=(const bench_session&) = delete;

  // Records c's report fields and registers it with Google Benchmark (one iteration, manual
  // time); its repetitions run through run().
  void add(const bench_case& c);
  // Before any benchmark runs: takes `cpus`, the choice the benchmarks run with (choose_cpus),
  // and measures the run's floors on them (measure_calibration). With two different CPUs each
  // repetition of a pair measures its floors on them again first (adjacent_floors).
  void calibrate(cpu_choice cpus, const std::vector<std::size_t>& sizes);
  // With `total` repetitions to come: the --progress line.
  void show_progress(std::size_t total) { progress_.start(total); }

  // One repetition of c: runs it (unless an earlier one failed), records it, and reports it to
  // Google Benchmark.
  void run(benchmark::State& state, const bench_case& c);
  void finish() { progress_.finish(); }

  const cpu_choice& cpus() const noexcept { return cpus_; }
  const calibration& floors() const noexcept { return floors_; }
  const report_extras& extras() const noexcept { return extras_; }
  // Every repetition so far, in the order they ran.
  const std::vector<probes::run_record>& records() const noexcept { return records_; }

 private:
  adjacent_floors measure_adjacent(const bench_case& c) const;
  void record(const bench_case& c, const repetition_report& rep);

  cpu_choice cpus_;
  bool adjacent_floors_ = false;  // cpus_ are two different CPUs
  calibration floors_;
  report_extras extras_;
  progress_line progress_;
  std::uint64_t next_order_ = 0;  // each repetition's place in the run (interleaving shuffles)
  std::vector<probes::run_record> records_;
};

}  // namespace ipcbench
