// What one benchmark run asks for and what it returns. Plain values, coordinator side.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "harness/histogram.hpp"
#include "mechanisms/adapter.hpp"

namespace ipcbench {

enum class placement { cross, same, none };
// CPUs given explicitly (--cpus A,B); producer == consumer means both on one CPU.
struct cpu_pair {
  int producer = -1;
  int consumer = -1;
};
enum class run_status { ok, skipped, failed };
// How the peers come to be: forked from the coordinator (related, they may inherit descriptors),
// or launched as separate programs that rendezvous by name (named channels only).
enum class process_model { fork, spawn };

struct run_request {
  pattern pat = pattern::latency;
  std::size_t message_size = 1;
  placement place = placement::cross;
  std::optional<cpu_pair> cpus;               // explicit CPUs instead of the topology's choice
  double target_time_s = 0.2;                 // timed batch length aimed at
  std::chrono::milliseconds timeout{30'000};  // deadline of every wait on a peer
  std::uint64_t min_messages = 16;
  std::uint64_t max_messages = 2'000'000;
  std::uint64_t fixed_messages = 0;   // >0: exactly this many, no adaptation
  std::uint64_t warmup_messages = 0;  // 0: chosen from the size
  process_model process = process_model::fork;
  // spawn: the program launched in peer mode; the bench binary runs itself, a test names it.
  std::string peer_program = "/proc/self/exe";
  bool lossy = false;  // the mechanism may drop or reorder (traits.lossy): peers count loss
  // Called once the timed batch has been released, with the peers' pids (fault tests).
  std::function<void(pid_t producer, pid_t consumer)> on_go;
};

struct peer_cpu {
  std::int64_t user_ns = 0;
  std::int64_t sys_ns = 0;
};

struct run_result {
  run_status status = run_status::failed;
  std::string reason;          // why skipped or failed
  std::uint64_t messages = 0;  // timed and verified
  std::uint64_t integrity_errors = 0;
  // Lossy mechanisms: messages (latency: round trips) that never arrived, arrived twice, or
  // arrived after a later one; any of them fails the run, and integrity_errors includes them.
  std::uint64_t lost = 0, duplicated = 0, reordered = 0;
  std::int64_t elapsed_ns = 0;  // timed window (throughput: producer start to consumer end)
  histogram rtt;                // latency only
  peer_cpu producer_cpu, consumer_cpu;
  int producer_cpu_id = -1, consumer_cpu_id = -1;

  double cpu_ns_per_message() const noexcept;
  double bytes_per_second(std::size_t message_size) const noexcept;
  double messages_per_second() const noexcept;
};

const char* to_string(placement p) noexcept;
std::optional<placement> parse_placement(const std::string& s) noexcept;
const char* to_string(run_status s) noexcept;
const char* to_string(process_model m) noexcept;
std::optional<process_model> parse_process_model(const std::string& s) noexcept;

}  // namespace ipcbench
