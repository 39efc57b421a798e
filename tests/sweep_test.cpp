// What a killed run leaves and the next run's sweep removes (sys/cleanup.hpp): the journal of a
// dead coordinator, its System V and POSIX objects, its private directory, its helper processes;
// never what a live run or someone else owns. The last test kills the real bench program.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sys/child.hpp"
#include "sys/cleanup.hpp"
#include "sys/io.hpp"
#include "sys/names.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

using namespace std::chrono_literals;

// Entries of TMPDIR whose name ends in ".journal".
std::vector<std::string> journals() {
  std::vector<std::string> v;
  for (const auto& n : test::leftovers())
    if (n.size() > 8 && n.compare(n.size() - 8, 8, ".journal") == 0) v.push_back(n);
  return v;
}

// Processes (other than this one) started with this test's IPCBENCH_SCOPE in their environment.
std::size_t processes_of_scope() {
  char want[32];
  std::snprintf(want, sizeof want, "%s=%04x", names::kScopeVariable,
                static_cast<unsigned>(names::scope()));
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos ||
        pid == std::to_string(::getpid()))
      continue;
    std::ifstream in(e.path() / "environ");
    std::string var;
    while (std::getline(in, var, '\0'))
      if (var == want) {
        ++n;
        break;
      }
  }
  return n;
}

// A child that runs `body`, which makes what it holds and then calls `ready`: that reports on a
// pipe and waits to be killed. Returns once the child is ready (or has exited).
using ready_fn = std::function<void()>;
child_process waiting_child(const std::function<int(const ready_fn& ready)>& body) {
  auto p = make_pipe();
  auto c = child_process::fork([&]() -> int {
    p.read_end.reset();
    return body([&p] {
      const char byte = 'r';
      if (::write(p.write_end.get(), &byte, 1) != 1) ::_exit(3);
      for (;;) ::pause();
    });
  });
  p.write_end.reset();
  char byte = 0;
  EXPECT_EQ(::read(p.read_end.get(), &byte, 1), 1);
  return c;
}

// A run to be killed: it opens a journal, makes a System V semaphore set, a POSIX semaphore and a
// private directory (all registered) and waits.
child_process killed_run_child() {
  return waiting_child([](const ready_fn& ready) -> int {
    cleanup::open_journal();
    key_t key = 0;
    const int id = names::create_with_unique_key(
        [](key_t k) { return ::semget(k, 1, IPC_CREAT | IPC_EXCL | 0600); }, "semget", key);
    cleanup::guard g1(cleanup::kind::sysv_sem, id);
    const std::string sem = names::unique_posix_name("sweep");
    sem_t* s = ::sem_open(sem.c_str(), O_CREAT | O_EXCL, 0600, 0u);
    if (s == SEM_FAILED) return 2;
    cleanup::guard g2(cleanup::kind::posix_sem, -1, sem.c_str());
    private_dir dir;
    ready();
    return 0;
  });
}

TEST(Sweep, RemovesWhatAKilledRunLeftAndLeavesALiveRunAlone) {
  const std::size_t before = test::kernel_objects();
  auto c = killed_run_child();
  EXPECT_EQ(test::kernel_objects(), before + 2);
  EXPECT_EQ(journals().size(), 1u);
  EXPECT_EQ(test::leftovers().size(), 2u);  // the journal and the private directory

  // Alive: its lock and its pid keep everything in place.
  auto r = cleanup::sweep_stale();
  EXPECT_TRUE(r.empty()) << r.describe();
  EXPECT_EQ(test::kernel_objects(), before + 2);
  EXPECT_EQ(test::leftovers().size(), 2u);

  // Killed: no handler ran, so all of it is still there until the sweep.
  ::kill(c.pid(), SIGKILL);
  ASSERT_TRUE(c.wait_for(5s).has_value());
  EXPECT_EQ(test::kernel_objects(), before + 2);
  EXPECT_EQ(test::leftovers().size(), 2u);
  r = cleanup::sweep_stale();
  EXPECT_EQ(r.objects, 2u) << r.describe();
  EXPECT_EQ(r.entries, 2u) << r.describe();  // the journal and the directory
  EXPECT_EQ(test::kernel_objects(), before);
  EXPECT_TRUE(test::leftovers().empty()) << test::leftovers().front();
}

TEST(Sweep, KillsAHelperOfADeadRunButNotAProcessThatReusedItsPid) {
  // The dead run's helper: a process of ours, recorded with its start time.
  auto helper = child_process::fork([]() -> int {
    for (;;) ::pause();
  });
  const auto dead_pid = [] {
    auto c = child_process::fork([] { return 0; });
    c.wait_for(5s);
    return c.pid();
  }();
  const auto journal =
      test::scratch_dir() / ("ipcbench-" + std::to_string(dead_pid) + "-x.journal");
  {
    std::ofstream j(journal);
    std::ifstream stat("/proc/" + std::to_string(helper.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    std::string f;
    for (int i = 3; i < 22; ++i) rest >> f;
    unsigned long long start = 0;
    rest >> start;
    j << "ipcbench-journal 1 scope=" << std::hex << names::scope() << std::dec
      << " pid=" << dead_pid << "\n+0 " << static_cast<int>(cleanup::kind::pid) << " "
      << helper.pid() << " " << start
      << " \n"
      // A pid with another start time: a process that reused a dead helper's pid.
      << "+1 " << static_cast<int>(cleanup::kind::pid) << " " << ::getpid() << " 1 \n";
  }
  const auto r = cleanup::sweep_stale();
  EXPECT_EQ(r.processes, 1u) << r.describe();
  const auto st = helper.wait_for(5s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  EXPECT_FALSE(std::filesystem::exists(journal));
}

TEST(Sweep, LeavesAnObjectOfAnotherScopeThatReusedAnId) {
  // A System V set whose key is not of the journal's scope: the dead run's id now names someone
  // else's object, which the sweep must not remove.
  const auto other = static_cast<std::uint16_t>(names::scope() ^ 0x8000);
  const key_t key = static_cast<key_t>(0x12340000u | other);
  const int id = ::semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(id, 0) << std::strerror(errno);
  const auto dead_pid = [] {
    auto c = child_process::fork([] { return 0; });
    c.wait_for(5s);
    return c.pid();
  }();
  const auto journal =
      test::scratch_dir() / ("ipcbench-" + std::to_string(dead_pid) + "-y.journal");
  std::ofstream(journal) << "ipcbench-journal 1 scope=" << std::hex << names::scope() << std::dec
                         << " pid=" << dead_pid << "\n+3 "
                         << static_cast<int>(cleanup::kind::sysv_sem) << " " << id << " 0 \n";
  const auto r = cleanup::sweep_stale();
  EXPECT_EQ(r.objects, 0u) << r.describe();
  EXPECT_EQ(::semctl(id, 0, GETVAL), 0) << "the other scope's set was removed";
  ::semctl(id, 0, IPC_RMID);
  EXPECT_FALSE(std::filesystem::exists(journal));
}

// A helper daemon's fixed names outside our scope (kind::fixed_names), journalled by a run that
// was then killed: the sweep leaves them while another process holds the helper's lock file and
// removes them once none does.
TEST(Sweep, RemovesFixedNamesOnlyWhenNoProcessHoldsTheirLock) {
  const auto dir = test::scratch_dir() / "fixed-names";
  std::filesystem::create_directory(dir);
  const auto lock = dir / "helper.lock", sock = dir / "helper.sock", data = dir / "data";
  const std::string shm = names::unique_posix_name("fixed");
  const std::vector<std::filesystem::path> all = {lock, sock, data, "/dev/shm" + shm};
  for (const auto& p : all) std::ofstream(p) << "x";  // /dev/shm/<name>: what shm_open makes
  const auto left = [&all] {
    return std::count_if(all.begin(), all.end(),
                         [](const auto& p) { return std::filesystem::exists(p); });
  };
  const cleanup::fixed_names fixed{
      lock.string(), {sock.string(), data.string(), lock.string()}, {shm}};
  const auto killed_run = [&fixed] {
    auto c = waiting_child([&fixed](const ready_fn& ready) -> int {
      cleanup::open_journal();
      cleanup::guard g(fixed);
      ready();
      return 0;
    });
    ::kill(c.pid(), SIGKILL);
    EXPECT_TRUE(c.wait_for(5s).has_value());
  };

  // The helper still runs: it holds the flock of its lock file.
  auto helper = waiting_child([&lock](const ready_fn& ready) -> int {
    const unique_fd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::flock(fd.get(), LOCK_EX) != 0) return 1;
    ready();
    return 0;
  });
  ASSERT_TRUE(flock_holder(lock).has_value());
  killed_run();
  auto r = cleanup::sweep_stale();
  EXPECT_EQ(r.objects, 0u) << r.describe();
  EXPECT_EQ(r.entries, 1u) << r.describe();  // the journal, replayed
  EXPECT_EQ(left(), 4);

  helper.kill_and_reap();
  killed_run();
  r = cleanup::sweep_stale();
  EXPECT_EQ(r.objects, 1u) << r.describe();
  EXPECT_EQ(r.entries, 1u) << r.describe();
  EXPECT_EQ(left(), 0);
  EXPECT_TRUE(journals().empty());
  std::filesystem::remove(dir);
}

TEST(Sweep, RemovesEntriesOfDeadPidsOnly) {
  const auto dead_pid = [] {
    auto c = child_process::fork([] { return 0; });
    c.wait_for(5s);
    return c.pid();
  }();
  const auto dead = test::scratch_dir() / ("ipcbench-" + std::to_string(dead_pid) + "-probes-abc");
  const auto mine = test::scratch_dir() / ("ipcbench-" + std::to_string(::getpid()) + "-kept");
  const auto other = test::scratch_dir() / "ipcbench-notapid-kept";
  std::ofstream(dead) << "{}";
  std::filesystem::create_directory(mine);
  std::ofstream(other) << "x";
  const auto r = cleanup::sweep_stale();
  EXPECT_EQ(r.entries, 1u) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(mine));
  EXPECT_TRUE(std::filesystem::exists(other));
  std::filesystem::remove(mine);
  std::filesystem::remove(other);
}

// The case: the coordinator itself killed mid-run. Its System V semaphore set, private
// directory and journal stay (no handler runs on SIGKILL) and its peers die with it
// (PR_SET_PDEATHSIG); once the next run has started, nothing of it is left.
TEST(Sweep, CoordinatorKilledWithSigkillLeavesNothingOnceTheNextRunStarted) {
  const std::size_t before = test::kernel_objects();
  const pid_t pid =
      test::spawn_quiet({IPCBENCH_BIN, "--benchmark_filter=^sysv_shm\\.sysv_sem/latency/",
                         "--sizes", "64", "--target-time", "20", "--timeout=28"});
  for (int i = 0; i < 400 && test::kernel_objects() <= before; ++i)
    std::this_thread::sleep_for(25ms);
  std::this_thread::sleep_for(300ms);
  ASSERT_GT(pid, 0);
  ASSERT_GT(test::kernel_objects(), before) << "the run never created its semaphore set";
  ::kill(pid, SIGKILL);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
  EXPECT_GT(test::kernel_objects(), before) << "SIGKILL ran no cleanup, yet the set is gone";
  EXPECT_EQ(journals().size(), 1u);
  for (int i = 0; i < 200 && processes_of_scope() > 0; ++i) std::this_thread::sleep_for(25ms);
  EXPECT_EQ(processes_of_scope(), 0u) << "a peer outlived its killed coordinator";

  // The next run: a short one of its own, which starts with the sweep.
  const pid_t next =
      test::spawn_quiet({IPCBENCH_BIN, "--benchmark_filter=^pipe/latency/", "--sizes", "1",
                         "--target-time", "0.001", "--benchmark_repetitions=1"});
  ASSERT_EQ(::waitpid(next, &st, 0), next);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(test::kernel_objects(), before);
  EXPECT_TRUE(test::leftovers().empty()) << test::leftovers().front();
  EXPECT_EQ(processes_of_scope(), 0u);
}

}  // namespace
}  // namespace ipcbench
