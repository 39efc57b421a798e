// What one benchmark run asks for and what it returns. Plain values, coordinator side.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/histogram.hpp"
#include "harness/library_threads.hpp"
#include "mechanisms/adapter.hpp"

namespace ipcbench {

enum class placement { cross, same, none };
// CPUs given explicitly (--cpus A,B); producer == consumer means both on one CPU.
struct cpu_pair {
  int producer = -1;
  int consumer = -1;
};
enum class run_status { ok, skipped, failed };
// Many processes on one benchmark (harness/coordinator.hpp): N independent pairs at once, N
// producers into one consumer over one channel, one producer to N consumers.
enum class topology { pairs, fan_in, fan_out };
// How the peers come to be: forked from the coordinator (related, they may inherit descriptors),
// or launched as separate programs that rendezvous by name (named channels only).
enum class process_model { fork, spawn };
// Where the threads a library starts in a peer (ZeroMQ's I/O thread, nng's pollers, gRPC's) may
// run (--library-threads): pinned to the peer's own CPU with the peer's thread, as `taskset -c
// CPU` pins a whole process (default), or free on every CPU the run may use while the peer's own
// thread alone is pinned.
enum class library_threads_mode { pinned, free };

struct run_request {
  pattern pat = pattern::latency;
  std::size_t message_size = 1;
  placement place = placement::cross;
  std::optional<cpu_pair> cpus;  // explicit CPUs instead of the topology's choice
  double target_time_s = 0.2;    // timed batch length aimed at
  // Deadline of every wait on a peer; the wait for the peers to open their channel is at least
  // kOpenPatience (coordinator.cpp): starting a broker or a spawned program is not what it times.
  std::chrono::milliseconds timeout{30'000};
  std::uint64_t min_messages = 16;
  std::uint64_t max_messages = 2'000'000;
  std::uint64_t fixed_messages = 0;   // >0: exactly this many, no adaptation
  std::uint64_t warmup_messages = 0;  // 0: chosen from the size
  process_model process = process_model::fork;
  // The two peers of one pair are threads of one forked process (--peers threads), each pinned
  // as a process peer would be, with its own control channel: the same channel and the same
  // checks, without process isolation. Fork model, one pair only.
  bool thread_peers = false;
  // spawn: the program launched in peer mode; the bench binary runs itself, a test names it.
  std::string peer_program = "/proc/self/exe";
  bool lossy = false;  // the mechanism may drop or reorder (traits.lossy): peers count loss
  // A stream's producer sends at most this many messages per second, on an absolute schedule
  // (harness/pacer.hpp), in every batch of the run; 0: back to back (unpaced).
  double send_rate = 0;
  // Mean cost of one clock read (calibration), ns; 0: unknown. A latency run whose round trip is
  // too short for one clock read per sample to be negligible times batches of round trips.
  double timer_ns = 0;
  // A library that starts threads of its own in each peer (traits.library_threads): the run's
  // allowed CPUs (the peer's own thread is pinned as usual). Empty: no such library. With
  // library_threads free those threads start while the peer may run on all of them; pinned, they
  // start on the peer's own CPU and stay there.
  std::vector<int> library_cpus;
  library_threads_mode library_threads = library_threads_mode::pinned;
  // A member of a topology (pairs/N, fan_in, ...), set by the runner: its report's library
  // threads are not kept, so the peer does not read them. Forked members only, never sent.
  bool group_member = false;
  // Nanoseconds per tick of an invariant time-stamp counter (calibration); 0: none. Round trips
  // too short for two clock reads each are then timed one by one with one TSC read each, so
  // their tails are measured; without it, a sample is the mean of rtt_batch round trips.
  double tsc_ns_per_tick = 0;
  // Helper processes the mechanism runs beside the peers (a bus daemon, a broker): the producer
  // reads their CPU time (/proc/<pid>/stat) over the timed batch. Empty for most mechanisms.
  std::vector<pid_t> helper_pids;
  // Called once the timed batch has been released, with the peers' pids (fault tests).
  std::function<void(pid_t producer, pid_t consumer)> on_go;
};

// From now on cpu_now() (harness/peer.hpp) reads this thread's CPU time, not its process's: a
// thread peer (run_request::thread_peers) shares its process with its partner.
void use_thread_clocks() noexcept;

// A peer's CPU time. total_ns is exact (CLOCK_PROCESS_CPUTIME_ID); the user/system split comes
// from getrusage, which the kernel apportions from tick samples, so it is approximate.
struct peer_cpu {
  std::int64_t user_ns = 0;
  std::int64_t sys_ns = 0;
  std::int64_t total_ns = 0;
};

// What /proc/stat says one CPU spent, by state, in USER_HZ ticks converted to nanoseconds (so
// the resolution is one tick, 10 ms at USER_HZ 100). Time spent for anyone: softirq and irq
// work that loopback networking does in the kernel shows here and not in a peer's own clock.
struct cpu_state_times {
  std::int64_t user_ns = 0, nice_ns = 0, system_ns = 0, idle_ns = 0, iowait_ns = 0, irq_ns = 0,
               softirq_ns = 0, steal_ns = 0;
};
// The line of `cpu` in /proc/stat (or in `stat_text`, for tests); nullopt if absent.
std::optional<cpu_state_times> read_cpu_state_times(int cpu);
std::optional<cpu_state_times> parse_cpu_state_times(const std::string& stat_text, int cpu);
cpu_state_times operator-(const cpu_state_times& a, const cpu_state_times& b) noexcept;

// The per-CPU deltas over a peer's timed batch: the CPUs the peers are pinned to.
struct cpu_window {
  std::int64_t window_ns = 0;  // how long the two readings were apart
  std::map<int, cpu_state_times> cpus;
};

// Coefficient of variation (population standard deviation over the mean) and min/max of a set
// of per-member numbers: how evenly a group shared the channel.
struct spread {
  double cv = 0;
  double min_over_max = 1;
};
// The spread of `values`; {0, 1} for fewer than two values or a zero mean. Exact on known inputs
// (tests).
spread spread_of(const std::vector<double>& values);

// One member of a group run (harness/coordinator.hpp).
struct member_outcome {
  role r = role::producer;
  int index = 0;
  int cpu = -1;                       // pinned to; -1: not pinned
  std::uint64_t messages = 0;         // sent (producer) or received (consumer) in the timed batch
  std::int64_t elapsed_ns = 0;        // its own timed window
  std::int64_t cpu_ns = 0;            // its CPU time over the window
  histogram rtt;                      // pairs/N latency, the producer: this pair's round trips
  std::optional<std::uint64_t> torn;  // fan_in/N consumer of a stream: records not whole
  // fan_in/N and fan_out/N: one-way delay of the sampled timed records (harness/delay.hpp) this
  // member sent (a producer) or took (a consumer).
  histogram delay;
};

// fan_in/N and fan_out/N: the one-way delay of a second run whose producers were paced at
// about half the saturated run's rate (harness/runner.hpp with_paced_delay), measured from each
// sampled record's scheduled send time: the delay of a channel with room to spare, where the
// saturated run's delay is mostly the queue (Little's law: its buffer over its rate).
struct paced_delay {
  double rate_per_producer = 0;  // messages/s each producer was paced to
  histogram delay;               // the lone member's (fan-in's consumer, fan-out's producer)
  std::string failure;           // why the paced run gave no delay (skipped); empty when it did
};

// What a group run adds to its run_result: where every process ran and what each did.
struct group_outcome {
  topology topo = topology::pairs;
  std::size_t n = 0;
  std::size_t allowed_cpus = 0;
  bool oversubscribed = false;  // more peers than allowed CPUs
  std::string placement_reason;
  std::vector<member_outcome> members;
  std::optional<paced_delay> paced;  // fan_in/N and fan_out/N streams
  // The spread of the producers' rates (each its messages over its own window): how fairly the
  // channel served them. Set when there are producers sharing one channel, or pairs sharing the
  // machine.
  std::optional<spread> fairness;
  // fan_in/N over a stream: records that did not arrive whole (a write above PIPE_BUF split
  // by the kernel and interleaved with another producer's), reassembled and checked.
  std::optional<std::uint64_t> torn_records;
};

enum class rtt_clock { clock_gettime, tsc };

struct run_result {
  run_status status = run_status::failed;
  std::string reason;          // why skipped or failed
  std::uint64_t messages = 0;  // timed and verified
  std::uint64_t integrity_errors = 0;
  // Lossy mechanisms, of the timed batch alone: messages (latency: round trips) that never
  // arrived, arrived twice, or arrived after a later one. In a latency run any of them fails the
  // run, and integrity_errors includes them; in a stream they are what the channel did and the
  // run is ok when every message that arrived was intact (see goodput).
  std::uint64_t lost = 0, duplicated = 0, reordered = 0;
  // Lossy mechanisms: messages of an earlier batch (the warm-up) that arrived during the timed
  // batch; counted in no other number here.
  std::uint64_t stale = 0;
  // A lossy stream: bytes_per_second() and messages_per_second() count only the `delivered`
  // messages (distinct, arrived intact), i.e. goodput; loss_rate() is lost / messages.
  bool goodput = false;
  std::uint64_t delivered = 0;
  // A paced stream (run_paced, harness/rate_search.hpp): the rate the producer was paced to in
  // the timed batch (messages/s; what was achieved is messages_per_second()), and how many short
  // trial batches the search ran before it, the unpaced one included. 0 and 0 for every other run.
  double target_rate = 0;
  std::uint64_t rate_trials = 0;
  std::int64_t elapsed_ns = 0;  // timed window (throughput: producer start to consumer end)
  histogram rtt;                // latency only
  peer_cpu producer_cpu, consumer_cpu;
  int producer_cpu_id = -1, consumer_cpu_id = -1;
  // Latency: how many round trips each sample of `rtt` averages (1: every round trip timed).
  std::uint64_t rtt_batch = 1;
  // Latency: how the samples of `rtt` were timed (rtt_clock_name()).
  rtt_clock clock = rtt_clock::clock_gettime;
  // Latency: the consumer's turnaround (reply handed over minus request received), sampled.
  histogram turnaround;
  std::uint64_t turnaround_stride = 0;   // every how many round trips it was sampled; 0: none
  std::optional<cpu_window> cpu_states;  // the pinned CPUs over the timed batch (/proc/stat)
  // The helper processes' (run_request::helper_pids) CPU time over the timed batch, from their
  // CPU clocks in nanoseconds (process_cpu_ns); nullopt without helpers.
  std::optional<std::int64_t> helper_cpu_ns;
  // How long each peer's thread waited runnable for its CPU over the timed batch (peer_report::
  // waited_ns), one producer and one consumer only; nullopt where not read.
  std::optional<std::int64_t> producer_waited_ns, consumer_waited_ns;
  bool helpers = false;  // the mechanism ran helper processes beside the peers (a bus daemon)
  // Where each peer's library threads ran (harness/library_threads.hpp); nullopt for a mechanism
  // without them, thread peers, or a peer not pinned to one CPU.
  std::optional<library_time> producer_library, consumer_library;
  std::optional<group_outcome> group;  // group runs only (harness/coordinator.hpp)
  // The timed batch's parts in order (go_order::sub_batches), one pair only: each part's median
  // round trip in ns (latency) or its rate in bytes per second (throughput: the first part from
  // the producer's start, each later one from the consumer's end of the part before). Empty
  // where the batch was not split.
  std::vector<double> sub_values;

  // Both peers' CPU time, plus the helpers' (helper_cpu_ns) when there are any, per message.
  double cpu_ns_per_message() const noexcept;
  double bytes_per_second(std::size_t message_size) const noexcept;
  double messages_per_second() const noexcept;
  double loss_rate() const noexcept;  // lost / messages; 0 without messages
};

// How a latency sample was timed: clock_gettime: two clock reads around each round trip, or one
// pair around a batch of rtt_batch of them (the sample is then their mean); tsc: one read of
// the time-stamp counter after each round trip (the previous read starts it), so each sample is
// one round trip, that read included (ping_pong in harness/peer.hpp).
const char* to_string(rtt_clock c) noexcept;

const char* to_string(placement p) noexcept;
std::optional<placement> parse_placement(const std::string& s) noexcept;
const char* to_string(run_status s) noexcept;
const char* to_string(topology t) noexcept;  // "pairs", "fan_in", "fan_out"
std::optional<topology> parse_topology(const std::string& s) noexcept;
const char* to_string(process_model m) noexcept;
std::optional<process_model> parse_process_model(const std::string& s) noexcept;
const char* to_string(library_threads_mode m) noexcept;
std::optional<library_threads_mode> parse_library_threads_mode(const std::string& s) noexcept;

}  // namespace ipcbench
