#include "session.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "harness/peer.hpp"

namespace ipcbench {

double run_result::cpu_ns_per_message() const noexcept {
  if (messages == 0) return 0;
  const auto total = producer_cpu.total_ns + consumer_cpu.total_ns + helper_cpu_ns.value_or(0);
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

const char* to_string(rtt_clock c) noexcept {
  return c == rtt_clock::tsc ? "tsc" : "clock_gettime";
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

const char* to_string(topology t) noexcept {
  switch (t) {
    case topology::pairs:
      return "pairs";
    case topology::fan_in:
      return "fan_in";
    case topology::fan_out:
      return "fan_out";
  }
  return "?";
}

std::optional<topology> parse_topology(const std::string& s) noexcept {
  for (topology t : {topology::pairs, topology::fan_in, topology::fan_out})
    if (s == to_string(t)) return t;
  return std::nullopt;
}

const char* to_string(process_model m) noexcept {
  return m == process_model::fork ? "fork" : "spawn";
}

std::optional<process_model> parse_process_model(const std::string& s) noexcept {
  if (s == "fork") return process_model::fork;
  if (s == "spawn") return process_model::spawn;
  return std::nullopt;
}

const char* to_string(library_threads_mode m) noexcept {
  return m == library_threads_mode::pinned ? "pinned" : "free";
}

std::optional<library_threads_mode> parse_library_threads_mode(const std::string& s) noexcept {
  if (s == "pinned") return library_threads_mode::pinned;
  if (s == "free") return library_threads_mode::free;
  return std::nullopt;
}

namespace {
thread_local bool t_thread_clocks = false;
}  // namespace

void use_thread_clocks() noexcept {
  t_thread_clocks = true;
}

peer_cpu cpu_now() noexcept {
  rusage ru{};
  ::getrusage(t_thread_clocks ? RUSAGE_THREAD : RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
           static_cast<std::int64_t>(tv.tv_usec) * 1000;
  };
  timespec ts{};
  ::clock_gettime(t_thread_clocks ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts);
  return {ns(ru.ru_utime), ns(ru.ru_stime), timespec_ns(ts)};
}

std::optional<cpu_state_times> parse_cpu_state_times(const std::string& stat_text, int cpu) {
  const std::string label = "cpu" + std::to_string(cpu) + " ";
  std::size_t at = 0;
  for (;;) {
    at = stat_text.find(label, at);
    if (at == std::string::npos) return std::nullopt;
    if (at == 0 || stat_text[at - 1] == '\n') break;
    at += label.size();
  }
  const std::size_t from = at + label.size();
  const std::size_t end = stat_text.find('\n', from);
  std::istringstream in(stat_text.substr(from, end == std::string::npos ? end : end - from));
  unsigned long long v[8] = {};
  for (auto& x : v)
    if (!(in >> x)) return std::nullopt;
  static const long hz = ::sysconf(_SC_CLK_TCK);
  const std::int64_t tick = 1'000'000'000LL / (hz > 0 ? hz : 100);
  auto ns = [&](unsigned long long t) { return static_cast<std::int64_t>(t) * tick; };
  return cpu_state_times{ns(v[0]), ns(v[1]), ns(v[2]), ns(v[3]),
                         ns(v[4]), ns(v[5]), ns(v[6]), ns(v[7])};
}

std::optional<cpu_state_times> read_cpu_state_times(int cpu) {
  std::ifstream in("/proc/stat");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_cpu_state_times(text.str(), cpu);
}

cpu_state_times operator-(const cpu_state_times& a, const cpu_state_times& b) noexcept {
  return {a.user_ns - b.user_ns,       a.nice_ns - b.nice_ns,     a.system_ns - b.system_ns,
          a.idle_ns - b.idle_ns,       a.iowait_ns - b.iowait_ns, a.irq_ns - b.irq_ns,
          a.softirq_ns - b.softirq_ns, a.steal_ns - b.steal_ns};
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

spread spread_of(const std::vector<double>& values) {
  spread s;
  if (values.size() < 2) return s;
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  const double mean = sum / static_cast<double>(values.size());
  if (mean <= 0) return s;
  double sq = 0;
  for (double v : values) sq += (v - mean) * (v - mean);
  s.cv = std::sqrt(sq / static_cast<double>(values.size())) / mean;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min_over_max = *hi > 0 ? *lo / *hi : 1;
  return s;
}

}  // namespace ipcbench
