#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sys/names.hpp"
#include "sys/system.hpp"
#include "test_env.hpp"

namespace ipcbench::test {

std::vector<std::byte> pattern_bytes(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + seed) >> 3);
  return v;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    // "ipcbench-<pid>-": a run's sweep removes it once this process is gone.
    std::string templ = (std::filesystem::temp_directory_path() /
                         ("ipcbench-" + std::to_string(::getpid()) + "-tests-XXXXXX"))
                            .string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    return std::filesystem::path(templ);
  }();
  return dir;
}

std::vector<std::string> leftovers() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(scratch_dir()))
    names.push_back(e.path().filename().string());
  return names;
}

std::size_t kernel_objects() {
  const std::uint16_t scope = names::scope();
  std::size_t n = 0;
  for (const char* table : {"/proc/sysvipc/msg", "/proc/sysvipc/shm", "/proc/sysvipc/sem"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    long long key = 0;
    while (in >> key) {  // the first column, in decimal
      n += names::key_in_scope(static_cast<key_t>(key), scope);
      std::getline(in, line);
    }
  }
  // POSIX shared memory and semaphores ("sem.<name>") in /dev/shm, queues in /dev/mqueue (where
  // it is mounted).
  const std::string prefix = names::scope_prefix(scope);
  for (const char* dir : {"/dev/shm", "/dev/mqueue"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      n += name.rfind(prefix, 0) == 0 || name.rfind("sem." + prefix, 0) == 0;
    }
  }
  return n;
}

bool kernel_objects_back_to(std::size_t before, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (kernel_objects() > before) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string read_proc_file(const std::filesystem::path& path) {
  try {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return {};
  }
}

std::vector<int> processes_with_argument(const std::string& argument, const std::string& program) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // The arguments are NUL-terminated, each one.
    const std::string cmd = read_proc_file(e.path() / "cmdline");
    if (!program.empty() && cmd.find(program) == std::string::npos) continue;
    for (std::size_t at = 0; at < cmd.size();) {
      const std::size_t end = std::min(cmd.find('\0', at), cmd.size());
      if (std::string_view(cmd).substr(at, end - at) == argument) {
        pids.push_back(std::stoi(name));
        break;
      }
      at = end + 1;
    }
  }
  return pids;
}

std::vector<std::string> iceoryx_leftovers(const std::function<void()>& first) {
  // The lock: the abstract socket mechanisms/middleware/iceoryx.cpp binds.
  static constexpr char kLock[] = "ipcbench-iceoryx-roudi";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, kLock, sizeof kLock - 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kLock);
  const passwd* pw = ::getpwuid(::geteuid());
  std::vector<std::string> fixed = {"/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock",
                                    "/tmp/iox-unique-roudi.lock"};
  if (pw != nullptr) fixed.push_back(std::string("/dev/shm/") + pw->pw_name);
  // RouDi's fixed names, left by a RouDi that died with a coordinator another test killed, are
  // that test's to sweep, once it holds the lock; between the kill and its sweep this check may
  // have the lock first. Such names, with no RouDi running and none of ours beside them, are
  // looked at again for up to 5 s: a leak of our own stays, and is reported.
  for (int attempt = 0;; ++attempt) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {"socket(AF_UNIX) failed"};
    bool locked = false;
    for (int i = 0; i < 12000 && !locked; ++i) {
      locked = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0;
      if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<std::string> left;
    if (!locked) left.push_back("(the iceoryx lock was not had in 2 minutes)");
    if (first) first();
    std::error_code ec;
    std::size_t fixed_left = 0;
    for (const auto& f : fixed)
      if (std::filesystem::exists(std::filesystem::symlink_status(f, ec))) {
        left.push_back(f);
        ++fixed_left;
      }
    const std::string prefix = names::scope_prefix();
    for (const auto& e : std::filesystem::directory_iterator("/tmp", ec)) {
      const std::string n = e.path().filename().string();
      if (n.starts_with(prefix) && n.find("-iox-") != std::string::npos) left.push_back(e.path());
    }
    ::close(fd);
    const bool left_by_a_dead_roudi = locked && !first && fixed_left > 0 &&
                                      fixed_left == left.size() &&
                                      !flock_holder("/tmp/iox-unique-roudi.lock");
    if (!left_by_a_dead_roudi || attempt >= 50) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

pid_t spawn_quiet(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

bool no_children() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

namespace {

// kernel_objects() counts only the objects of this test's scope (its own names and keys, and
// those of the programs it starts, which inherit IPCBENCH_SCOPE), so tests running side by side
// do not disturb each other. Where it may (CAP_SYS_ADMIN), each test process also gets its own IPC
// namespace and /dev/shm, so that nothing a test does can touch the machine's objects; where it
// may not (an unprivileged user, most containers, a chroot without /dev/shm), it says so once.
void isolate_ipc() {
  const char* why = nullptr;
  int err = 0;
  if (::unshare(CLONE_NEWIPC | CLONE_NEWNS) != 0) {
    why = "unshare(CLONE_NEWIPC | CLONE_NEWNS)";
    err = errno;
  } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    // Private propagation first, so the tmpfs below is not mounted on the host's /dev/shm.
    why = "mount(/, MS_PRIVATE)";
    err = errno;
  } else if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    why = "mount(tmpfs, /dev/shm)";
    err = errno;
  }
  if (why != nullptr)
    std::cerr << "ipcbench tests: no private IPC namespace and /dev/shm here (" << why << ": "
              << std::strerror(err) << "); leak checks count this test's own objects (scope "
              << names::scope_prefix() << ")\n";
}

}  // namespace
}  // namespace ipcbench::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Exported, so the programs a test starts name their objects in the test's scope too.
  ipcbench::names::set_scope(static_cast<std::uint16_t>(::getpid() & 0xffff));
  ipcbench::test::isolate_ipc();
  const auto dir = ipcbench::test::scratch_dir();
  ::setenv("TMPDIR", dir.c_str(), 1);
  const int rc = RUN_ALL_TESTS();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
