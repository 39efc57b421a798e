#include "protocol.hpp"

#include <stdexcept>

namespace ipcbench {
namespace {

// Every message carries its type, so the receiver can tell an error from what it waits for.
nlohmann::json typed(const char* type) {
  return {{"type", type}};
}

}  // namespace

void to_json(nlohmann::json& j, const opened_notice&) {
  j = typed(opened_notice::kType);
}
void from_json(const nlohmann::json&, opened_notice&) {}

void to_json(nlohmann::json& j, const warmup_order& m) {
  j = typed(warmup_order::kType);
  j["count"] = m.count;
}
void from_json(const nlohmann::json& j, warmup_order& m) {
  m.count = j.at("count").get<std::uint64_t>();
}

void to_json(nlohmann::json& j, const warm_notice& m) {
  j = typed(warm_notice::kType);
  j["ns"] = m.ns;
}
void from_json(const nlohmann::json& j, warm_notice& m) {
  m.ns = j.at("ns").get<std::int64_t>();
}

void to_json(nlohmann::json& j, const go_order& m) {
  j = typed(go_order::kType);
  j["warm"] = m.warm;
  j["count"] = m.count;
  j["rtt_batch"] = m.rtt_batch;
  j["turnaround_stride"] = m.turnaround_stride;
  j["stat_cpus"] = m.stat_cpus;
  if (!m.helper_pids.empty()) j["helper_pids"] = m.helper_pids;
  if (m.barrier) j["barrier_ms"] = m.barrier_ms;
  if (m.sub_batches != 0) j["sub_batches"] = m.sub_batches;
}
void from_json(const nlohmann::json& j, go_order& m) {
  m.warm = j.at("warm").get<std::uint64_t>();
  m.count = j.at("count").get<std::uint64_t>();
  m.rtt_batch = j.at("rtt_batch").get<std::uint64_t>();
  m.turnaround_stride = j.at("turnaround_stride").get<std::uint64_t>();
  m.stat_cpus = j.at("stat_cpus").get<std::vector<int>>();
  m.helper_pids = j.value("helper_pids", std::vector<int>{});
  m.barrier = j.contains("barrier_ms");
  m.barrier_ms = j.value("barrier_ms", std::int64_t{0});
  m.sub_batches = j.value("sub_batches", std::uint64_t{0});
}

void to_json(nlohmann::json& j, const warmed_notice&) {
  j = typed(warmed_notice::kType);
}
void from_json(const nlohmann::json&, warmed_notice&) {}

void to_json(nlohmann::json& j, const start_order&) {
  j = typed(start_order::kType);
}
void from_json(const nlohmann::json&, start_order&) {}

namespace {

nlohmann::json state_times_json(const cpu_state_times& t) {
  return {{"user_ns", t.user_ns},       {"nice_ns", t.nice_ns},     {"system_ns", t.system_ns},
          {"idle_ns", t.idle_ns},       {"iowait_ns", t.iowait_ns}, {"irq_ns", t.irq_ns},
          {"softirq_ns", t.softirq_ns}, {"steal_ns", t.steal_ns}};
}

cpu_state_times cpu_state_times_from(const nlohmann::json& j) {
  return {j.at("user_ns").get<std::int64_t>(),    j.at("nice_ns").get<std::int64_t>(),
          j.at("system_ns").get<std::int64_t>(),  j.at("idle_ns").get<std::int64_t>(),
          j.at("iowait_ns").get<std::int64_t>(),  j.at("irq_ns").get<std::int64_t>(),
          j.at("softirq_ns").get<std::int64_t>(), j.at("steal_ns").get<std::int64_t>()};
}

}  // namespace

// Flat on the wire: the CPU times and the loss counts sit beside the other fields.
void to_json(nlohmann::json& j, const peer_report& m) {
  j = typed(peer_report::kType);
  j["messages"] = m.messages;
  j["integrity_errors"] = m.integrity_errors;
  j["integrity_summary"] = m.integrity_summary;
  j["t0"] = m.t0;
  j["t1"] = m.t1;
  j["user_ns"] = m.cpu.user_ns;
  j["sys_ns"] = m.cpu.sys_ns;
  j["cpu_ns"] = m.cpu.total_ns;
  if (m.rtt) j["rtt"] = m.rtt->to_json();
  if (m.turnaround) j["turnaround"] = m.turnaround->to_json();
  if (m.cpu_states) {
    nlohmann::json cpus = nlohmann::json::object();
    for (const auto& [cpu, t] : m.cpu_states->cpus) cpus[std::to_string(cpu)] = state_times_json(t);
    j["cpu_states"] = {{"window_ns", m.cpu_states->window_ns}, {"cpus", std::move(cpus)}};
  }
  if (m.helper_cpu_ns) j["helper_cpu_ns"] = *m.helper_cpu_ns;
  if (m.waited_ns) j["waited_ns"] = *m.waited_ns;
  if (m.library)
    j["library"] = {{"own_cpu_ns", m.library->own_cpu_ns},
                    {"other_cpu_ns", m.library->other_cpu_ns},
                    {"moved_ns", m.library->moved_ns},
                    {"threads", m.library->threads},
                    {"window_ns", m.library->window_ns}};
  if (m.loss) {
    j["lost"] = m.loss->lost;
    j["duplicated"] = m.loss->duplicated;
    j["reordered"] = m.loss->reordered;
    j["expected"] = m.loss->expected;
    j["stale"] = m.loss->stale;
    j["delivered"] = m.loss->delivered;
  }
  if (m.torn) j["torn"] = *m.torn;
  if (m.work_hash) j["work_hash"] = *m.work_hash;
  if (!m.delay_ns.empty()) j["delay_ns"] = m.delay_ns;
  if (!m.sub_ends_ns.empty()) j["sub_ends_ns"] = m.sub_ends_ns;
  if (!m.sub_p50_ns.empty()) j["sub_p50_ns"] = m.sub_p50_ns;
}

void from_json(const nlohmann::json& j, peer_report& m) {
  m.messages = j.at("messages").get<std::uint64_t>();
  m.integrity_errors = j.at("integrity_errors").get<std::uint64_t>();
  m.integrity_summary = j.at("integrity_summary").get<std::string>();
  m.t0 = j.at("t0").get<std::int64_t>();
  m.t1 = j.at("t1").get<std::int64_t>();
  m.cpu = {j.at("user_ns").get<std::int64_t>(), j.at("sys_ns").get<std::int64_t>(),
           j.at("cpu_ns").get<std::int64_t>()};
  m.rtt.reset();
  if (j.contains("rtt")) m.rtt = histogram::from_json(j.at("rtt"));
  m.turnaround.reset();
  if (j.contains("turnaround")) m.turnaround = histogram::from_json(j.at("turnaround"));
  m.cpu_states.reset();
  if (j.contains("cpu_states")) {
    cpu_window w;
    w.window_ns = j.at("cpu_states").at("window_ns").get<std::int64_t>();
    for (const auto& [cpu, t] : j.at("cpu_states").at("cpus").items())
      w.cpus[std::stoi(cpu)] = cpu_state_times_from(t);
    m.cpu_states = std::move(w);
  }
  m.helper_cpu_ns.reset();
  if (j.contains("helper_cpu_ns")) m.helper_cpu_ns = j.at("helper_cpu_ns").get<std::int64_t>();
  m.waited_ns.reset();
  if (j.contains("waited_ns")) m.waited_ns = j.at("waited_ns").get<std::int64_t>();
  m.library.reset();
  if (j.contains("library")) {
    const auto& l = j.at("library");
    m.library =
        library_time{l.at("own_cpu_ns").get<std::int64_t>(),
                     l.at("other_cpu_ns").get<std::int64_t>(), l.at("moved_ns").get<std::int64_t>(),
                     l.at("threads").get<std::uint32_t>(), l.at("window_ns").get<std::int64_t>()};
  }
  m.loss.reset();
  if (j.contains("lost"))
    m.loss =
        loss_counts{j.value("lost", std::uint64_t{0}),      j.value("duplicated", std::uint64_t{0}),
                    j.value("reordered", std::uint64_t{0}), j.value("expected", std::uint64_t{0}),
                    j.value("stale", std::uint64_t{0}),     j.value("delivered", std::uint64_t{0})};
  m.torn.reset();
  if (j.contains("torn")) m.torn = j.at("torn").get<std::uint64_t>();
  m.work_hash.reset();
  if (j.contains("work_hash")) m.work_hash = j.at("work_hash").get<std::uint64_t>();
  m.delay_ns.clear();
  if (j.contains("delay_ns"))
    m.delay_ns = j.at("delay_ns").get<std::vector<std::vector<std::int64_t>>>();
  m.sub_ends_ns = j.value("sub_ends_ns", std::vector<std::int64_t>{});
  m.sub_p50_ns = j.value("sub_p50_ns", std::vector<std::int64_t>{});
}

void to_json(nlohmann::json& j, const exit_order&) {
  j = typed(exit_order::kType);
}
void from_json(const nlohmann::json&, exit_order&) {}

void to_json(nlohmann::json& j, const peer_error& m) {
  j = typed(peer_error::kType);
  j["what"] = m.what;
}
void from_json(const nlohmann::json& j, peer_error& m) {
  m.what = j.at("what").get<std::string>();
}

void to_json(nlohmann::json& j, const run_request& req) {
  j = {{"pattern", to_string(req.pat)},     {"message_size", req.message_size},
       {"timeout_ms", req.timeout.count()}, {"lossy", req.lossy},
       {"send_rate", req.send_rate},        {"timer_ns", req.timer_ns}};
  if (!req.library_cpus.empty()) {
    j["library_cpus"] = req.library_cpus;
    j["library_threads"] = to_string(req.library_threads);
  }
  if (req.tsc_ns_per_tick > 0) j["tsc_ns_per_tick"] = req.tsc_ns_per_tick;
}

void from_json(const nlohmann::json& j, run_request& req) {
  const auto pat = j.at("pattern").get<std::string>();
  if (pat != "latency" && pat != "throughput")
    throw std::invalid_argument("unknown pattern '" + pat + "'");
  req.pat = pat == "latency" ? pattern::latency : pattern::throughput;
  req.message_size = j.at("message_size").get<std::size_t>();
  req.timeout = std::chrono::milliseconds(j.at("timeout_ms").get<std::int64_t>());
  req.lossy = j.value("lossy", false);
  req.send_rate = j.value("send_rate", 0.0);
  req.timer_ns = j.value("timer_ns", 0.0);
  req.library_cpus = j.value("library_cpus", std::vector<int>{});
  const auto threads = j.value("library_threads", std::string("pinned"));
  const auto mode = parse_library_threads_mode(threads);
  if (!mode) throw std::invalid_argument("unknown library_threads '" + threads + "'");
  req.library_threads = *mode;
  req.tsc_ns_per_tick = j.value("tsc_ns_per_tick", 0.0);
}

}  // namespace ipcbench
