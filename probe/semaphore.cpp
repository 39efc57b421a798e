// Claim 8: System V semaphores (semop(2), semctl(2)). With SEM_UNDO the kernel reverts a
// process's adjustments when it exits, so a semaphore held by a process that dies is released
// (without SEM_UNDO it stays held), at some cost per operation; IPC_NOWAIT turns a wait into
// EAGAIN; removal wakes a sleeper with EIDRM; sem_op 0 waits for the value to reach zero; a set
// outlives its creator (sysvipc(7)).
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "probe/semaphore.hpp"
#include "stats/rank.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/names.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

// semctl(2): the caller defines this union.
union semun {
  int val;
  semid_ds* buf;
  unsigned short* array;
};

class sem_set {
 public:
  sem_set()
      : id_([] {
          key_t key = 0;
          return names::create_with_unique_key(
              [](key_t k) { return ::semget(k, 1, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
        }()),
        guard_(cleanup::kind::sysv_sem, id_) {}
  sem_set(const sem_set&) = delete;
  sem_set& operator=(const sem_set&) = delete;
  ~sem_set() { remove(); }
  int id() const noexcept { return id_; }
  // Removes the set now (IPC_RMID): sleepers wake with EIDRM.
  void remove() noexcept {
    if (removed_) return;
    ::semctl(id_, 0, IPC_RMID);
    removed_ = true;
    guard_.release();
  }
  void set(int v) {
    semun arg{};
    arg.val = v;
    check(::semctl(id_, 0, SETVAL, arg), "semctl(SETVAL)");
  }
  int get() const { return check(::semctl(id_, 0, GETVAL), "semctl(GETVAL)"); }
  // Processes asleep in semop waiting for the value to grow (GETNCNT) or reach zero (GETZCNT).
  int waiting(int cmd) const { return check(::semctl(id_, 0, cmd), "semctl(GETNCNT/GETZCNT)"); }

 private:
  int id_;
  cleanup::guard guard_;
  bool removed_ = false;
};

// semop on semaphore 0 with IPC_NOWAIT: "ok" or the errno name.
std::string try_op(int id, short op) {
  sembuf b{0, op, IPC_NOWAIT};
  return ::semop(id, &b, 1) == 0 ? std::string("ok") : errno_name(errno);
}

// A child takes the semaphore (with or without SEM_UNDO), says so, and waits to be killed.
// Returns {value while held, value after the holder was killed}.
std::pair<int, int> hold_and_die(sem_set& s, short flags, const deadline& d) {
  s.set(1);
  auto taken = make_pipe();
  child_process holder = child_process::fork([&]() -> int {
    taken.read_end.reset();
    sembuf op{0, -1, flags};
    check(::semop(s.id(), &op, 1), "semop(-1)");
    announce(taken.write_end.get());
    for (;;) ::pause();
  });
  taken.write_end.reset();
  if (!wait_readable(taken.read_end.get(), d.left()))
    throw probe_timeout("waiting for the child to take the semaphore");
  const int held = s.get();
  holder.kill_and_reap();
  return {held, s.get()};
}

outcome undo(const deadline& d) {
  sem_set s;
  const auto [held_undo, after_undo] = hold_and_die(s, SEM_UNDO, d);
  const auto [held_plain, after_plain] = hold_and_die(s, 0, d);
  outcome o;
  o.value = {{"SEM_UNDO: held, after SIGKILL", {held_undo, after_undo}},
             {"no SEM_UNDO: held, after SIGKILL", {held_plain, after_plain}}};
  o.result = held_undo == 0 && after_undo == 1 ? verdict::holds : verdict::does_not_hold;
  o.detail =
      "a child took the semaphore (1 -> 0) and was killed with SIGKILL: with SEM_UNDO the "
      "value went back to " +
      std::to_string(after_undo) + "; without SEM_UNDO it stayed at " +
      std::to_string(after_plain) + " (POSIX semaphores have no such undo)";
  return o;
}

outcome nowait(const deadline&) {
  sem_set s;
  s.set(0);
  const std::string at_zero = try_op(s.id(), -1);
  const int after_zero = s.get();
  s.set(1);
  const std::string two_of_one = try_op(s.id(), -2);
  const int after_one = s.get();
  outcome o;
  o.value = {{"value 0: semop(-1, IPC_NOWAIT)", at_zero},
             {"value 1: semop(-2, IPC_NOWAIT)", two_of_one},
             {"values after", {after_zero, after_one}}};
  const bool ok =
      at_zero == "EAGAIN" && two_of_one == "EAGAIN" && after_zero == 0 && after_one == 1;
  o.result = ok ? verdict::holds : verdict::does_not_hold;
  o.detail = "semop(-1, IPC_NOWAIT) at value 0: " + at_zero +
             "; semop(-2, IPC_NOWAIT) at value 1: " + two_of_one + "; the values stayed " +
             std::to_string(after_zero) + " and " + std::to_string(after_one) +
             " (an operation that cannot proceed changes nothing)";
  return o;
}

outcome removal_wakes(const deadline& d) {
  sem_set s;
  s.set(0);
  auto w = watch_blocking(
      [&](int ready) {
        announce(ready);
        sembuf down{0, -1, 0};
        return ::semop(s.id(), &down, 1) == 0 ? 0 : errno;  // the exit code says why it returned
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "semop(-1) at value 0 did not block: the caller " + w.state;
    return o;
  }
  const int sleepers = s.waiting(GETNCNT);
  s.remove();
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool exited = st && WIFEXITED(*st);
  const int code = exited ? WEXITSTATUS(*st) : -1;
  const std::string returned = !st         ? "still asleep"
                               : !exited   ? describe_wait_status(*st)
                               : code == 0 ? std::string("succeeded")
                                           : errno_name(code);
  o.value = {{"after 200 ms", w.state}, {"GETNCNT", sleepers}, {"semop after IPC_RMID", returned}};
  o.result = code == EIDRM ? verdict::holds : verdict::does_not_hold;
  o.detail = "a child's semop(-1) at value 0 was " + w.state + " after 200 ms (GETNCNT " +
             std::to_string(sleepers) + "); after IPC_RMID of the set it " +
             (code == EIDRM ? std::string("returned -1 with EIDRM") : returned);
  return o;
}

outcome wait_for_zero(const deadline& d) {
  sem_set s;
  s.set(0);
  const std::string at_zero = try_op(s.id(), 0);
  s.set(1);
  const std::string at_one = try_op(s.id(), 0);
  auto w = watch_blocking(
      [&](int ready) {
        announce(ready);
        sembuf zero{0, 0, 0};
        return ::semop(s.id(), &zero, 1) == 0 ? 0 : 1;
      },
      kBlockingWindow, d);
  outcome o;
  if (!w.blocked) {
    o.value = {{"value 0: semop(0, IPC_NOWAIT)", at_zero},
               {"value 1: semop(0, IPC_NOWAIT)", at_one},
               {"value 1: semop(0) after 200 ms", w.state}};
    o.result = verdict::does_not_hold;
    o.detail = "semop(0) at value 1 did not block: the caller " + w.state;
    return o;
  }
  const int sleepers = s.waiting(GETZCNT);
  sembuf down{0, -1, 0};
  check(::semop(s.id(), &down, 1), "semop(-1)");
  const auto st = wait_unblocked(w.child, std::chrono::seconds(2), d);
  const bool returned = st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  o.value = {{"value 0: semop(0, IPC_NOWAIT)", at_zero},
             {"value 1: semop(0, IPC_NOWAIT)", at_one},
             {"value 1: semop(0) after 200 ms", w.state},
             {"GETZCNT", sleepers},
             {"returned when the value reached 0", returned}};
  o.result =
      at_zero == "ok" && at_one == "EAGAIN" && returned ? verdict::holds : verdict::does_not_hold;
  o.detail = "semop(0) returned at once at value 0 (" + at_zero + ") and, with IPC_NOWAIT, " +
             "failed at value 1 (" + at_one + "); a child's semop(0) at value 1 was " + w.state +
             " after 200 ms (GETZCNT " + std::to_string(sleepers) + ") and " +
             (returned ? "returned when the parent took the value to 0"
                       : "did not return when the parent took the value to 0");
  return o;
}

// Nanoseconds per semop of pairs of -1, +1 on a semaphore at 1, with `flags`: the median of
// kChunks chunks of kChunkPairs pairs, so a run that loses the CPU for a while (the machine is
// shared) is judged by the chunks it kept.
constexpr int kChunks = 9, kChunkPairs = 1000;
double ns_per_op(int id, short flags) {
  sembuf down{0, -1, flags}, up{0, 1, flags};
  std::vector<double> chunks;
  for (int c = 0; c < kChunks; ++c) {
    const auto t0 = now_ns();
    for (int i = 0; i < kChunkPairs; ++i) {
      check(::semop(id, &down, 1), "semop(-1)");
      check(::semop(id, &up, 1), "semop(+1)");
    }
    chunks.push_back(static_cast<double>(now_ns() - t0) / (2.0 * kChunkPairs));
  }
  return median(chunks);
}

// SEM_UNDO makes every semop find the process's undo record for the set and adjust it. Runs with
// and without alternate, so a drift of the machine's speed falls on both. 7 runs a side: the
// rank test's least two-sided p is 2 / C(14, 7) = 0.00058.
outcome undo_cost(const deadline& d) {
  constexpr int kRuns = 7;
  sem_set s;
  s.set(1);
  // Warm-up: the first SEM_UNDO operation allocates the undo record.
  ns_per_op(s.id(), 0);
  ns_per_op(s.id(), SEM_UNDO);
  std::vector<double> plain, undo;
  for (int r = 0; r < kRuns; ++r) {
    d.check("timing semop");
    plain.push_back(ns_per_op(s.id(), 0));
    undo.push_back(ns_per_op(s.id(), SEM_UNDO));
  }
  return decide_undo_cost(plain, undo, 2 * kChunks * kChunkPairs);
}

outcome semaphore_outlives_creator(const deadline& d) {
  constexpr short kValue = 5;
  auto made = create_in_child(
      [] {
        key_t key = 0;
        return names::create_with_unique_key(
            [](key_t k) { return ::semget(k, 1, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
      },
      [](int id) {
        sembuf up{0, kValue, 0};  // no SEM_UNDO: the value stays when the creator exits
        return ::semop(id, &up, 1) == 0 ? 0 : 1;
      },
      d);
  const int id = made.id;
  cleanup::guard g(cleanup::kind::sysv_sem, id);
  struct remover {
    int id;
    ~remover() { ::semctl(id, 0, IPC_RMID); }
  } remove_at_end{id};
  const int st = wait_exit(made.creator, d, "waiting for the creator to exit");
  const pid_t creator_pid = made.creator.pid();

  semid_ds ds{};
  semun arg{};
  arg.buf = &ds;
  const bool exists = ::semctl(id, 0, IPC_STAT, arg) == 0;
  const int value = exists ? ::semctl(id, 0, GETVAL) : -1;
  const int last_pid = exists ? ::semctl(id, 0, GETPID) : -1;
  check(::semctl(id, 0, IPC_RMID), "semctl(IPC_RMID)");
  const bool gone = ::semctl(id, 0, IPC_STAT, arg) < 0 && (errno == EINVAL || errno == EIDRM);
  g.release();

  outcome o;
  const bool creator_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  o.value = {{"creator", describe_wait_status(st)},
             {"set after creator exit", exists ? "exists" : "gone"},
             {"value", value},
             {"last semop by the creator", last_pid == creator_pid},
             {"after IPC_RMID", gone ? "gone" : "still there"}};
  o.result = creator_ok && exists && value == kValue && last_pid == creator_pid && gone
                 ? verdict::holds
                 : verdict::does_not_hold;
  o.detail = "the creator (pid " + std::to_string(creator_pid) + ") " + describe_wait_status(st) +
             " after raising its semaphore to " + std::to_string(kValue) +
             ", without removing the set; the set " +
             (exists ? "was still there with value " + std::to_string(value) + " (GETPID " +
                           std::to_string(last_pid) + ")"
                     : std::string("was gone")) +
             ", and " + (gone ? "gone after IPC_RMID" : "still there after IPC_RMID");
  return o;
}

}  // namespace

outcome decide_undo_cost(const std::vector<double>& plain, const std::vector<double>& undo,
                         int semops_per_run) {
  auto rounded_all = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(round_to(x, 1));
    return a;
  };
  outcome o;
  o.value = {{"ns per semop without SEM_UNDO", rounded_all(plain)},
             {"ns per semop with SEM_UNDO", rounded_all(undo)},
             {"semops per run", semops_per_run},
             {"runs a side", {{"without", plain.size()}, {"with", undo.size()}}}};
  const std::vector<rank_stats::rank_stratum> one = {{.a = undo, .b = plain}};
  const auto test = rank_stats::stratified_rank_test(one);
  if (!test) {
    o.result = verdict::inconclusive;
    o.detail = "SEM_UNDO: no runs to compare (" + std::to_string(plain.size()) + " without, " +
               std::to_string(undo.size()) + " with)";
    return o;
  }
  const double mp = median(plain), mu = median(undo);
  // The share of the pairs of runs in which the one with SEM_UNDO took longer (a tie: half).
  const double slower = 1 - test->a_lower;
  o.value["median without"] = round_to(mp, 1);
  o.value["median with"] = round_to(mu, 1);
  o.value["ratio of the medians"] = round_to(mu / mp, 3);
  o.value["with slower in share of pairs"] = round_to(slower, 3);
  o.value["rank test p"] = test->p;
  const bool shown = within_rank_level(test->p);
  o.result = shown && slower > 0.5   ? verdict::holds
             : shown && slower < 0.5 ? verdict::does_not_hold
                                     : verdict::inconclusive;
  o.detail = "median " + rounded(mu, 1) + " ns per semop with SEM_UNDO against " + rounded(mp, 1) +
             " ns without (ratio " + rounded(mu / mp, 3) + ", " + rounded(mu - mp, 1) +
             " ns a semop), " + std::to_string(undo.size()) + " and " +
             std::to_string(plain.size()) + " runs of " + std::to_string(semops_per_run) +
             " semops: ";
  const std::string test_text = " % of the pairs of runs (exact rank test, p = " + p_text(test->p);
  if (o.result == verdict::holds)
    o.detail += "the run with SEM_UNDO was slower in " + rounded(100 * slower, 0) + test_text + ")";
  else if (o.result == verdict::does_not_hold)
    o.detail += "the run with SEM_UNDO was faster in " + rounded(100 * (1 - slower), 0) +
                test_text + "), so this measurement refutes the claim here";
  else
    o.detail +=
        "the runs overlap too much to tell the cost from the machine's noise: the run with "
        "SEM_UNDO was slower in " +
        rounded(100 * slower, 0) + test_text + ", above " + p_text(kRankLevel) + ")";
  return o;
}

std::vector<probe> semaphore_probes() {
  return {
      {"sysv_sem_undo", "SEM_UNDO releases a System V semaphore held by a process that dies",
       "tutorial 003, section '5、信号量机制' (semaphores: sem_flg = SEM_UNDO); man 2 semop "
       "(SEM_UNDO)",
       "semget a 1-semaphore set at 1; a forked child does semop(-1, SEM_UNDO) and is killed with "
       "SIGKILL; read GETVAL; repeat without SEM_UNDO",
       undo},
      {"sysv_sem_undo_cost", "SEM_UNDO costs extra per semop",
       "tutorial 003, section '5、信号量机制' (semaphores: SEM_UNDO on every P and V); man 2 semop "
       "(SEM_UNDO)",
       "one process times semop(-1), semop(+1) pairs on one semaphore without and with SEM_UNDO, "
       "7 runs each, alternating, after a warm-up; a run is the median of 9 chunks of 1,000 "
       "pairs, in ns per semop. Decided by the exact rank test between the two sets of runs: "
       "holds where the runs with SEM_UNDO were slower at two-sided p <= 0.1, does not hold "
       "where they were faster at p <= 0.1; inconclusive otherwise",
       undo_cost},
      {"sysv_sem_nowait_eagain",
       "semop(2) that cannot proceed fails with EAGAIN under IPC_NOWAIT, changing nothing",
       "tutorial 000, section '信号号相关的两个结构体' (semop: IPC_NOWAIT gives EAGAIN); tutorial "
       "003, section 'semop()'; man 2 semop",
       "semop(-1, IPC_NOWAIT) at value 0 and semop(-2, IPC_NOWAIT) at value 1; GETVAL after each",
       nowait},
      {"sysv_sem_rmid_wakes_eidrm",
       "Removing a semaphore set (IPC_RMID) wakes a process asleep in semop(2) with EIDRM",
       "tutorial 000, section '信号号相关的两个结构体' (semop: the set removed, EIDRM); man 2 "
       "semop",
       "a forked child does semop(-1) at value 0 and must still be asleep after 200 ms (GETNCNT); "
       "the parent removes the set; the child's semop must fail with EIDRM",
       removal_wakes},
      {"sysv_sem_wait_for_zero",
       "semop(2) with sem_op 0 waits while the value is not zero and returns when it reaches zero",
       "tutorial 000, section '信号号相关的两个结构体' (semop: sem_op 0 waits for zero); tutorial "
       "003, section 'semop()'; man 2 semop",
       "semop(0, IPC_NOWAIT) at value 0 and at 1; a forked child does semop(0) at value 1 and must "
       "still be asleep after 200 ms (GETZCNT); the parent does semop(-1)",
       wait_for_zero},
      {"sysv_sem_kernel_persistence",
       "A System V semaphore set outlives the process that created it, until IPC_RMID",
       "tutorial 004, section 5 '信号量' (semaphores: lifetime follows the kernel); man 7 sysvipc",
       "a forked child creates a set, raises its semaphore to 5 (no SEM_UNDO), sends the id and "
       "exits without IPC_RMID; the parent stats the set, reads GETVAL and GETPID, removes it and "
       "stats again",
       semaphore_outlives_creator},
  };
}

}  // namespace ipcbench::probes
