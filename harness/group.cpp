#include "group.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>

#include "harness/coordinator.hpp"
#include "harness/placement.hpp"
#include "sys/child.hpp"
#include "sys/error.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench {
namespace {

struct member_peer {
  group_member who;
  child_process proc;
  control_link link;
  nlohmann::json reply;  // last message received in the current phase
};

struct phase_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string name_of(const member_peer& p) {
  return std::string(to_string(p.who.r)) + " " + std::to_string(p.who.index) + " (pid " +
         std::to_string(p.proc.pid()) + ")";
}

// The state letter of /proc/<pid>/stat: 'T' stopped, 'R' running, 'S' blocked, ...
char state_of(const member_peer& p) {
  const auto stat = read_proc_stat(p.proc.pid());
  return stat ? stat->state : '?';
}

// CPU time (user + system, in clock ticks) a member has used; 0 when it is gone.
long long cpu_ticks_of(const member_peer& p) {
  const auto stat = read_proc_stat(p.proc.pid());
  return stat ? static_cast<long long>(stat->utime + stat->stime) : 0;
}

// How many times its deadline a batch may take while its silent members keep using CPU.
inline constexpr int kSlowBatchPatience = 10;

// Waits until every member has sent `type`, at most `deadline_in` in all, sleeping in poll(2).
// Every `check_every` it looks for a stopped member, which fails the phase at once. A member that
// exits, errs or misses the deadline fails the phase, named.
// `expected`, when given, is what the phase should have taken (the batch: the sizing run's
// prediction). Then a deadline reached while the silent members still use CPU (a batch that fell
// into a far slower mode than its sizing run: 9 processes on 2 CPUs can go 100 times slower
// when every message wakes the others) is extended, up to kSlowBatchPatience times the deadline,
// so the slow batch is measured instead of killed; members that use no CPU over a quarter of a
// second are hung, and fail the phase at once. The watchdog's message names the prediction and
// how many silent members were running or blocked.
void await_all(std::vector<member_peer>& peers, const char* type,
               std::chrono::milliseconds deadline_in, std::chrono::milliseconds check_every,
               std::optional<std::chrono::milliseconds> expected = std::nullopt) {
  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  auto deadline = started + deadline_in;
  const auto cap = started + deadline_in * kSlowBatchPatience;
  bool extended = false;
  long long ticks = -1;  // the silent members' CPU ticks when the deadline was last reached
  std::vector<bool> done(peers.size(), false);
  std::size_t left_to_hear = peers.size();
  std::vector<pollfd> fds(peers.size());
  while (left_to_hear != 0) {
    for (std::size_t i = 0; i < peers.size(); ++i)
      fds[i] = {done[i] ? -1 : peers[i].link.fd(), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    const auto slice = std::clamp(left, std::chrono::milliseconds(0), check_every);
    const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(slice.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw_errno("poll");
    if (rc == 0) {
      std::string stopped;
      for (const auto& p : peers)
        if (state_of(p) == 'T' || state_of(p) == 't') stopped += name_of(p) + " is stopped; ";
      if (stopped.empty() && clock::now() < deadline) continue;
      if (stopped.empty() && expected) {
        long long now_ticks = 0;
        for (std::size_t i = 0; i < peers.size(); ++i)
          if (!done[i]) now_ticks += cpu_ticks_of(peers[i]);
        if (ticks < 0 || now_ticks > ticks) {
          // First look, or CPU used since the last: look again in a quarter of a second, or
          // give the batch another deadline if it was using CPU.
          const bool busy = ticks >= 0;
          ticks = now_ticks;
          const auto next =
              busy ? deadline + deadline_in : clock::now() + std::chrono::milliseconds(250);
          if (next <= cap) {
            extended = extended || busy;
            deadline = next;
            continue;
          }
        }
      }
      std::size_t running = 0, blocked = 0;
      for (std::size_t i = 0; i < peers.size(); ++i) {
        if (done[i]) continue;
        const char st = state_of(peers[i]);
        running += st == 'R' ? 1 : 0;
        blocked += st == 'S' || st == 'D' ? 1 : 0;
      }
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
      throw phase_failure(
          "watchdog: no '" + std::string(type) + "' after " +
          std::to_string(stopped.empty() ? waited.count() : slice.count()) + " ms" +
          (expected ? " (the sizing run predicted " + std::to_string(expected->count()) + " ms" +
                          (extended ? "; extended while the members kept using CPU" : "") + ")"
                    : std::string()) +
          "; " + stopped + std::to_string(left_to_hear) + " of " + std::to_string(peers.size()) +
          " peers silent (" + std::to_string(running) + " running, " + std::to_string(blocked) +
          " blocked" +
          (blocked == left_to_hear ? ": a hang"
           : running > 0           ? ": slow, not all blocked"
                                   : "") +
          "); all killed");
    }
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (done[i] || fds[i].revents == 0) continue;
      member_peer& p = peers[i];
      try {
        p.reply = p.link.receive();
      } catch (const peer_gone&) {
        auto st = p.proc.wait_for(std::chrono::milliseconds(2000));
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

// A member that died of a signal is the cause of whatever its partners reported: name it first.
std::string root_cause(std::vector<member_peer>& peers) {
  std::string cause;
  for (auto& p : peers) {
    if (p.proc.pid() <= 0) continue;
    auto st = p.proc.try_wait();
    if (st && WIFSIGNALED(*st)) cause += name_of(p) + " " + describe_wait_status(*st) + "; ";
  }
  return cause;
}

// Forks every member, each pinned to its CPU and holding only its own control end (the others
// are closed in the child, so a dead coordinator reads as EOF), then holds the start barrier.
void launch(const run_request& req, const group_program& program, const group_placement& where,
            std::vector<member_peer>& peers) {
  std::vector<unique_fd> coord_ends, child_ends;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    auto [c, ch] = make_socketpair(SOCK_STREAM);
    coord_ends.push_back(std::move(c));
    child_ends.push_back(std::move(ch));
  }
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    peers[k].who = program.members[k];
    const int cpu = where.cpus[k];
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
    child_ends[k].reset();
    peers[k].link = control_link(std::move(coord_ends[k]));
  }
  await_all(peers, opened_notice::kType, req.timeout, req.timeout);
  if (program.opened) program.opened();
}

// A group's stream fills its shared ring or queue before it settles to its steady rate, so
// its sizing run carries about 16 MiB (at most kGroupSizingMax messages), not warmup_count()'s
// 1,000: 1,000 records of 64 bytes fit in a 256 KiB ring, and fan_out/8 at 64 bytes was
// predicted 35 times too fast (a 0.2 s batch ran 7 s). Round trips keep warmup_count().
inline constexpr std::uint64_t kGroupSizingMax = 65536;
std::uint64_t group_sizing_count(const run_request& req) {
  if (req.warmup_messages || req.pat == pattern::latency) return warmup_count(req);
  return std::clamp<std::uint64_t>((16u << 20) / std::max<std::size_t>(req.message_size, 1), 4,
                                   kGroupSizingMax);
}

// The sizing run, the go order (the same batch for every member: counts are per producer),
// the reports, each wait with its deadline; then lets the members exit and checks they did
// cleanly.
group_reports drive(const run_request& req, const group_program& program,
                    const group_placement& where, std::vector<member_peer>& peers) {
  const std::uint64_t sizing = group_sizing_count(req);
  for (auto& p : peers) send_message(p.link, warmup_order{sizing});
  await_all(peers, warm_notice::kType, req.timeout, req.timeout);
  std::int64_t slowest = 0;
  for (const auto& p : peers) slowest = std::max(slowest, p.reply.get<warm_notice>().ns);
  const double per_message = static_cast<double>(slowest) / static_cast<double>(sizing);

  group_reports b;
  go_order& go = b.go;
  go.rtt_batch = req.pat == pattern::latency ? rtt_batch_for(req, per_message) : 1;
  go.count = timed_count(req, per_message);
  go.count = (go.count + go.rtt_batch - 1) / go.rtt_batch * go.rtt_batch;
  go.warm = flowing_warmup_count(req, per_message);
  if (req.pat == pattern::latency && !req.lossy)
    go.turnaround_stride = kTurnaroundStride * go.rtt_batch;
  const auto warm_deadline = req.timeout + batch_allowance(go.warm, per_message);
  const auto timed_deadline = req.timeout + batch_allowance(go.count, per_message);
  go.barrier = stream_barrier(req);
  // The peers wait for the start as long as the slowest warm-up may be let run, and more.
  go.barrier_ms = (warm_deadline * 10 + req.timeout).count();
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
      if (p.who.r == role::producer && producer < 0) producer = p.proc.pid();
      if (p.who.r == role::consumer && consumer < 0) consumer = p.proc.pid();
    }
    req.on_go(producer, consumer);
  }
  // Each batch's deadline: the usual one plus twenty times what the sizing run predicts. With
  // the barrier, every member is warmed (the channel drained) before any producer starts; the
  // consumers are told first, so they are waiting when the records come.
  auto predicted = [&](std::uint64_t n) {
    return std::chrono::milliseconds(
        static_cast<long long>(static_cast<double>(n) * per_message / 1e6));
  };
  if (go.barrier) {
    await_all(peers, warmed_notice::kType, warm_deadline, req.timeout, predicted(go.warm));
    for (auto r : {role::consumer, role::producer})
      for (auto& p : peers)
        if (p.who.r == r) send_message(p.link, start_order{});
    await_all(peers, peer_report::kType, timed_deadline, req.timeout, predicted(go.count));
  } else {
    await_all(peers, peer_report::kType, warm_deadline + batch_allowance(go.count, per_message),
              req.timeout, predicted(go.warm + go.count));
  }
  for (auto& p : peers) send_message(p.link, exit_order{});
  for (auto& p : peers) b.reports.push_back(p.reply.get<peer_report>());
  for (auto& p : peers) {
    if (auto st = p.proc.wait_for(req.timeout); st && !(WIFEXITED(*st) && WEXITSTATUS(*st) == 0))
      throw phase_failure(name_of(p) + " " + describe_wait_status(*st) + " after reporting");
  }
  return b;
}

// The CPUs in the order members take them: the pair's choice first (producer, consumer), then
// the other allowed CPUs, CPU 0 last when more than two are allowed.
std::vector<int> cpu_order(const cpu_choice& pair, const std::vector<cpu_info>& allowed) {
  std::vector<int> order;
  if (pair.producer >= 0) order.push_back(pair.producer);
  if (pair.consumer >= 0 && pair.consumer != pair.producer) order.push_back(pair.consumer);
  std::vector<int> rest;
  for (const auto& c : allowed)
    if (std::find(order.begin(), order.end(), c.cpu) == order.end()) rest.push_back(c.cpu);
  if (allowed.size() > 2)
    std::stable_partition(rest.begin(), rest.end(), [](int c) { return c != 0; });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

}  // namespace

std::vector<group_member> members_of(topology t, std::size_t n) {
  std::vector<group_member> m;
  const int count = static_cast<int>(n);
  switch (t) {
    case topology::pairs:
      for (int i = 0; i < count; ++i) {
        m.push_back({role::producer, i});
        m.push_back({role::consumer, i});
      }
      break;
    case topology::fan_in:
      for (int i = 0; i < count; ++i) m.push_back({role::producer, i});
      m.push_back({role::consumer, 0});
      break;
    case topology::fan_out:
      m.push_back({role::producer, 0});
      for (int i = 0; i < count; ++i) m.push_back({role::consumer, i});
      break;
  }
  return m;
}

group_placement place_group(placement p, const std::vector<group_member>& members,
                            const std::vector<cpu_info>& allowed, std::optional<cpu_pair> given) {
  group_placement g;
  g.allowed_cpus = allowed.size();
  g.oversubscribed = members.size() > allowed.size();
  g.cpus.assign(members.size(), -1);
  const cpu_choice pair = choose_cpus(p, allowed, given);
  if (!pair.impossible.empty()) {
    g.impossible = pair.impossible;
    return g;
  }
  const std::string peers = std::to_string(members.size()) + " peers on " +
                            std::to_string(allowed.size()) + " allowed CPUs" +
                            (g.oversubscribed ? " (oversubscribed)" : "");
  if (p == placement::none) {
    g.reason = peers + ", none pinned";
    return g;
  }
  if (pair.given) {
    for (std::size_t k = 0; k < members.size(); ++k)
      g.cpus[k] = members[k].r == role::producer ? pair.producer : pair.consumer;
    g.reason = peers + ": producers on CPU " + std::to_string(pair.producer) +
               ", consumers on CPU " + std::to_string(pair.consumer) + " (--cpus)";
    return g;
  }
  if (p == placement::same) {
    std::fill(g.cpus.begin(), g.cpus.end(), pair.producer);
    g.reason = peers + ", all on CPU " + std::to_string(pair.producer) + " (placement same)";
    return g;
  }
  const std::vector<int> order = cpu_order(pair, allowed);
  std::size_t producers = 0, consumers = 0;
  for (const auto& m : members) (m.r == role::producer ? producers : consumers) += 1;
  // A lone consumer (fan-in) takes the pair's consumer CPU and a lone producer (fan-out) the
  // producer's; everyone else takes the CPUs in turn.
  std::size_t next = 0;
  auto take = [&](std::size_t reserved) {
    if (next == reserved) ++next;
    return order[next++ % order.size()];
  };
  for (std::size_t k = 0; k < members.size(); ++k) {
    const auto& m = members[k];
    if (consumers == 1 && producers > 1)
      g.cpus[k] = m.r == role::consumer ? order[1 % order.size()] : take(1);
    else if (producers == 1 && consumers > 1)
      g.cpus[k] = m.r == role::producer ? order[0] : take(0);
    else
      g.cpus[k] = order[k % order.size()];
  }
  g.reason = peers + ", spread over CPUs in turn from the pair's choice: " + pair.reason;
  return g;
}

group_placement place_group(placement p, const std::vector<group_member>& members,
                            std::optional<cpu_pair> given) {
  std::vector<cpu_info> infos;
  for (int cpu : allowed_cpus()) infos.push_back(read_cpu_info(cpu));
  return place_group(p, members, infos, given);
}

run_result coordinate_group(const run_request& req, topology t, const group_program& program,
                            const group_assembler& assemble) {
  run_result res;
  group_placement where;
  try {
    where = place_group(req.place, program.members, req.cpus);
  } catch (const std::exception& e) {
    res.status = run_status::failed;
    res.reason = std::string("placement: ") + e.what();
    return res;
  }
  if (!where.impossible.empty()) {
    res.status = run_status::skipped;
    res.reason = where.impossible;
    return res;
  }
  std::vector<member_peer> peers(program.members.size());
  try {
    launch(req, program, where, peers);
    res = assemble(req, program, drive(req, program, where, peers));
  } catch (const std::exception& e) {
    // Every member is killed and reaped before the cause is read, so a partner's "channel
    // closed" does not hide the member that was killed.
    std::string cause = root_cause(peers);
    for (auto& p : peers) p.proc.kill_and_reap();
    res = run_result{};
    res.status = run_status::failed;
    res.reason = cause + e.what();
  }
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
  // child_process destructors kill and reap whatever is still running.
  return res;
}

run_result assemble_pairs(const run_request& req, const group_program& program,
                          const group_reports& b) {
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  const std::size_t n = program.members.size() / 2;
  std::int64_t start = 0, end = 0;
  std::vector<double> rates;
  std::string failures;
  for (std::size_t i = 0; i < n; ++i) {
    batch_reports pair{b.go.count, b.reports[2 * i], b.reports[2 * i + 1], b.go.rtt_batch,
                       b.go.turnaround_stride};
    const run_result one = assemble(req, pair);
    res.messages += one.messages;
    res.integrity_errors += one.integrity_errors;
    res.lost += one.lost;
    res.duplicated += one.duplicated;
    res.reordered += one.reordered;
    res.stale += one.stale;
    res.delivered += one.delivered;
    res.goodput = res.goodput || one.goodput;
    for (auto* cpu : {&res.producer_cpu, &res.consumer_cpu}) {
      const peer_cpu& add = cpu == &res.producer_cpu ? one.producer_cpu : one.consumer_cpu;
      cpu->user_ns += add.user_ns;
      cpu->sys_ns += add.sys_ns;
      cpu->total_ns += add.total_ns;
    }
    if (req.pat == pattern::latency) {
      res.rtt.merge(one.rtt);
      res.turnaround.merge(one.turnaround);
      res.turnaround_stride = one.turnaround_stride;
    }
    res.rtt_batch = one.rtt_batch;
    res.clock = one.clock;
    if (one.helper_cpu_ns) res.helper_cpu_ns = res.helper_cpu_ns.value_or(0) + *one.helper_cpu_ns;
    if (i == 0) res.cpu_states = one.cpu_states;
    if (one.status != run_status::ok)
      failures += "pair " + std::to_string(i) + ": " + one.reason + "; ";
    const peer_report& pr = b.reports[2 * i];
    const peer_report& cr = b.reports[2 * i + 1];
    const std::int64_t t0 = pr.t0;
    const std::int64_t t1 = req.pat == pattern::latency ? pr.t1 : cr.t1;
    start = i == 0 ? t0 : std::min(start, t0);
    end = i == 0 ? t1 : std::max(end, t1);
    const std::uint64_t counted = one.goodput ? one.delivered : one.messages;
    rates.push_back(one.elapsed_ns > 0
                        ? static_cast<double>(counted) * 1e9 / static_cast<double>(one.elapsed_ns)
                        : 0.0);
    member_outcome p, c;
    p.r = role::producer;
    c.r = role::consumer;
    p.index = c.index = static_cast<int>(i);
    p.messages = c.messages = one.messages;
    p.elapsed_ns = pr.t1 - pr.t0;
    c.elapsed_ns = cr.t1 - cr.t0;
    p.cpu_ns = pr.cpu.total_ns;
    c.cpu_ns = cr.cpu.total_ns;
    if (req.pat == pattern::latency) p.rtt = one.rtt;
    g.members.push_back(std::move(p));
    g.members.push_back(std::move(c));
  }
  // The aggregate window: the earliest start to the latest end (CLOCK_MONOTONIC is one clock
  // for every process), so the aggregate rate is what the machine moved while any pair ran.
  res.elapsed_ns = end - start;
  if (n > 1) g.fairness = spread_of(rates);
  if (!failures.empty()) {
    failures.resize(failures.size() - 2);
    res.status = run_status::failed;
    res.reason = failures;
    return res;
  }
  res.status = run_status::ok;
  return res;
}

// Pairs the sender's and the receiver's notes of each sampled record (harness/delay.hpp) into
// both members' histograms; a note missing on either side (-1) is no sample.
void pair_delays(const std::vector<std::int64_t>& sent, const std::vector<std::int64_t>& taken,
                 histogram& sender, histogram& receiver) {
  for (std::size_t j = 0; j < sent.size() && j < taken.size(); ++j) {
    if (sent[j] < 0 || taken[j] < 0) continue;
    sender.record(taken[j] - sent[j]);
    receiver.record(taken[j] - sent[j]);
  }
}

run_result assemble_fan_in(const run_request& req, const group_program& program,
                           const group_reports& b) {
  (void)req;
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  std::int64_t start = 0;
  bool first = true;
  std::vector<double> rates;
  std::string damaged;
  const peer_report* consumer = nullptr;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const peer_report& r = b.reports[k];
    member_outcome o;
    o.r = m.r;
    o.index = m.index;
    o.messages = r.messages;
    o.elapsed_ns = r.t1 - r.t0;
    o.cpu_ns = r.cpu.total_ns;
    o.torn = r.torn;
    g.members.push_back(std::move(o));
    res.integrity_errors += r.integrity_errors;
    if (r.integrity_errors != 0)
      damaged += std::string(to_string(m.r)) + " " + std::to_string(m.index) + " " +
                 r.integrity_summary + "; ";
    peer_cpu& cpu = m.r == role::producer ? res.producer_cpu : res.consumer_cpu;
    cpu.user_ns += r.cpu.user_ns;
    cpu.sys_ns += r.cpu.sys_ns;
    cpu.total_ns += r.cpu.total_ns;
    if (m.r == role::consumer) {
      consumer = &r;
      continue;
    }
    start = first ? r.t0 : std::min(start, r.t0);
    first = false;
    rates.push_back(r.t1 > r.t0
                        ? static_cast<double>(r.messages) * 1e9 / static_cast<double>(r.t1 - r.t0)
                        : 0.0);
  }
  if (consumer == nullptr || first) throw std::runtime_error("fan-in without producer or consumer");
  member_outcome* taker = nullptr;
  for (auto& o : g.members)
    if (o.r == role::consumer) taker = &o;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const auto p = static_cast<std::size_t>(m.index);
    if (m.r != role::producer || b.reports[k].delay_ns.empty() || p >= consumer->delay_ns.size())
      continue;
    pair_delays(b.reports[k].delay_ns[0], consumer->delay_ns[p], g.members[k].delay, taker->delay);
  }
  res.messages = consumer->messages;
  res.elapsed_ns = consumer->t1 - start;
  g.torn_records = consumer->torn;
  if (rates.size() > 1) g.fairness = spread_of(rates);
  if (res.integrity_errors != 0) {
    damaged.resize(damaged.size() - 2);
    res.status = run_status::failed;
    res.reason = "data check: " + damaged;
    return res;
  }
  res.status = run_status::ok;
  return res;
}

run_result assemble_fan_out(const run_request& req, const group_program& program,
                            const group_reports& b) {
  (void)req;
  run_result res;
  res.group.emplace();
  group_outcome& g = *res.group;
  const peer_report* producer = nullptr;
  std::uint64_t taken = 0, hashes = 0;
  std::int64_t end = 0;
  std::vector<double> rates;
  std::string damaged;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    const group_member& m = program.members[k];
    const peer_report& r = b.reports[k];
    member_outcome o;
    o.r = m.r;
    o.index = m.index;
    o.messages = r.messages;
    o.elapsed_ns = r.t1 - r.t0;
    o.cpu_ns = r.cpu.total_ns;
    g.members.push_back(std::move(o));
    res.integrity_errors += r.integrity_errors;
    if (r.integrity_errors != 0)
      damaged += std::string(to_string(m.r)) + " " + std::to_string(m.index) + " " +
                 r.integrity_summary + "; ";
    peer_cpu& cpu = m.r == role::producer ? res.producer_cpu : res.consumer_cpu;
    cpu.user_ns += r.cpu.user_ns;
    cpu.sys_ns += r.cpu.sys_ns;
    cpu.total_ns += r.cpu.total_ns;
    if (m.r == role::producer) {
      producer = &r;
      continue;
    }
    taken += r.messages;
    hashes += r.work_hash.value_or(0);
    end = std::max(end, r.t1);
    rates.push_back(r.t1 > r.t0
                        ? static_cast<double>(r.messages) * 1e9 / static_cast<double>(r.t1 - r.t0)
                        : 0.0);
  }
  if (producer == nullptr || rates.empty())
    throw std::runtime_error("fan-out without producer or consumer");
  std::size_t sender = 0;
  for (std::size_t k = 0; k < program.members.size(); ++k)
    if (program.members[k].r == role::producer) sender = k;
  for (std::size_t k = 0; k < program.members.size(); ++k) {
    if (program.members[k].r != role::consumer || producer->delay_ns.empty() ||
        b.reports[k].delay_ns.empty())
      continue;
    pair_delays(producer->delay_ns[0], b.reports[k].delay_ns[0], g.members[sender].delay,
                g.members[k].delay);
  }
  if (producer->work_hash && (taken != producer->messages || hashes != *producer->work_hash)) {
    ++res.integrity_errors;
    damaged += "work queue: the readers took " + std::to_string(taken) + " records of " +
               std::to_string(producer->messages) + " sent" +
               (taken == producer->messages ? ", but not each exactly once" : "") + "; ";
  }
  res.messages = taken;
  res.elapsed_ns = end - producer->t0;
  if (rates.size() > 1) g.fairness = spread_of(rates);
  if (res.integrity_errors != 0) {
    damaged.resize(damaged.size() - 2);
    res.status = run_status::failed;
    res.reason = "data check: " + damaged;
    return res;
  }
  res.status = run_status::ok;
  return res;
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
