#include "coordinator.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "harness/message.hpp"
#include "harness/protocol.hpp"
#include "harness/spawn.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

struct peer {
  role r;
  child_process proc;
  control_link link;
  nlohmann::json reply;  // last message received in the current phase
};

// "consumer (pid 123) is stopped" from /proc/<pid>/stat, for the watchdog's message.
std::string peer_state_of(const peer& p) {
  const auto stat = read_proc_stat(p.proc.pid());
  std::string who = std::string(to_string(p.r)) + " (pid " + std::to_string(p.proc.pid()) + ")";
  if (!stat) return who + " is gone";
  switch (stat->state) {
    case 'T':
    case 't':
      return who + " is stopped";
    case 'R':
      return who + " is running (spinning or busy)";
    case 'S':
    case 'D':
      return who + " is blocked";
    case 'Z':
      return who + " has exited";
    default:
      return who + " is in state " + std::string(1, stat->state);
  }
}

struct phase_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_stopped(const peer& p) {
  const auto stat = read_proc_stat(p.proc.pid());
  return stat && (stat->state == 'T' || stat->state == 't');
}

// Waits until both peers have sent `type`, at most `deadline` in all; the coordinator sleeps in
// poll(2) meanwhile. Every `check_every` it looks at the peers' state, so a stopped peer fails
// the phase after one interval even when the deadline of a long batch is far away. A peer that
// exits, errs or misses the deadline fails the phase.
// The helper processes' pidfds (pidfd_open(2)): readable once a helper has ended, without
// reaping it (its owner, a helper_daemon, does). A helper whose pidfd cannot be had (a kernel
// before 5.3) is not watched; its end is then found by its owner after the run.
struct helper_watch {
  std::vector<pid_t> pids;
  std::vector<unique_fd> fds;
  explicit helper_watch(const std::vector<pid_t>& helper_pids) {
    for (pid_t pid : helper_pids) {
      const long fd = ::syscall(SYS_pidfd_open, pid, 0);
      if (fd < 0) continue;
      pids.push_back(pid);
      fds.emplace_back(static_cast<int>(fd));
    }
  }
};

// Also fails the phase as soon as a helper process (a broker whose shared memory lets the peers
// go on without it) has ended.
void await_both(peer (&peers)[2], const char* type, std::chrono::milliseconds deadline_in,
                std::chrono::milliseconds check_every, const helper_watch& helpers) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + deadline_in;
  bool done[2] = {false, false};
  std::vector<pollfd> fds(2 + helpers.fds.size());
  while (!done[0] || !done[1]) {
    for (int i = 0; i < 2; ++i) fds[i] = {done[i] ? -1 : peers[i].link.fd(), POLLIN, 0};
    for (std::size_t h = 0; h < helpers.fds.size(); ++h)
      fds[2 + h] = {helpers.fds[h].get(), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    const auto slice = std::clamp(left, std::chrono::milliseconds(0), check_every);
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(slice.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw_errno("poll");
    for (std::size_t h = 0; h < helpers.fds.size(); ++h)
      if (fds[2 + h].revents != 0)
        throw phase_failure("helper process (pid " + std::to_string(helpers.pids[h]) +
                            ") ended before '" + type + "'; both peers killed");
    if (rc == 0) {
      const bool stopped = is_stopped(peers[0]) || is_stopped(peers[1]);
      if (!stopped && clock::now() < deadline) continue;
      std::string msg = "watchdog: no '" + std::string(type) + "' after " +
                        std::to_string(stopped ? slice.count() : deadline_in.count()) + " ms; ";
      msg += peer_state_of(peers[0]) + ", " + peer_state_of(peers[1]) + "; both killed";
      throw phase_failure(msg);
    }
    for (int i = 0; i < 2; ++i) {
      if (done[i] || fds[i].revents == 0) continue;
      peer& p = peers[i];
      try {
        p.reply = p.link.receive();
      } catch (const peer_gone&) {
        auto st = p.proc.wait_for(std::chrono::milliseconds(2000));
        throw phase_failure(std::string(to_string(p.r)) + " (pid " + std::to_string(p.proc.pid()) +
                            ") " + (st ? describe_wait_status(*st) : "closed its control channel") +
                            " before '" + type + "'");
      }
      const auto got = p.reply.at("type").get<std::string>();
      if (got == "error")
        throw phase_failure(std::string(to_string(p.r)) + ": " + p.reply.value("what", "error"));
      if (got != type)
        throw phase_failure(std::string(to_string(p.r)) + " sent '" + got + "', expected '" + type +
                            "'");
      done[i] = true;
    }
  }
}

// When one peer died of a signal or is stopped, its partner usually reports only "channel closed"
// or a timeout: name the cause first. Failure path only, so waiting a moment for the dying peer
// costs nothing measured.
std::string root_cause(peer (&peers)[2]) {
  std::string cause;
  for (auto& p : peers) {
    if (p.proc.pid() <= 0) continue;
    if (is_stopped(p)) {
      cause += peer_state_of(p) + "; ";
      continue;
    }
    auto st = p.proc.wait_for(std::chrono::milliseconds(200));
    if (st && WIFSIGNALED(*st))
      cause += std::string(to_string(p.r)) + " (pid " + std::to_string(p.proc.pid()) + ") " +
               describe_wait_status(*st) + "; ";
  }
  return cause;
}

// Forks the two peers (or, in the spawn process model, launches them as separate programs),
// each pinned to its CPU and holding only its own control end, then holds the start barrier:
// both peers have opened their ends of the channel, and program.opened() has run.
void launch(const run_request& req, const peer_program& program, const cpu_choice& cpus,
            peer (&peers)[2], const helper_watch& helpers) {
  auto [p_coord, p_child] = make_socketpair(SOCK_STREAM);
  auto [c_coord, c_child] = make_socketpair(SOCK_STREAM);

  auto spawn = [&](role r, int cpu) {
    if (program.spawned) {
      // A separate program: execve drops every descriptor but the child's control end (all are
      // O_CLOEXEC; child_process::spawn clears the flag on that one in the child only).
      const int mine = (r == role::producer ? p_child : c_child).get();
      const spawned_peer who{program.spawned->mechanism_id, r, mine, cpu, ::getpid(), req,
                             program.spawned->rendezvous};
      return child_process::spawn(req.peer_program, spawned_peer_args(who), mine);
    }
    // The child keeps only its own control end; the coordinator's ends and the sibling's are
    // closed so that a dead coordinator or sibling reads as EOF.
    return child_process::fork([&, r, cpu]() -> int {
      unique_fd mine = std::move(r == role::producer ? p_child : c_child);
      p_coord.reset();
      c_coord.reset();
      p_child.reset();
      c_child.reset();
      control_link link(std::move(mine));
      try {
        if (cpu >= 0) pin_to_cpu(cpu);
        return program.body(r, link);
      } catch (const std::exception& e) {
        try {
          send_message(link, peer_error{e.what()});
        } catch (...) {
        }
        return 1;
      }
    });
  };

  peers[0].proc = spawn(role::producer, cpus.producer);
  peers[1].proc = spawn(role::consumer, cpus.consumer);
  p_child.reset();
  c_child.reset();
  peers[0].link = control_link(std::move(p_coord));
  peers[1].link = control_link(std::move(c_coord));

  await_both(peers, opened_notice::kType, req.timeout, req.timeout, helpers);
  program.opened();
}

// Runs the sizing run, sizes the warm-up and the timed batch and releases them, and collects
// both peer reports, every wait with its deadline; then lets the peers exit and checks that they
// exited cleanly.
batch_reports drive(const run_request& req, const cpu_choice& cpus, peer (&peers)[2],
                    const helper_watch& helpers) {
  const std::uint64_t sizing = warmup_count(req);
  for (auto& p : peers) send_message(p.link, warmup_order{sizing});
  await_both(peers, warm_notice::kType, req.timeout, req.timeout, helpers);
  const double sizing_ns = static_cast<double>(
      std::max(peers[0].reply.get<warm_notice>().ns, peers[1].reply.get<warm_notice>().ns));
  const double per_message = sizing_ns / static_cast<double>(sizing);

  go_order go;
  go.rtt_batch = req.pat == pattern::latency ? rtt_batch_for(req, per_message) : 1;
  go.count = timed_count(req, per_message);
  go.count = (go.count + go.rtt_batch - 1) / go.rtt_batch * go.rtt_batch;
  go.warm = flowing_warmup_count(req, per_message);
  if (req.pat == pattern::latency && !req.lossy)
    go.turnaround_stride = kTurnaroundStride * go.rtt_batch;
  for (int cpu : {cpus.producer, cpus.consumer})
    if (cpu >= 0 && std::find(go.stat_cpus.begin(), go.stat_cpus.end(), cpu) == go.stat_cpus.end())
      go.stat_cpus.push_back(cpu);

  go.helper_pids.assign(req.helper_pids.begin(), req.helper_pids.end());
  const auto warm_deadline = req.timeout + batch_allowance(go.warm, per_message);
  const auto timed_deadline = req.timeout + batch_allowance(go.count, per_message);
  go.barrier = stream_barrier(req);
  // The peers wait for the start as long as the slowest warm-up may be let run, and more.
  go.barrier_ms = (warm_deadline * 10 + req.timeout).count();

  // The consumer first, so it is already waiting when the producer starts.
  send_message(peers[1].link, go);
  send_message(peers[0].link, go);
  if (req.on_go) req.on_go(peers[0].proc.pid(), peers[1].proc.pid());
  if (go.barrier) {
    await_both(peers, warmed_notice::kType, warm_deadline, req.timeout, helpers);
    send_message(peers[1].link, start_order{});
    send_message(peers[0].link, start_order{});
    await_both(peers, peer_report::kType, timed_deadline, req.timeout, helpers);
  } else {
    await_both(peers, peer_report::kType, warm_deadline + batch_allowance(go.count, per_message),
               req.timeout, helpers);
  }
  // Both reports are in, so every message has been consumed: the peers may free their buffers.
  for (auto& p : peers) send_message(p.link, exit_order{});

  batch_reports b{go.count, peers[0].reply.get<peer_report>(), peers[1].reply.get<peer_report>()};
  b.rtt_batch = go.rtt_batch;
  b.turnaround_stride = go.turnaround_stride;
  for (auto& p : peers) {
    if (auto st = p.proc.wait_for(req.timeout); st && !(WIFEXITED(*st) && WEXITSTATUS(*st) == 0))
      throw phase_failure(std::string(to_string(p.r)) + " " + describe_wait_status(*st) +
                          " after reporting");
  }
  return b;
}

}  // namespace

std::chrono::milliseconds batch_allowance(std::uint64_t count, double ns_per_message) {
  const double ns = static_cast<double>(count) * ns_per_message;
  return std::chrono::milliseconds(static_cast<long long>(ns * 20 / 1e6));
}

bool stream_barrier(const run_request& req) {
  return req.pat == pattern::throughput && !req.lossy;
}

std::uint64_t warmup_count(const run_request& req) {
  if (req.warmup_messages) return req.warmup_messages;
  // About 16 MiB of traffic, between 4 and 1000 messages.
  return std::clamp<std::uint64_t>((16u << 20) / std::max<std::size_t>(req.message_size, 1), 4,
                                   1000);
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

std::uint64_t timed_count(const run_request& req, double warm_ns_per_message) {
  if (req.fixed_messages) return req.fixed_messages;
  const double per = std::max(warm_ns_per_message, 1.0);
  const double want = req.target_time_s * 1e9 / per;
  const double clamped = std::clamp(want, static_cast<double>(req.min_messages),
                                    static_cast<double>(req.max_messages));
  return static_cast<std::uint64_t>(std::llround(clamped));
}

run_result assemble(const run_request& req, const batch_reports& b) {
  run_result res;
  const peer_report& pr = b.producer;
  const peer_report& cr = b.consumer;
  res.messages = b.count;
  res.integrity_errors = pr.integrity_errors + cr.integrity_errors;
  res.producer_cpu = pr.cpu;
  res.consumer_cpu = cr.cpu;
  res.cpu_states = pr.cpu_states;
  res.helper_cpu_ns = pr.helper_cpu_ns;
  res.rtt_batch = b.rtt_batch;
  if (b.rtt_batch > 1 && req.tsc_ns_per_tick > 0 && !req.lossy) {
    // The producer timed every round trip by the time-stamp counter (ping_pong).
    res.rtt_batch = 1;
    res.clock = rtt_clock::tsc;
  }
  if (cr.turnaround) {
    res.turnaround = *cr.turnaround;
    res.turnaround_stride = b.turnaround_stride;
  }
  if (req.pat == pattern::latency) {
    if (!pr.rtt) throw std::runtime_error("producer reported no round-trip times");
    res.rtt = *pr.rtt;
    res.elapsed_ns = pr.t1 - pr.t0;
  } else {
    res.elapsed_ns = cr.t1 - pr.t0;
  }
  const std::uint64_t content_errors = res.integrity_errors;
  const bool latency = req.pat == pattern::latency;
  std::uint64_t loss_of = 0;
  if (req.lossy) {
    for (const auto* r : {&pr, &cr}) {
      const loss_counts l = r->loss.value_or(loss_counts{});
      res.lost += l.lost;
      res.duplicated += l.duplicated;
      res.reordered += l.reordered;
      res.stale += l.stale;
    }
    // The receiver's count: replies for ping-pong, the consumer's messages for a stream.
    const loss_counts receiver = (latency ? pr : cr).loss.value_or(loss_counts{});
    loss_of = receiver.expected;
    if (latency) {
      // A lost round trip is a round trip not measured: the latency run fails.
      res.integrity_errors += res.lost + res.duplicated + res.reordered;
    } else {
      // An unpaced stream over a lossy channel measures what got through: its goodput, with
      // the loss as a number beside it. Only damaged content fails it.
      res.goodput = true;
      res.delivered = receiver.delivered;
    }
  }
  if (res.integrity_errors != 0) {
    res.status = run_status::failed;
    if (latency && res.lost + res.duplicated + res.reordered != 0)
      res.reason = loss_summary(res.lost, loss_of, res.duplicated, res.reordered, "round trips");
    if (content_errors != 0)
      res.reason += (res.reason.empty() ? "" : "; ") + std::string("data check: producer ") +
                    pr.integrity_summary + "; consumer " + cr.integrity_summary;
    return res;
  }
  res.status = run_status::ok;
  return res;
}

run_result coordinate(const run_request& req, const peer_program& program) {
  const cpu_choice cpus = choose_cpus(req.place, req.cpus);
  if (!cpus.impossible.empty()) {
    run_result res;
    res.status = run_status::skipped;
    res.reason = cpus.impossible;
    return res;
  }
  peer peers[2] = {{role::producer, {}, {}, {}}, {role::consumer, {}, {}, {}}};
  run_result res;
  try {
    const helper_watch helpers(req.helper_pids);
    launch(req, program, cpus, peers, helpers);
    res = assemble(req, drive(req, cpus, peers, helpers));
  } catch (const std::exception& e) {
    res.status = run_status::failed;
    res.reason = root_cause(peers) + e.what();
  }
  res.producer_cpu_id = cpus.producer;
  res.consumer_cpu_id = cpus.consumer;
  // child_process destructors kill and reap whatever is still running.
  return res;
}

}  // namespace ipcbench
