#include "pairs.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "harness/message.hpp"

namespace ipcbench {

namespace {

// run_result::sub_values from the peers' reports; empty where either side's parts are missing.
std::vector<double> sub_values_of(const run_request& req, const batch_reports& b) {
  std::vector<double> out;
  if (req.pat == pattern::latency) {
    for (const std::int64_t p50 : b.producer.sub_p50_ns) out.push_back(static_cast<double>(p50));
    return out;
  }
  const std::vector<std::int64_t>& ends = b.consumer.sub_ends_ns;
  const std::uint64_t parts = ends.size();
  std::int64_t from = b.producer.t0;
  std::uint64_t done = 0;
  for (std::uint64_t k = 1; k <= parts; ++k) {
    const std::uint64_t end = sub_batch_end(b.count, parts, 1, k);
    const std::int64_t ns = ends[k - 1] - from;
    if (ns <= 0 || end <= done) return {};
    out.push_back(static_cast<double>(end - done) * static_cast<double>(req.message_size) * 1e9 /
                  static_cast<double>(ns));
    from = ends[k - 1];
    done = end;
  }
  return out;
}

}  // namespace

run_result assemble(const run_request& req, const batch_reports& b) {
  run_result res;
  const peer_report& pr = b.producer;
  const peer_report& cr = b.consumer;
  res.messages = b.count;
  res.integrity_errors = pr.integrity_errors + cr.integrity_errors;
  res.producer_cpu = pr.cpu;
  res.consumer_cpu = cr.cpu;
  res.cpu_states = pr.cpu_states;
  res.helper_cpu_ns = pr.helper_cpu_ns;
  res.producer_library = pr.library;
  res.consumer_library = cr.library;
  res.rtt_batch = b.rtt_batch;
  if (b.rtt_batch > 1 && req.tsc_ns_per_tick > 0 && !req.lossy) {
    // The producer timed every round trip by the time-stamp counter (ping_pong).
    res.rtt_batch = 1;
    res.clock = rtt_clock::tsc;
  }
  if (cr.turnaround) {
    res.turnaround = *cr.turnaround;
    res.turnaround_stride = b.turnaround_stride;
  }
  if (req.pat == pattern::latency) {
    if (!pr.rtt) throw std::runtime_error("producer reported no round-trip times");
    res.rtt = *pr.rtt;
    res.elapsed_ns = pr.t1 - pr.t0;
  } else {
    res.elapsed_ns = cr.t1 - pr.t0;
  }
  res.sub_values = sub_values_of(req, b);
  const std::uint64_t content_errors = res.integrity_errors;
  const bool latency = req.pat == pattern::latency;
  std::uint64_t loss_of = 0;
  if (req.lossy) {
    for (const auto* r : {&pr, &cr}) {
      const loss_counts l = r->loss.value_or(loss_counts{});
      res.lost += l.lost;
      res.duplicated += l.duplicated;
      res.reordered += l.reordered;
      res.stale += l.stale;
    }
    // The receiver's count: replies for ping-pong, the consumer's messages for a stream.
    const loss_counts receiver = (latency ? pr : cr).loss.value_or(loss_counts{});
    loss_of = receiver.expected;
    if (latency) {
      // A lost round trip is a round trip not measured: the latency run fails.
      res.integrity_errors += res.lost + res.duplicated + res.reordered;
    } else {
      // An unpaced stream over a lossy channel measures what got through: its goodput, with
      // the loss as a number beside it. Only damaged content fails it.
      res.goodput = true;
      res.delivered = receiver.delivered;
    }
  }
  if (res.integrity_errors != 0) {
    res.status = run_status::failed;
    if (latency && res.lost + res.duplicated + res.reordered != 0)
      res.reason = loss_summary(res.lost, loss_of, res.duplicated, res.reordered, "round trips");
    if (content_errors != 0)
      res.reason += (res.reason.empty() ? "" : "; ") + std::string("data check: producer ") +
                    pr.integrity_summary + "; consumer " + cr.integrity_summary;
    return res;
  }
  res.status = run_status::ok;
  return res;
}

run_result assemble_pair(const run_request& req, const group_program& program,
                         const group_reports& b) {
  if (program.members.size() != 2 || b.reports.size() != 2)
    throw std::runtime_error("a pair needs two reports");
  return assemble(req, batch_reports{b.go.count, b.reports[0], b.reports[1], b.go.rtt_batch,
                                     b.go.turnaround_stride});
}

run_result assemble_pairs(const run_request& req, const group_program& program,
                          const group_reports& b) {
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  const std::size_t n = program.members.size() / 2;
  std::int64_t start = 0, end = 0;
  std::vector<double> rates;
  std::string failures;
  for (std::size_t i = 0; i < n; ++i) {
    batch_reports pair{b.go.count, b.reports[2 * i], b.reports[2 * i + 1], b.go.rtt_batch,
                       b.go.turnaround_stride};
    const run_result one = assemble(req, pair);
    res.messages += one.messages;
    res.integrity_errors += one.integrity_errors;
    res.lost += one.lost;
    res.duplicated += one.duplicated;
    res.reordered += one.reordered;
    res.stale += one.stale;
    res.delivered += one.delivered;
    res.goodput = res.goodput || one.goodput;
    for (auto* cpu : {&res.producer_cpu, &res.consumer_cpu}) {
      const peer_cpu& add = cpu == &res.producer_cpu ? one.producer_cpu : one.consumer_cpu;
      cpu->user_ns += add.user_ns;
      cpu->sys_ns += add.sys_ns;
      cpu->total_ns += add.total_ns;
    }
    if (req.pat == pattern::latency) {
      res.rtt.merge(one.rtt);
      res.turnaround.merge(one.turnaround);
      res.turnaround_stride = one.turnaround_stride;
    }
    res.rtt_batch = one.rtt_batch;
    res.clock = one.clock;
    if (one.helper_cpu_ns) res.helper_cpu_ns = res.helper_cpu_ns.value_or(0) + *one.helper_cpu_ns;
    if (i == 0) res.cpu_states = one.cpu_states;
    if (one.status != run_status::ok)
      failures += "pair " + std::to_string(i) + ": " + one.reason + "; ";
    const peer_report& pr = b.reports[2 * i];
    const peer_report& cr = b.reports[2 * i + 1];
    const std::int64_t t0 = pr.t0;
    const std::int64_t t1 = req.pat == pattern::latency ? pr.t1 : cr.t1;
    start = i == 0 ? t0 : std::min(start, t0);
    end = i == 0 ? t1 : std::max(end, t1);
    const std::uint64_t counted = one.goodput ? one.delivered : one.messages;
    rates.push_back(one.elapsed_ns > 0
                        ? static_cast<double>(counted) * 1e9 / static_cast<double>(one.elapsed_ns)
                        : 0.0);
    member_outcome p, c;
    p.r = role::producer;
    c.r = role::consumer;
    p.index = c.index = static_cast<int>(i);
    p.messages = c.messages = one.messages;
    p.elapsed_ns = pr.t1 - pr.t0;
    c.elapsed_ns = cr.t1 - cr.t0;
    p.cpu_ns = pr.cpu.total_ns;
    c.cpu_ns = cr.cpu.total_ns;
    if (req.pat == pattern::latency) p.rtt = one.rtt;
    g.members.push_back(std::move(p));
    g.members.push_back(std::move(c));
  }
  // The aggregate window: the earliest start to the latest end (CLOCK_MONOTONIC is one clock
  // for every process), so the aggregate rate is what the machine moved while any pair ran.
  res.elapsed_ns = end - start;
  if (n > 1) g.fairness = spread_of(rates);
  if (!failures.empty()) {
    failures.resize(failures.size() - 2);
    res.status = run_status::failed;
    res.reason = failures;
    return res;
  }
  res.status = run_status::ok;
  return res;
}

}  // namespace ipcbench
