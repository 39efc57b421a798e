#include "cases.hpp"

#include <algorithm>
#include <iterator>
#include <regex>

#include "bench/report.hpp"
#include "harness/calibrate.hpp"
#include "registry/registry.hpp"
#include "report/schema.hpp"
#include "sys/system.hpp"

namespace ipcbench {

mechanism_traits null_traits() {
  mechanism_traits t;
  t.id = "null";
  t.mechanism = "null";
  t.variant = "loopback";
  t.family = "calibration";
  t.kind = channel_kind::calibration;
  t.wait = "none";
  t.description =
      "the harness loop of both peers in one process, no IPC: the floor of every number";
  return t;
}

bool in_process(const mechanism_traits& t) {
  return t.kind == channel_kind::calibration;
}

bool floors_apply(const bench_case& c) {
  return !c.topo || *c.topo == topology::pairs;
}

bool in_headline(const bench_case& c) {
  // A notification carries no payload: its own sizes (traits.sizes) are the wake-up finding's.
  return !c.topo && !c.req.thread_peers && c.traits.kind != channel_kind::calibration &&
         (!c.traits.sizes.empty() ||
          std::ranges::find(kHeadlineSizes, c.req.message_size) != std::end(kHeadlineSizes));
}

bool in_ranking(const bench_case& c) {
  return in_headline(c) && c.traits.sizes.empty() &&
         c.req.message_size == (c.req.pat == pattern::latency ? schema::kRankingLatencySize
                                                              : schema::kRankingThroughputSize);
}

std::vector<bench_case> make_cases(const bench_options& o) {
  std::vector<bench_case> cases;
  auto add = [&](const mechanism_traits& t, pattern p, std::size_t size, placement place,
                 std::function<run_result(const run_request&)> run,
                 std::optional<topology> topo = std::nullopt, std::size_t fan = 0,
                 bool threads = false) {
    bench_case c;
    c.traits = t;
    c.topo = topo;
    c.fan = fan;
    c.req.pat = p;
    c.req.message_size = size;
    c.req.place = place;
    if (place != placement::none) c.req.cpus = o.cpus;
    c.req.target_time_s = o.target_time_s;
    c.req.timeout = std::chrono::seconds(o.timeout_s);
    c.req.process = o.process;
    c.req.thread_peers = threads;
    c.req.library_threads = o.library_threads;
    // Launched peers get their own names, so compare never matches them with forked ones. The
    // null calibration runs in one process under either model.
    c.name = schema::format_name({.id = t.id,
                                  .topology = topo ? to_string(*topo) : "",
                                  .fan = fan,
                                  .pattern = to_string(p),
                                  .message_size = size,
                                  .placement = to_string(place),
                                  .spawned = o.process == process_model::spawn && !in_process(t),
                                  .threads = threads});
    c.run = std::move(run);
    cases.push_back(std::move(c));
  };
  for (pattern p : {pattern::latency, pattern::throughput})
    for (std::size_t size : o.sizes) add(null_traits(), p, size, placement::none, run_null);
  for (const auto& e : registry()) {
    if (e.traits.header_only && !o.header_only) continue;  // moves no data: only when asked for
    // A mechanism with sizes of its own runs at those: notifications carry no payload (size 0
    // only), the real-time signal at 0 and 8 bytes (its sigval).
    const std::vector<std::size_t>& sizes = e.traits.sizes.empty() ? o.sizes : e.traits.sizes;
    for (pattern p : {pattern::latency, pattern::throughput}) {
      if (p == pattern::throughput && !e.traits.supports_throughput) continue;
      if (p == pattern::latency && e.traits.paced) continue;  // a paced stream: throughput only
      // With --peers processes,threads each benchmark's thread form follows its process form.
      for (std::size_t size : sizes) {
        if (o.peers_processes) add(e.traits, p, size, o.place, e.run);
        if (o.peers_threads) add(e.traits, p, size, o.place, e.run, std::nullopt, 0, true);
      }
    }
  }
  // The topology benchmarks, after every one-pair benchmark: a group forks its members, so the
  // fork process model only.
  if (o.process != process_model::fork || !o.peers_processes) return cases;
  const std::size_t cpus = allowed_cpus().size();
  for (const auto& e : registry()) {
    if (e.traits.header_only && !o.header_only) continue;
    for (topology t : e.topologies())
      for (std::size_t n : o.fan) {
        if (!o.fan_given && !fan_fits(t, n, cpus)) continue;
        for (pattern p : {pattern::latency, pattern::throughput}) {
          if (p == pattern::throughput && !e.traits.supports_throughput) continue;
          // Fan-in and fan-out are streams: one consumer's latency is not a round trip.
          if (p == pattern::latency && t != topology::pairs) continue;
          const std::vector<std::size_t> sizes =
              e.traits.sizes.empty()
                  ? topology_sizes_for(o, t, p, e.traits.atomic_write_max.has_value())
                  : e.traits.sizes;
          for (std::size_t size : sizes) {
            auto run = [&e, t, n](const run_request& req) { return e.run_group(req, t, n); };
            add(e.traits, p, size, o.place, run, t, n);
          }
        }
      }
  }
  return cases;
}

std::vector<bench_case> select_matching(std::vector<bench_case> cases, std::string filter) {
  bool negate = false;
  if (!filter.empty() && filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  if (filter.empty() || filter == "all") filter = ".";
  std::regex re;
  try {
    re = std::regex(filter, std::regex::extended);
  } catch (const std::regex_error& e) {
    throw usage_error("--benchmark_filter '" + filter + "' is not a valid regular expression");
  }
  // The report's name (pipe/latency/64/cross) or Google Benchmark's, with its suffix: a filter
  // anchored at the end of either selects.
  std::erase_if(cases, [&](const bench_case& c) {
    const bool match =
        std::regex_search(c.name, re) || std::regex_search(c.name + kGoogleSuffix, re);
    return match == negate;
  });
  return cases;
}

}  // namespace ipcbench
