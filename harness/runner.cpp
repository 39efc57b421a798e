#include "runner.hpp"

namespace ipcbench {

std::string cannot_run(const mechanism_traits& traits, const run_request& req) {
  if (traits.max_message && req.message_size > *traits.max_message) {
    return "message size " + std::to_string(req.message_size) + " exceeds the largest message " +
           traits.mechanism + " carries here (" + std::to_string(*traits.max_message) + " bytes, " +
           traits.max_message_source + ")";
  }
  return {};
}

std::string cannot_run_group(const run_request& req, std::size_t n) {
  if (req.process != process_model::fork)
    return "a group of peers runs in the fork process model only";
  if (n == 0 || n > kMaxGroupSize)
    return "group size " + std::to_string(n) + " outside 1.." + std::to_string(kMaxGroupSize);
  return {};
}

}  // namespace ipcbench
