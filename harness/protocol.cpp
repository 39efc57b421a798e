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
  j["count"] = m.count;
}
void from_json(const nlohmann::json& j, go_order& m) {
  m.count = j.at("count").get<std::uint64_t>();
}

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
  if (m.rtt) j["rtt"] = m.rtt->to_json();
  if (m.loss) {
    j["lost"] = m.loss->lost;
    j["duplicated"] = m.loss->duplicated;
    j["reordered"] = m.loss->reordered;
    j["expected"] = m.loss->expected;
    j["stale"] = m.loss->stale;
    j["delivered"] = m.loss->delivered;
  }
}

void from_json(const nlohmann::json& j, peer_report& m) {
  m.messages = j.at("messages").get<std::uint64_t>();
  m.integrity_errors = j.at("integrity_errors").get<std::uint64_t>();
  m.integrity_summary = j.at("integrity_summary").get<std::string>();
  m.t0 = j.at("t0").get<std::int64_t>();
  m.t1 = j.at("t1").get<std::int64_t>();
  m.cpu = {j.at("user_ns").get<std::int64_t>(), j.at("sys_ns").get<std::int64_t>()};
  m.rtt.reset();
  if (j.contains("rtt")) m.rtt = histogram::from_json(j.at("rtt"));
  m.loss.reset();
  if (j.contains("lost"))
    m.loss =
        loss_counts{j.value("lost", std::uint64_t{0}),      j.value("duplicated", std::uint64_t{0}),
                    j.value("reordered", std::uint64_t{0}), j.value("expected", std::uint64_t{0}),
                    j.value("stale", std::uint64_t{0}),     j.value("delivered", std::uint64_t{0})};
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
  j = {{"pattern", to_string(req.pat)},
       {"message_size", req.message_size},
       {"timeout_ms", req.timeout.count()},
       {"lossy", req.lossy}};
}

void from_json(const nlohmann::json& j, run_request& req) {
  const auto pat = j.at("pattern").get<std::string>();
  if (pat != "latency" && pat != "throughput")
    throw std::invalid_argument("unknown pattern '" + pat + "'");
  req.pat = pat == "latency" ? pattern::latency : pattern::throughput;
  req.message_size = j.at("message_size").get<std::size_t>();
  req.timeout = std::chrono::milliseconds(j.at("timeout_ms").get<std::int64_t>());
  req.lossy = j.value("lossy", false);
}

}  // namespace ipcbench
