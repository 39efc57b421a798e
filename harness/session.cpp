#include "session.hpp"

#include "harness/peer.hpp"

namespace ipcbench {

double run_result::cpu_ns_per_message() const noexcept {
  if (messages == 0) return 0;
  const auto total =
      producer_cpu.user_ns + producer_cpu.sys_ns + consumer_cpu.user_ns + consumer_cpu.sys_ns;
  return static_cast<double>(total) / static_cast<double>(messages);
}

double run_result::bytes_per_second(std::size_t message_size) const noexcept {
  return messages_per_second() * static_cast<double>(message_size);
}

double run_result::messages_per_second() const noexcept {
  const std::uint64_t counted = goodput ? delivered : messages;
  return elapsed_ns > 0 ? static_cast<double>(counted) * 1e9 / static_cast<double>(elapsed_ns) : 0;
}

double run_result::loss_rate() const noexcept {
  return messages > 0 ? static_cast<double>(lost) / static_cast<double>(messages) : 0;
}

const char* to_string(placement p) noexcept {
  switch (p) {
    case placement::cross:
      return "cross";
    case placement::same:
      return "same";
    case placement::none:
      return "none";
  }
  return "?";
}

std::optional<placement> parse_placement(const std::string& s) noexcept {
  if (s == "cross") return placement::cross;
  if (s == "same") return placement::same;
  if (s == "none") return placement::none;
  return std::nullopt;
}

const char* to_string(run_status s) noexcept {
  switch (s) {
    case run_status::ok:
      return "ok";
    case run_status::skipped:
      return "skipped";
    case run_status::failed:
      return "failed";
  }
  return "?";
}

const char* to_string(process_model m) noexcept {
  return m == process_model::fork ? "fork" : "spawn";
}

std::optional<process_model> parse_process_model(const std::string& s) noexcept {
  if (s == "fork") return process_model::fork;
  if (s == "spawn") return process_model::spawn;
  return std::nullopt;
}

peer_cpu cpu_now() noexcept {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
           static_cast<std::int64_t>(tv.tv_usec) * 1000;
  };
  return {ns(ru.ru_utime), ns(ru.ru_stime)};
}

void throw_channel_closed(const char* op, std::uint64_t seq) {
  throw peer_channel_closed(std::string("channel closed by the other peer (") + op +
                            " of message " + std::to_string(seq) + ")");
}

void throw_receive_failed(std::ptrdiff_t code, std::uint64_t seq) {
  if (code == kTimedOut)
    throw peer_channel_closed("receive of message " + std::to_string(seq) +
                              " timed out: the message was lost");
  throw_channel_closed("receive", seq);
}

}  // namespace ipcbench
