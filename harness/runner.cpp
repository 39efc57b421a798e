#include "runner.hpp"

#include <cstdio>

namespace ipcbench {

std::string cannot_run(const mechanism_traits& traits, const run_request& req) {
  if (traits.max_message && req.message_size > *traits.max_message) {
    return "message size " + std::to_string(req.message_size) + " exceeds the largest message " +
           traits.mechanism + " carries here (" + std::to_string(*traits.max_message) + " bytes, " +
           traits.max_message_source + ")";
  }
  if (req.thread_peers && !traits.no_thread_peers.empty())
    return "peers as threads: " + traits.no_thread_peers;
  if (req.thread_peers && req.process != process_model::fork)
    return "peers as threads need the fork process model";
  return {};
}

std::string cannot_run_group(const run_request& req, std::size_t n) {
  if (req.process != process_model::fork)
    return "a group of peers runs in the fork process model only";
  if (req.thread_peers) return "a group's peers are processes only";
  if (n == 0 || n > kMaxGroupSize)
    return "group size " + std::to_string(n) + " outside 1.." + std::to_string(kMaxGroupSize);
  return {};
}

std::string cannot_run_fan_out(const mechanism_traits& traits, const run_request& req,
                               std::size_t n, std::size_t min_size) {
  if (std::string why = cannot_run(traits, req); !why.empty()) return why;
  if (std::string why = cannot_run_group(req, n); !why.empty()) return why;
  if (req.pat != pattern::throughput) return "fan-out is a stream: throughput only";
  if (req.message_size < min_size)
    return "work-queue records carry their sequence number in " + std::to_string(min_size) +
           " bytes; " + std::to_string(req.message_size) + " is too small";
  return {};
}

run_request paced_request(const run_request& req, double rate, double time_s,
                          std::uint64_t min_messages) {
  run_request r = req;
  r.send_rate = rate;
  r.target_time_s = time_s;
  r.min_messages = min_messages;
  if (rate > 0 && req.warmup_messages == 0) {
    const double quarter = rate * time_s / 4;
    r.warmup_messages = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::llround(quarter)),
                                                  4, warmup_count(req));
  }
  return r;
}

std::string no_rate_reason(const rate_search_result& s) {
  char head[64];
  std::snprintf(head, sizeof head, "no rate tried lost less than %.1f %% (", kMaxPacedLoss * 100);
  std::string why = head;
  for (std::size_t i = 0; i < s.trials.size(); ++i) {
    char one[80];
    std::snprintf(one, sizeof one, "%s%.0f msg/s: %.2f %%", i == 0 ? "" : ", ", s.trials[i].rate,
                  s.trials[i].loss * 100);
    why += one;
  }
  return why + ")";
}

}  // namespace ipcbench
