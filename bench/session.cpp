#include "session.hpp"

#include <chrono>
#include <cmath>
#include <utility>

namespace ipcbench {

void bench_session::add(const bench_case& c) {
  const char* process = in_process(c.traits) ? "none" : to_string(c.req.process);
  extras_.set_static(c.name, {.mechanism = c.traits.mechanism,
                              .variant = c.traits.variant,
                              .id = c.traits.id,
                              .family = c.traits.family,
                              .pattern = to_string(c.req.pat),
                              .message_size = c.req.message_size,
                              .placement = to_string(c.req.place),
                              .process = process,
                              .topology = c.topo ? to_string(*c.topo) : "",
                              .fan = c.fan});
  benchmark::RegisterBenchmark(c.name.c_str(),
                               [this, c](benchmark::State& state) { run(state, c); })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

void bench_session::calibrate(cpu_choice cpus, const std::vector<std::size_t>& sizes) {
  cpus_ = std::move(cpus);
  adjacent_floors_ = two_cpus(cpus_);
  floors_ = measure_calibration(cpus_, sizes);
}

adjacent_floors bench_session::measure_adjacent(const bench_case& c) const {
  if (!adjacent_floors_ || c.traits.kind == channel_kind::calibration) return {};
  // A pair's floors bound a pair: fan-in and fan-out aggregates are no pair's.
  if (!floors_apply(c)) return {};
  return measure_adjacent_floors(cpus_, c.req.pat, c.req.message_size);
}

void bench_session::run(benchmark::State& state, const bench_case& c) {
  progress_.step(c.name);
  const auto started = std::chrono::system_clock::now().time_since_epoch();
  const std::uint64_t order = next_order_++;
  run_result r;
  adjacent_floors adjacent;
  if (std::string blocked = extras_.repetition_blocked(c.name); !blocked.empty()) {
    r.status = run_status::skipped;
    r.reason = std::move(blocked);
  } else {
    adjacent = measure_adjacent(c);
    run_request req = c.req;
    req.timer_ns = floors_.timer_ns;
    req.tsc_ns_per_tick = floors_.tsc_ns_per_tick();
    r = c.run(req);
  }
  repetition_report rep = assemble_repetition(c, r, floors_, adjacent);
  rep.fields.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(started).count();
  rep.fields.order = order;
  record(c, rep);
  if (r.status != run_status::ok) {
    // A lossy mechanism that lost round trips did what it is: the latency run is reported failed
    // with the counts, but it does not set the exit code. (A lossy stream that lost datagrams is
    // ok, with its goodput and loss rate.)
    if (r.status == run_status::failed) {
      if (only_loss(c, r))
        extras_.count_loss();
      else
        extras_.count_failure();
    }
    extras_.add_repetition(c.name, std::move(rep.fields));
    skip_run(state, schema::error_message(report_status(r.status), r.reason));
    return;
  }
  for (auto _ : state) state.SetIterationTime(rep.seconds_per_iteration);
  for (const auto& [name, value] : rep.counters) state.counters[name] = value;
  extras_.add_repetition(c.name, std::move(rep.fields));
}

void bench_session::record(const bench_case& c, const repetition_report& rep) {
  // As the report has it: a counter that is not a finite number is null there.
  const auto bps = rep.counters.find(schema::counter::kBytesPerSecond);
  const bool has_bps = bps != rep.counters.end() && std::isfinite(bps->second);
  records_.push_back({.id = c.traits.id,
                      .pattern = to_string(c.req.pat),
                      .message_size = c.req.message_size,
                      .placement = to_string(c.req.place),
                      .topology = c.topo ? to_string(*c.topo) : "",
                      .ok = rep.fields.state == schema::status::ok,
                      .bytes_per_second = has_bps ? std::optional(bps->second) : std::nullopt});
}

}  // namespace ipcbench
