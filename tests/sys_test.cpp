#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "sys/child.hpp"
#include "sys/cleanup.hpp"
#include "sys/error.hpp"
#include "sys/io.hpp"
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

}  // namespace
}  // namespace ipcbench
