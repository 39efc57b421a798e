#include "coordinator.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/spawn.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/mapping.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The thread ids of thread peers (run_request::thread_peers), written by each thread before it
// opens its end: its own /proc/<tid>/stat says what it is doing and the CPU it used.
struct thread_ids {
  std::array<std::atomic<pid_t>, 2> tid{};
};

struct member_peer {
  group_member who;
  bool in_group = false;  // named with its index ("producer 2"); one pair's are not
  // The member's process; for thread peers, the first member's holds the one process both
  // threads run in, and `host` points to it from the other.
  child_process proc;
  child_process* host = nullptr;
  const std::atomic<pid_t>* tid = nullptr;  // a thread peer's thread id, 0 until it has started
  control_link link;
  nlohmann::json reply;  // last message received in the current phase

  child_process& process() noexcept { return host != nullptr ? *host : proc; }
  const child_process& process() const noexcept { return host != nullptr ? *host : proc; }
  bool is_thread() const noexcept { return tid != nullptr; }
  // Whose /proc/<id>/stat describes this member: its thread, once known, else its process.
  pid_t stat_id() const noexcept {
    const pid_t t = tid != nullptr ? tid->load(std::memory_order_acquire) : 0;
    return t > 0 ? t : process().pid();
  }
};

struct phase_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What /proc/<pid>/stat says a member is doing.
enum class member_state { gone, running, blocked, stopped, exited, other };

member_state state_of(const member_peer& p) {
  const auto stat = read_proc_stat(p.stat_id());
  if (!stat) return member_state::gone;
  switch (stat->state) {
    case 'R':
      return member_state::running;
    case 'S':
    case 'D':
      return member_state::blocked;
    case 'T':
    case 't':
      return member_state::stopped;
    case 'Z':
      return member_state::exited;
    default:
      return member_state::other;
  }
}

// CPU time (user + system, in clock ticks) a member has used; 0 when it is gone.
long long cpu_ticks_of(const member_peer& p) {
  const auto stat = read_proc_stat(p.stat_id());
  return stat ? static_cast<long long>(stat->utime + stat->stime) : 0;
}

std::string name_of(const member_peer& p) {
  std::string name = to_string(p.who.r);
  if (p.in_group) name.append(" ").append(std::to_string(p.who.index));
  name.append(" (pid ").append(std::to_string(p.process().pid()));
  if (p.is_thread()) name.append(", a thread");
  name.append(")");
  return name;
}

// The helper processes' pidfds (pidfd_open(2)): readable once a helper has ended, without
// reaping it (its owner, a helper_daemon, does). A helper whose pidfd cannot be had (a kernel
// before 5.3) is not watched; its end is then found by its owner after the run.
struct helper_watch {
  std::vector<pid_t> pids;
  std::vector<unique_fd> fds;
  explicit helper_watch(const group_program& program) {
    if (!program.helpers) return;
    for (std::size_t k = 0; k < program.members.size(); ++k) {
      if (program.members[k].r != role::producer) continue;
      for (pid_t pid : program.helpers(k)) {
        if (std::find(pids.begin(), pids.end(), pid) != pids.end()) continue;
        const long fd = ::syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0) continue;
        pids.push_back(pid);
        fds.emplace_back(static_cast<int>(fd));
      }
    }
  }
};

// What a phase should have taken (a batch: the sizing run's prediction), for the slow-batch
// extension and the watchdog's message.
using prediction = std::optional<milliseconds>;

// The watchdog's verdict on members still silent at the deadline: what they were doing.
std::string silent_members(const std::vector<member_peer>& peers, const std::vector<bool>& done,
                           std::size_t left_to_hear) {
  std::size_t running = 0, blocked = 0;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (done[i]) continue;
    const member_state st = state_of(peers[i]);
    running += st == member_state::running ? 1 : 0;
    blocked += st == member_state::blocked ? 1 : 0;
  }
  return std::to_string(left_to_hear) + " of " + std::to_string(peers.size()) + " peers silent (" +
         std::to_string(running) + " running, " + std::to_string(blocked) + " blocked" +
         (blocked == left_to_hear ? ": a hang"
          : running > 0           ? ": slow, not all blocked"
                                  : "") +
         ")";
}

// Waits until every member has sent `type`, at most `deadline_in` in all, sleeping in poll(2).
// Every `check_every` it looks for a stopped member, which fails the phase at once, so a
// stopped member fails after one interval even when the deadline of a long batch is far away.
// A member that exits, errs or misses the deadline fails the phase, named; so does a helper
// process that ended (a broker whose shared memory lets the members go on without it).
// With `expected` (a batch), a deadline reached while the silent members still use CPU is
// extended, up to kSlowBatchPatience times the deadline (a batch that fell into a far slower
// mode than its sizing run: 9 processes on 2 CPUs can go 100 times slower when every message
// wakes the others); members that use no CPU over a quarter of a second are hung, and fail the
// phase at once. The watchdog's message names the prediction and how many silent members were
// running or blocked.
// The least the coordinator waits for the members to open the channel, whatever the timeout: a
// spawned program under a sanitizer, a gRPC server or a RouDi connecting ports take seconds,
// and a short timeout is meant for the batches (a stopped peer found in one second).
constexpr milliseconds kOpenPatience{10'000};

void await_all(std::vector<member_peer>& peers, const char* type, milliseconds deadline_in,
               milliseconds check_every, const helper_watch& helpers,
               prediction expected = std::nullopt) {
  const auto started = clock::now();
  auto deadline = started + deadline_in;
  const auto cap = started + deadline_in * kSlowBatchPatience;
  bool extended = false;
  long long ticks = -1;  // the silent members' CPU ticks when the deadline was last reached
  std::vector<bool> done(peers.size(), false);
  std::size_t left_to_hear = peers.size();
  const std::size_t n = peers.size();
  std::vector<pollfd> fds(n + helpers.fds.size());
  while (left_to_hear != 0) {
    for (std::size_t i = 0; i < n; ++i) fds[i] = {done[i] ? -1 : peers[i].link.fd(), POLLIN, 0};
    for (std::size_t h = 0; h < helpers.fds.size(); ++h)
      fds[n + h] = {helpers.fds[h].get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    const auto slice = std::clamp(left, milliseconds(0), check_every);
    // A retry after a signal waits only for what is left of the slice.
    const auto slice_end = clock::now() + slice;
    const int rc = retry_on_eintr([&] {
      const auto rest = std::chrono::duration_cast<milliseconds>(slice_end - clock::now());
      return ::poll(fds.data(), fds.size(),
                    static_cast<int>(std::max(rest, milliseconds(0)).count()));
    });
    if (rc < 0) throw_errno("poll");
    for (std::size_t h = 0; h < helpers.fds.size(); ++h)
      if (fds[n + h].revents != 0)
        throw phase_failure("helper process (pid " + std::to_string(helpers.pids[h]) +
                            ") ended before '" + type + "'; all peers killed");
    if (rc == 0) {
      std::string stopped;
      for (const auto& p : peers)
        if (state_of(p) == member_state::stopped) stopped += name_of(p) + " is stopped; ";
      if (stopped.empty() && clock::now() < deadline) continue;
      if (stopped.empty() && expected) {
        long long now_ticks = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (!done[i]) now_ticks += cpu_ticks_of(peers[i]);
        if (ticks < 0 || now_ticks > ticks) {
          // First look, or CPU used since the last: look again in a quarter of a second, or
          // give the batch another deadline if it was using CPU.
          const bool busy = ticks >= 0;
          ticks = now_ticks;
          const auto next = busy ? deadline + deadline_in : clock::now() + milliseconds(250);
          if (next <= cap) {
            extended = extended || busy;
            deadline = next;
            continue;
          }
        }
      }
      const auto waited = std::chrono::duration_cast<milliseconds>(clock::now() - started);
      throw phase_failure(
          "watchdog: no '" + std::string(type) + "' after " +
          std::to_string(stopped.empty() ? waited.count() : slice.count()) + " ms" +
          (expected ? " (the sizing run predicted " + std::to_string(expected->count()) + " ms" +
                          (extended ? "; extended while the members kept using CPU" : "") + ")"
                    : std::string()) +
          "; " + stopped + silent_members(peers, done, left_to_hear) + "; all killed");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i] || fds[i].revents == 0) continue;
      member_peer& p = peers[i];
      try {
        p.reply = p.link.receive();
      } catch (const peer_gone&) {
        auto st = p.process().wait_for(milliseconds(2000));
        throw phase_failure(name_of(p) + " " +
                            (st ? describe_wait_status(*st) : "closed its control channel") +
                            " before '" + type + "'");
      }
      const auto got = p.reply.at("type").get<std::string>();
      if (got == "error") throw phase_failure(name_of(p) + ": " + p.reply.value("what", "error"));
      if (got != type)
        throw phase_failure(name_of(p) + " sent '" + got + "', expected '" + type + "'");
      done[i] = true;
      --left_to_hear;
    }
  }
}

// When a member died of a signal or is stopped, its partners usually report only "channel
// closed" or a timeout: name the cause first. A member killed a moment ago may not be reapable
// yet, so this looks for up to 200 ms in all (the failure path only: it costs nothing measured).
// A SIGPIPE death is most often the echo of a partner gone (a pipe's reader killed while its
// partner writes): a killed process closes its descriptors before it becomes reapable, so the
// echo can be seen first. It is named after any other cause, and does not end the search alone.
std::string root_cause(std::vector<member_peer>& peers) {
  std::string cause;
  std::string echoes;
  std::vector<bool> named(peers.size(), false);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].process().pid() > 0 && state_of(peers[i]) == member_state::stopped) {
      cause += name_of(peers[i]) + " is stopped; ";
      named[i] = true;
    }
  }
  const auto until = clock::now() + milliseconds(200);
  for (;;) {
    for (std::size_t i = 0; i < peers.size(); ++i) {
      // Thread peers share one process: it is named once, by its first member.
      if (named[i] || peers[i].host != nullptr || peers[i].proc.pid() <= 0) continue;
      auto st = peers[i].proc.try_wait();
      if (st && WIFSIGNALED(*st)) {
        (WTERMSIG(*st) == SIGPIPE ? echoes : cause) +=
            name_of(peers[i]) + " " + describe_wait_status(*st) + "; ";
        named[i] = true;
      }
    }
    if (!cause.empty() || clock::now() >= until) return cause + echoes;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// Thread peers: one forked process runs every member's body in a thread of its own, each pinned
// to its member's CPU and holding its own control end, so the coordinator talks to each as to a
// process peer. The process exits with the first non-zero status of its threads. A thread whose
// body throws reports the error on its control channel, as a forked member does.
void launch_threads(const group_program& program, const group_placement& where,
                    std::vector<member_peer>& peers, std::vector<unique_fd>& coord_ends,
                    std::vector<unique_fd>& child_ends, thread_ids& ids) {
  const std::size_t n = program.members.size();
  if (n > ids.tid.size()) throw std::logic_error("thread peers: one pair only");
  for (std::size_t k = 0; k < n; ++k) {
    peers[k].who = program.members[k];
    peers[k].in_group = program.topo.has_value();
    peers[k].tid = &ids.tid[k];
    if (k > 0) peers[k].host = &peers[0].proc;
  }
  peers[0].proc = child_process::fork([&]() -> int {
    for (auto& fd : coord_ends) fd.reset();
    for (auto& p : peers) p.link = control_link();
    std::vector<int> status(n, 0);
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < n; ++k) {
      threads.emplace_back([&, k] {
        ids.tid[k].store(static_cast<pid_t>(::gettid()), std::memory_order_release);
        control_link link(std::move(child_ends[k]));
        use_thread_clocks();
        try {
          if (where.cpus[k] >= 0) pin_to_cpu(where.cpus[k]);
          status[k] = program.body(k, link);
        } catch (const std::exception& e) {
          try {
            send_message(link, peer_error{e.what()});
          } catch (...) {
          }
          status[k] = 1;
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int st : status)
      if (st != 0) return st;
    return 0;
  });
  for (std::size_t k = 0; k < n; ++k) {
    child_ends[k].reset();
    peers[k].link = control_link(std::move(coord_ends[k]));
  }
}

// Forks (or launches) every member, each pinned to its CPU and holding only its own control
// end (the others are closed in the child, so a dead coordinator or sibling reads as EOF), then
// holds the start barrier: every member has opened its end of the channel, and
// program.opened() has run.
void launch(const run_request& req, const group_program& program, const group_placement& where,
            std::vector<member_peer>& peers, const helper_watch& helpers,
            const shared_page<thread_ids>* tids) {
  std::vector<unique_fd> coord_ends, child_ends;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    auto [c, ch] = make_socketpair(SOCK_STREAM);
    coord_ends.push_back(std::move(c));
    child_ends.push_back(std::move(ch));
  }
  if (tids != nullptr) {
    launch_threads(program, where, peers, coord_ends, child_ends, **tids);
    await_all(peers, opened_notice::kType, std::max(req.timeout, kOpenPatience), req.timeout,
              helpers);
    if (program.opened) program.opened();
    return;
  }
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    peers[k].who = program.members[k];
    peers[k].in_group = program.topo.has_value();
    const int cpu = where.cpus[k];
    if (program.spawned) {
      // A separate program: execve drops every descriptor but the child's control end (all are
      // O_CLOEXEC; child_process::spawn clears the flag on that one in the child only).
      const int mine = child_ends[k].get();
      const spawned_peer who{
          program.spawned->mechanism_id, peers[k].who.r, mine, cpu, ::getpid(), req,
          program.spawned->rendezvous};
      peers[k].proc = child_process::spawn(req.peer_program, spawned_peer_args(who), mine);
    } else {
      peers[k].proc = child_process::fork([&, k, cpu]() -> int {
        control_link link(std::move(child_ends[k]));
        for (auto& fd : coord_ends) fd.reset();
        for (auto& fd : child_ends) fd.reset();
        for (auto& p : peers) p.link = control_link();
        try {
          if (cpu >= 0) pin_to_cpu(cpu);
          return program.body(k, link);
        } catch (const std::exception& e) {
          try {
            send_message(link, peer_error{e.what()});
          } catch (...) {
          }
          return 1;
        }
      });
    }
    child_ends[k].reset();
    peers[k].link = control_link(std::move(coord_ends[k]));
  }
  await_all(peers, opened_notice::kType, std::max(req.timeout, kOpenPatience), req.timeout,
            helpers);
  if (program.opened) program.opened();
}

// The sizing run, the go order (the same batch for every member: counts are per producer), the
// warm-up and the timed batch, the reports, each wait with its deadline; then lets the members
// exit and checks they did cleanly.
group_reports drive(const run_request& req, const group_program& program,
                    const group_placement& where, std::vector<member_peer>& peers,
                    const helper_watch& helpers) {
  const std::uint64_t sizing =
      program.topo ? group_sizing_count(req, *program.topo) : warmup_count(req);
  for (auto& p : peers) send_message(p.link, warmup_order{sizing});
  await_all(peers, warm_notice::kType, req.timeout, req.timeout, helpers);
  std::int64_t slowest = 0;
  for (const auto& p : peers) slowest = std::max(slowest, p.reply.get<warm_notice>().ns);
  const double per_message = static_cast<double>(slowest) / static_cast<double>(sizing);

  group_reports b;
  go_order& go = b.go;
  go.rtt_batch = req.pat == pattern::latency ? rtt_batch_for(req, per_message) : 1;
  go.count = timed_count(req, per_message);
  go.count = (go.count + go.rtt_batch - 1) / go.rtt_batch * go.rtt_batch;
  go.warm = flowing_warmup_count(req, per_message);
  go.sub_batches = sub_batches_for(req, program.topo.has_value(), go.count, go.rtt_batch);
  if (req.pat == pattern::latency && !req.lossy)
    go.turnaround_stride = kTurnaroundStride * go.rtt_batch;
  const auto warm_deadline = req.timeout + batch_allowance(go.warm, per_message);
  const auto timed_deadline = req.timeout + batch_allowance(go.count, per_message);
  go.barrier = stream_barrier(req);
  // The members wait for the start as long as the slowest warm-up may be let run, and more.
  go.barrier_ms = (warm_deadline * kSlowBatchPatience + req.timeout).count();
  // Consumers first, so they are already waiting when the producers start. The first producer
  // reads /proc/stat for every pinned CPU of the group; each producer reads its own helpers.
  std::vector<int> stat_cpus;
  for (int cpu : where.cpus)
    if (cpu >= 0 && std::find(stat_cpus.begin(), stat_cpus.end(), cpu) == stat_cpus.end())
      stat_cpus.push_back(cpu);
  bool first_producer = true;
  for (auto r : {role::consumer, role::producer})
    for (std::size_t k = 0; k < peers.size(); ++k) {
      member_peer& p = peers[k];
      if (p.who.r != r) continue;
      go_order mine = go;
      if (r == role::producer) {
        if (first_producer) mine.stat_cpus = stat_cpus;
        first_producer = false;
        if (program.helpers) {
          const std::vector<pid_t> pids = program.helpers(k);
          mine.helper_pids.assign(pids.begin(), pids.end());
        }
      }
      send_message(p.link, mine);
    }
  if (req.on_go) {
    pid_t producer = -1, consumer = -1;
    for (const auto& p : peers) {
      if (p.who.r == role::producer && producer < 0) producer = p.process().pid();
      if (p.who.r == role::consumer && consumer < 0) consumer = p.process().pid();
    }
    req.on_go(producer, consumer);
  }
  // Each batch's deadline: the usual one plus twenty times what the sizing run predicts. With
  // the barrier, every member is warmed (the channel drained) before any producer starts; the
  // consumers are told first, so they are waiting when the records come.
  auto predicted = [&](std::uint64_t count) {
    return milliseconds(static_cast<long long>(static_cast<double>(count) * per_message / 1e6));
  };
  if (go.barrier) {
    await_all(peers, warmed_notice::kType, warm_deadline, req.timeout, helpers, predicted(go.warm));
    for (auto r : {role::consumer, role::producer})
      for (auto& p : peers)
        if (p.who.r == r) send_message(p.link, start_order{});
    await_all(peers, peer_report::kType, timed_deadline, req.timeout, helpers, predicted(go.count));
  } else {
    await_all(peers, peer_report::kType, warm_deadline + batch_allowance(go.count, per_message),
              req.timeout, helpers, predicted(go.warm + go.count));
  }
  // Every report is in, so every message has been consumed: the members may free their buffers.
  for (auto& p : peers) send_message(p.link, exit_order{});
  for (auto& p : peers) b.reports.push_back(p.reply.get<peer_report>());
  for (auto& p : peers) {
    if (p.host != nullptr) continue;  // a thread of the first member's process
    if (auto st = p.proc.wait_for(req.timeout); st && !(WIFEXITED(*st) && WEXITSTATUS(*st) == 0))
      throw phase_failure(name_of(p) + " " + describe_wait_status(*st) + " after reporting");
  }
  return b;
}

// The group_outcome of a placed group: the topology, N, the placement and every member's CPU
// (the assembler fills in what each member did; a failed run gets the members alone).
void describe_group(run_result& res, topology t, const group_program& program,
                    const group_placement& where) {
  if (!res.group) res.group.emplace();
  group_outcome& g = *res.group;
  g.topo = t;
  g.allowed_cpus = where.allowed_cpus;
  g.oversubscribed = where.oversubscribed;
  g.placement_reason = where.reason;
  g.n = 0;
  for (const auto& m : program.members)
    g.n += t == topology::fan_out ? m.r == role::consumer : m.r == role::producer;
  if (g.members.size() != program.members.size()) {
    g.members.assign(program.members.size(), member_outcome{});
    for (std::size_t k = 0; k < program.members.size(); ++k) {
      g.members[k].r = program.members[k].r;
      g.members[k].index = program.members[k].index;
    }
  }
  for (std::size_t k = 0; k < g.members.size(); ++k) g.members[k].cpu = where.cpus[k];
}

}  // namespace

std::chrono::milliseconds batch_allowance(std::uint64_t count, double ns_per_message) {
  const double ns = static_cast<double>(count) * ns_per_message;
  return milliseconds(static_cast<long long>(ns * 20 / 1e6));
}

bool stream_barrier(const run_request& req) {
  return req.pat == pattern::throughput && !req.lossy;
}

std::uint64_t stream_sizing_max(const run_request& req) {
  return std::clamp<std::uint64_t>((16u << 20) / std::max<std::size_t>(req.message_size, 1), 4,
                                   kGroupSizingMax);
}

std::uint64_t warmup_count(const run_request& req) {
  if (req.warmup_messages) return req.warmup_messages;
  // About 16 MiB of traffic, between 4 and 1000 messages.
  return std::min<std::uint64_t>(stream_sizing_max(req), 1000);
}

std::uint64_t hinted_sizing_count(const run_request& req, double ns_per_message) {
  const std::uint64_t full = warmup_count(req);
  if (!(ns_per_message > 0)) return full;
  const std::uint64_t most = req.pat == pattern::throughput ? stream_sizing_max(req) : full;
  const double want = std::ceil(kHintedSizingSeconds * 1e9 / ns_per_message);
  return std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::min(want, static_cast<double>(most))), 4, most);
}

std::uint64_t group_sizing_count(const run_request& req, topology t) {
  if (req.warmup_messages || req.pat == pattern::latency || t == topology::pairs)
    return warmup_count(req);
  return stream_sizing_max(req);
}

std::uint64_t flowing_warmup_count(const run_request& req, double ns_per_message) {
  if (req.fixed_messages) return warmup_count(req);
  const double per = std::max(ns_per_message, 1.0);
  const double want = kFlowingWarmupFraction * req.target_time_s * 1e9 / per;
  return static_cast<std::uint64_t>(
      std::llround(std::clamp(want, 4.0, static_cast<double>(req.max_messages))));
}

std::uint64_t rtt_batch_for(const run_request& req, double rtt_ns) {
  if (req.timer_ns <= 0 || rtt_ns <= 0) return 1;
  // Two clock reads per sample cost 2 * timer_ns; batch until that is at most 2 % of a sample.
  const double k = std::ceil(2 * req.timer_ns / (kTimerShare * rtt_ns));
  return static_cast<std::uint64_t>(std::clamp(k, 1.0, 1024.0));
}

std::uint64_t sub_batches_for(const run_request& req, bool topology, std::uint64_t count,
                              std::uint64_t rtt_batch) {
  if (topology || req.lossy || req.send_rate > 0) return 0;
  const std::uint64_t units =
      req.pat == pattern::latency ? count / std::max<std::uint64_t>(rtt_batch, 1) : count;
  return units >= kSubBatches * kSubBatchMinimum ? kSubBatches : 0;
}

std::uint64_t timed_count(const run_request& req, double warm_ns_per_message) {
  if (req.fixed_messages) return req.fixed_messages;
  const double per = std::max(warm_ns_per_message, 1.0);
  const double want = req.target_time_s * 1e9 / per;
  const double clamped = std::clamp(want, static_cast<double>(req.min_messages),
                                    static_cast<double>(req.max_messages));
  return static_cast<std::uint64_t>(std::llround(clamped));
}

run_result coordinate(const run_request& req, const group_program& program,
                      const group_placement& where, const group_assembler& assemble) {
  run_result res;
  if (!where.impossible.empty()) {
    res.status = run_status::skipped;
    res.reason = where.impossible;
    return res;
  }
  // Thread peers' ids: read by the failure path too, so it outlives the try block.
  std::optional<shared_page<thread_ids>> tids;
  std::vector<member_peer> peers(program.members.size());
  try {
    const helper_watch helpers(program);
    if (req.thread_peers) {
      if (program.spawned || program.members.size() != 2)
        throw std::logic_error("thread peers: one pair in the fork process model only");
      tids.emplace();
    }
    launch(req, program, where, peers, helpers, tids ? &*tids : nullptr);
    const group_reports reports = drive(req, program, where, peers, helpers);
    res = assemble(req, program, reports);
    // One producer and one consumer (a plain pair, or a topology of one: pairs/1, fan_in/1,
    // fan_out/1): each peer's wait for its CPU, as a pair's.
    if (program.members.size() == 2 && reports.reports.size() == 2 &&
        program.members[0].r != program.members[1].r) {
      const std::size_t p = program.members[0].r == role::producer ? 0 : 1;
      res.producer_waited_ns = reports.reports[p].waited_ns;
      res.consumer_waited_ns = reports.reports[1 - p].waited_ns;
    }
    if (program.helpers)
      for (std::size_t k = 0; k < program.members.size() && !res.helpers; ++k)
        res.helpers = !program.helpers(k).empty();
  } catch (const std::exception& e) {
    std::string cause = root_cause(peers);
    for (auto& p : peers) p.proc.kill_and_reap();
    res = run_result{};
    res.status = run_status::failed;
    res.reason = cause + e.what();
  }
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    int& id = program.members[k].r == role::producer ? res.producer_cpu_id : res.consumer_cpu_id;
    if (id < 0) id = where.cpus[k];
  }
  if (program.topo) describe_group(res, *program.topo, program, where);
  // child_process destructors kill and reap whatever is still running.
  return res;
}

double tally_member(run_result& res, const group_member& m, const peer_report& r,
                    std::string& damaged) {
  if (!res.group) res.group.emplace();
  member_outcome o;
  o.r = m.r;
  o.index = m.index;
  o.messages = r.messages;
  o.elapsed_ns = r.t1 - r.t0;
  o.cpu_ns = r.cpu.total_ns;
  o.torn = r.torn;
  res.group->members.push_back(std::move(o));
  res.integrity_errors += r.integrity_errors;
  if (r.integrity_errors != 0)
    damaged += std::string(to_string(m.r)) + " " + std::to_string(m.index) + " " +
               r.integrity_summary + "; ";
  peer_cpu& cpu = m.r == role::producer ? res.producer_cpu : res.consumer_cpu;
  cpu.user_ns += r.cpu.user_ns;
  cpu.sys_ns += r.cpu.sys_ns;
  cpu.total_ns += r.cpu.total_ns;
  return r.t1 > r.t0 ? static_cast<double>(r.messages) * 1e9 / static_cast<double>(r.t1 - r.t0)
                     : 0.0;
}

void settle_data_check(run_result& res, std::string damaged) {
  if (res.integrity_errors == 0) {
    res.status = run_status::ok;
    return;
  }
  if (damaged.ends_with("; ")) damaged.resize(damaged.size() - 2);
  res.status = run_status::failed;
  res.reason = "data check: " + damaged;
}

}  // namespace ipcbench
