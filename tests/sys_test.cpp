#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "sys/child.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/helper_daemon.hpp"
#include "sys/io.hpp"
#include "sys/mapping.hpp"
#include "sys/named.hpp"
#include "sys/names.hpp"
#include "sys/partner.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"
#include "test_env.hpp"

namespace ipcbench {
namespace {

bool fd_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(UniqueFd, ClosesOnDestructionAndMove) {
  int raw;
  {
    auto p = make_pipe();
    raw = p.read_end.get();
    unique_fd moved = std::move(p.read_end);
    EXPECT_EQ(p.read_end.get(), -1);
    EXPECT_EQ(moved.get(), raw);
    EXPECT_TRUE(fd_open(raw));
  }
  EXPECT_FALSE(fd_open(raw));
}

TEST(CheckedCalls, ThrowSystemErrorNamingTheCall) {
  try {
    check(::open("/nonexistent/x", O_RDONLY), "open(/nonexistent/x)");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("open(/nonexistent/x)"), std::string::npos);
  }
}

TEST(Io, WholeBuffersAcrossPipeCapacity) {
  auto p = make_pipe();
  std::vector<std::byte> out(300'000), in(300'000);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i * 7);
  auto writer = child_process::fork([&] {
    p.read_end.reset();
    return write_all(p.write_end.get(), out) == io_status::ok ? 0 : 1;
  });
  p.write_end.reset();
  EXPECT_EQ(read_exact(p.read_end.get(), in), io_status::ok);
  EXPECT_EQ(in, out);
  auto st = writer.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
  // EOF after the writer closed is a value, not an exception.
  std::byte b[1];
  EXPECT_EQ(read_exact(p.read_end.get(), b), io_status::closed);
}

TEST(Io, WriteToClosedReaderIsClosedNotSignal) {
  auto p = make_pipe();
  p.read_end.reset();
  ::signal(SIGPIPE, SIG_IGN);
  std::byte b[1] = {};
  EXPECT_EQ(write_all(p.write_end.get(), b), io_status::closed);
}

// The one reader of /proc/<pid>/stat: the state and times of a live process, a name full of
// spaces and parentheses read right, and nothing (no exception) for a process that is gone.
TEST(ProcStat, ReadsStateAndTimesAndNothingForAGoneProcess) {
  const auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->state, 'R');
  EXPECT_GT(self->start_time, 0u);
  // Field 39: the CPU it runs on, here the one it is pinned to.
  const std::vector<int> mine = allowed_cpus();
  set_cpus({mine.back()});
  EXPECT_EQ(read_proc_stat(::getpid())->processor, mine.back());
  set_cpus(mine);
  EXPECT_GT(read_schedstat_run_ns(::getpid()).value_or(0), 0);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  auto child = child_process::fork([&] {
    ::prctl(PR_SET_NAME, "a) b (c) S 1 2", 0, 0, 0);
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 1;
    ::pause();
    return 0;
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  std::optional<proc_stat> sleeping;
  for (int i = 0; i < 200; ++i) {  // until it has gone to sleep in pause()
    sleeping = read_proc_stat(child.pid());
    if (sleeping && sleeping->state == 'S') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(sleeping.has_value());
  EXPECT_EQ(sleeping->state, 'S');
  EXPECT_GE(sleeping->start_time, self->start_time);
  const pid_t gone = child.pid();
  ::kill(gone, SIGKILL);
  ASSERT_TRUE(child.wait_for(std::chrono::seconds(5)).has_value());
  EXPECT_FALSE(read_proc_stat(gone).has_value());
}

// A helper's CPU time is counted in nanoseconds (its CPU clock), not in 10 ms ticks: 3 ms of CPU
// shows as 3 ms, not as 0 or 10. A process that is gone reads as nullopt, not as an exception.
// Spins until the calling thread has run `ns` more nanoseconds.
void spin_thread_cpu(std::int64_t ns) {
  auto thread_cpu_ns = [] {
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return timespec_ns(ts);
  };
  const std::int64_t start = thread_cpu_ns();
  while (thread_cpu_ns() - start < ns) {
  }
}

TEST(ProcessCpu, CountsNanosecondsAndNothingForAGoneProcess) {
  const auto before = process_cpu_ns(::getpid());
  ASSERT_TRUE(before.has_value());
  spin_thread_cpu(3'000'000);
  const auto after = process_cpu_ns(::getpid());
  ASSERT_TRUE(after.has_value());
  const std::int64_t used = *after - *before;
  EXPECT_GE(used, 3'000'000);
  EXPECT_NE(used % 10'000'000, 0) << "counted in clock ticks: " << used << " ns";

  pid_t gone = 0;
  {
    auto child = child_process::fork([] { return 0; });
    gone = child.pid();
    ASSERT_TRUE(child.wait_for(std::chrono::seconds(5)).has_value());
  }
  EXPECT_FALSE(process_cpu_ns(gone).has_value());
}

// A thread's time stays counted after it ends: a sum over the live threads lost it, and a helper
// whose thread ended during a batch read as having run less after it than before.
TEST(ProcessCpu, KeepsTheTimeOfAThreadThatHasEnded) {
  std::atomic<bool> spun{false};
  std::atomic<bool> end{false};
  std::thread t([&] {
    spin_thread_cpu(5'000'000);
    spun = true;
    while (!end) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!spun) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto with_it = process_cpu_ns(::getpid());
  end = true;
  t.join();
  const auto after_it = process_cpu_ns(::getpid());
  ASSERT_TRUE(with_it.has_value());
  ASSERT_TRUE(after_it.has_value());
  EXPECT_GE(*after_it, *with_it);
}

// A thread's wait for its CPU: the time it was runnable while another thread ran there. Two
// threads that spin on one CPU wait for each other; the text is the schedstat file's.
TEST(RunDelay, CountsTheWaitBehindAnotherThreadOnTheSameCpu) {
  ASSERT_TRUE(parse_schedstat("123 456 7\n").has_value());
  EXPECT_EQ(parse_schedstat("123 456 7\n")->run_ns, 123);
  EXPECT_EQ(parse_schedstat("123 456 7\n")->run_delay_ns, 456);
  EXPECT_FALSE(parse_schedstat("123\n").has_value());
  EXPECT_FALSE(parse_schedstat("").has_value());

  cpu_set_t was;
  ASSERT_EQ(::sched_getaffinity(0, sizeof was, &was), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &was)) ++cpu;
  ASSERT_LT(cpu, CPU_SETSIZE);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
  const run_delay_reader reader;
  const auto before = reader.now();
  std::atomic<bool> stop{false};
  std::thread other([&] {  // inherits the one CPU
    while (!stop) {
    }
  });
  spin_thread_cpu(20'000'000);
  const auto after = reader.now();
  stop = true;
  other.join();
  ASSERT_EQ(::sched_setaffinity(0, sizeof was, &was), 0);
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(after.has_value());
  // Sharing the CPU evenly, it waited about as long as it ran; a few ms at the least.
  EXPECT_GE(*after - *before, 2'000'000);
}

TEST(ChildProcess, DestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    auto c = child_process::fork([] {
      ::pause();
      return 0;
    });
    pid = c.pid();
    EXPECT_TRUE(c.running());
  }
  EXPECT_EQ(::kill(pid, 0), -1);  // gone and reaped: no zombie left
  EXPECT_TRUE(test::no_children());
}

TEST(ChildProcess, ExceptionInChildBecomesExitCode) {
  auto c = child_process::fork([]() -> int { throw std::runtime_error("boom"); });
  auto st = c.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st);
  EXPECT_EQ(describe_wait_status(*st), "exited with 70");
}

TEST(ChildProcess, DescribesSignals) {
  auto c = child_process::fork([] {
    ::raise(SIGKILL);
    return 0;
  });
  auto st = c.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st);
  EXPECT_EQ(describe_wait_status(*st), "killed by SIGKILL");
}

TEST(ChildProcess, WaitForReturnsTheStatusOnceTheChildExitsAndNothingOnTimeout) {
  auto exits = child_process::fork([] {
    ::usleep(50'000);
    return 3;
  });
  auto sleeps = child_process::fork([] {
    ::pause();
    return 0;
  });
  EXPECT_FALSE(sleeps.wait_for(std::chrono::milliseconds(100)));
  EXPECT_TRUE(sleeps.running());
  const auto st = exits.wait_for(std::chrono::seconds(30));
  ASSERT_TRUE(st);
  EXPECT_EQ(describe_wait_status(*st), "exited with 3");
  EXPECT_FALSE(exits.running());
  // Reaped: asking again gives the same status at once.
  EXPECT_EQ(exits.wait_for(std::chrono::milliseconds(0)), st);
  EXPECT_EQ(describe_wait_status(sleeps.kill_and_reap()), "killed by SIGKILL");
}

TEST(Cleanup, RunAllRemovesRegisteredObjects) {
  const auto dir = test::scratch_dir() / "cleanup-dir";
  std::filesystem::create_directory(dir);
  const auto fifo = dir / "x.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  cleanup::guard d(cleanup::kind::dir, -1, dir.c_str());
  cleanup::guard f(cleanup::kind::path, -1, fifo.c_str());
  auto c = child_process::fork([] {
    ::pause();
    return 0;
  });
  cleanup::run_all();
  EXPECT_FALSE(std::filesystem::exists(fifo));
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(::kill(c.pid(), 0), -1);  // killed and reaped by the cleanup
}

// The handler's path for a helper's fixed names (kind::fixed_names): kept while the helper's
// lock file is locked, removed once it is free.
TEST(Cleanup, RunAllRemovesFixedNamesUnlessTheirLockIsHeld) {
  const auto dir = test::scratch_dir() / "fixed-names";
  std::filesystem::create_directory(dir);
  const auto lock = dir / "helper.lock", sock = dir / "helper.sock";
  const cleanup::fixed_names fixed{lock.string(), {sock.string(), lock.string()}, {}};
  std::ofstream(lock) << "";
  std::ofstream(sock) << "";
  {
    // flock(2) locks an open file description: a second one in this process conflicts as
    // another process's would.
    const unique_fd held(::open(lock.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);
    const cleanup::guard g(fixed);
    cleanup::run_all();
    EXPECT_TRUE(std::filesystem::exists(sock));
    EXPECT_TRUE(std::filesystem::exists(lock));
  }
  const cleanup::guard g(fixed);
  cleanup::run_all();
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_FALSE(std::filesystem::exists(lock));
  std::filesystem::remove(dir);
}

TEST(Cleanup, FixedNamesAreCheckedWhenRegistered) {
  using names = cleanup::fixed_names;
  EXPECT_THROW(cleanup::add(names{"relative.lock", {"/tmp/x"}, {}}), std::invalid_argument);
  EXPECT_THROW(cleanup::add(names{"/tmp/x.lock", {"/tmp/a:b"}, {}}), std::invalid_argument);
  EXPECT_THROW(cleanup::add(names{"/tmp/x.lock", {"/tmp/a\nb"}, {}}), std::invalid_argument);
  EXPECT_THROW(cleanup::add(names{"/tmp/x.lock", {}, {"/a/b"}}), std::invalid_argument);
  EXPECT_THROW(cleanup::add(names{"/tmp/x.lock", {"/" + std::string(600, 'x')}, {}}),
               std::length_error);
}

TEST(RetryOnEintr, RepeatsOnlyInterruptedCallsAndKeepsTheirErrno) {
  int calls = 0;
  EXPECT_EQ(retry_on_eintr([&] {
              errno = EINTR;
              return ++calls < 3 ? -1 : 7;
            }),
            7);
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_EQ(retry_on_eintr([&] {
              errno = ++calls < 2 ? EINTR : EAGAIN;
              return -1L;
            }),
            -1L);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(errno, EAGAIN);
  // An API with an error number of its own (zmq_errno): errno is not looked at.
  int own = EINTR;
  calls = 0;
  errno = 0;
  EXPECT_EQ(retry_on_eintr(
                [&] {
                  if (++calls == 2) own = EBADF;
                  return -1;
                },
                [&] { return own; }),
            -1);
  EXPECT_EQ(calls, 2);
}

extern "C" void on_test_signal(int) {}

// A signal every 20 ms interrupts the poll again and again: each retry waits for what is left
// of the timeout, so the wait ends on time.
TEST(RetryOnEintr, AWaitWithADeadlineEndsOnTimeUnderSignals) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_test_signal;  // no SA_RESTART; poll(2) is never restarted anyway
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old), 0);
  auto p = make_pipe();
  const pthread_t waiter = ::pthread_self();
  std::atomic<bool> done{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread interrupter([&] {
    // Bounded, so that a wait that starts its timeout over fails the test instead of hanging.
    while (!done.load() && std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
      ::pthread_kill(waiter, SIGUSR2);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const bool readable = wait_readable(p.read_end.get(), std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  done = true;
  interrupter.join();
  ::sigaction(SIGUSR2, &old, nullptr);
  EXPECT_FALSE(readable);
  EXPECT_GE(took, std::chrono::milliseconds(290));  // ms granularity: the last try may round down
  EXPECT_LT(took, std::chrono::milliseconds(2000));
}

TEST(PrivateDir, IsPrivateAndRemoved) {
  std::filesystem::path p;
  {
    private_dir d;
    p = d.path();
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(p.parent_path(), test::scratch_dir());
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(System, ReadsKernelTunables) {
  EXPECT_TRUE(read_integer("/proc/sys/fs/pipe-max-size").has_value());
  EXPECT_FALSE(read_integer("/nonexistent").has_value());
  EXPECT_FALSE(allowed_cpus().empty());
}

TEST(System, ReadsKernelLimits) {
  // kernel.shmmax is often near 2^64, beyond long long.
  EXPECT_TRUE(read_integer<unsigned long long>("/proc/sys/kernel/shmmax").has_value());
  EXPECT_EQ(require_limit("/proc/sys/fs/pipe-max-size"),
            *read_integer("/proc/sys/fs/pipe-max-size"));
  EXPECT_THROW(require_limit("/nonexistent"), std::runtime_error);
}

// Whether [p, p + n) is mapped in this process (mincore(2) fails with ENOMEM where it is not).
bool mapped(const void* p, std::size_t n) {
  unsigned char pages[4];
  return ::mincore(const_cast<void*>(p), n, pages) == 0;
}

TEST(System, NamesTheProcessThatHoldsAFlock) {
  private_dir dir;
  const auto file = dir.path() / "lock";
  unique_fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  EXPECT_EQ(flock_holder(file), std::nullopt);
  EXPECT_EQ(flock_holder(dir.path() / "absent"), std::nullopt);
  // A child takes the lock and holds it until its pipe closes.
  auto [rd, wr] = make_pipe();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    wr.reset();
    char c = 0;
    // Its own open file description: a flock belongs to that, not to the process.
    const int own = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (own < 0 || ::flock(own, LOCK_EX) != 0) ::_exit(1);
    (void)!::read(rd.get(), &c, 1);
    ::_exit(0);
  }
  rd.reset();
  std::optional<pid_t> holder;
  for (int i = 0; i < 200 && !holder; ++i) {
    holder = flock_holder(file);
    if (!holder) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(holder, std::optional<pid_t>(child));
  wr.reset();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(flock_holder(file), std::nullopt);
}

TEST(Mapping, UnmappedOnDestructionNotOnMove) {
  const void* addr = nullptr;
  {
    mapping m = map_shared_anonymous(8192, "test");
    addr = m.data();
    ASSERT_NE(addr, nullptr);
    EXPECT_EQ(m.size(), 8192u);
    mapping moved = std::move(m);
    EXPECT_FALSE(m);
    EXPECT_EQ(moved.data(), addr);
    EXPECT_TRUE(mapped(addr, 8192));
  }
  EXPECT_FALSE(mapped(addr, 8192));
}

TEST(Mapping, MapsAFileShared) {
  const auto path = test::scratch_dir() / "mapped";
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
  {
    mapping m = map_shared(fd.get(), 4096, path.string());
    m.data()[100] = std::byte{42};
  }
  char c = 0;
  ASSERT_EQ(::pread(fd.get(), &c, 1, 100), 1);
  EXPECT_EQ(c, 42);
  std::filesystem::remove(path);
}

TEST(SharedPage, ForkedChildSharesTheObject) {
  const void* addr = nullptr;
  {
    shared_page<std::atomic<int>> counter;
    EXPECT_EQ(counter->load(), 0);  // value-initialised
    auto c = child_process::fork([&] {
      counter->store(7);
      return 0;
    });
    const auto st = c.wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(st);
    EXPECT_EQ(*st, 0);
    EXPECT_EQ(counter->load(), 7);
    addr = counter.get();
  }
  EXPECT_FALSE(mapped(addr, 1));
}

TEST(NamedObject, CreatedNameIsUnlinkedEarlyOrOnDestruction) {
  const auto early = test::scratch_dir() / "early.fifo";
  const auto late = test::scratch_dir() / "late.fifo";
  {
    named_object a(named_object::kind::path, early.string());
    named_object b(named_object::kind::path, late.string());
    for (auto* n : {&a, &b}) {
      ASSERT_EQ(::mkfifo(n->c_str(), 0600), 0);
      n->created();
    }
    a.unlink();
    EXPECT_FALSE(std::filesystem::exists(early));
    EXPECT_EQ(a.name(), early.string());
    named_object moved = std::move(b);
    EXPECT_TRUE(std::filesystem::exists(late));
  }
  EXPECT_FALSE(std::filesystem::exists(late));
}

TEST(NamedObject, LeavesANameItDidNotCreate) {
  const auto path = test::scratch_dir() / "not-ours";
  { unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)); }
  { named_object n(named_object::kind::path, path.string()); }
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST(NamedObject, UnlinksPosixNames) {
  const auto before = test::kernel_objects();
  {
    named_object n(named_object::kind::posix_shm, names::unique_posix_name("test"));
    unique_fd fd(::shm_open(n.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd);
    n.created();
    EXPECT_EQ(test::kernel_objects(), before + 1);
  }
  EXPECT_EQ(test::kernel_objects(), before);
}

TEST(NamedObject, RegisteredWithTheEmergencyCleanup) {
  const auto path = test::scratch_dir() / "emergency.fifo";
  named_object n(named_object::kind::path, path.string());
  ASSERT_EQ(::mkfifo(n.c_str(), 0600), 0);
  n.created();
  cleanup::run_all();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Partner, SeesAnExitedChildBeforeItIsReaped) {
  auto p = make_pipe();
  auto c = child_process::fork([&] {
    p.write_end.reset();
    char b;
    return ::read(p.read_end.get(), &b, 1) == 0 ? 0 : 1;  // exits at EOF
  });
  p.read_end.reset();
  const partner watch(c.pid());
  EXPECT_EQ(watch.pid(), c.pid());
  EXPECT_FALSE(watch.gone());
  p.write_end.reset();  // the child reads EOF and exits; nobody reaps it yet
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!watch.gone() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(watch.gone());
  EXPECT_EQ(::kill(c.pid(), 0), 0);  // a zombie still, which kill(pid, 0) takes for alive
  const auto st = c.wait_for(std::chrono::seconds(10));
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, 0);
}

TEST(Partner, ReapedProcessIsGoneFromTheStart) {
  auto c = child_process::fork([] { return 0; });
  const pid_t pid = c.pid();
  ASSERT_TRUE(c.wait_for(std::chrono::seconds(10)));
  EXPECT_TRUE(partner(pid).gone());
  EXPECT_FALSE(partner().gone());  // watches nobody
}

}  // namespace
}  // namespace ipcbench
