#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "test_env.hpp"

namespace ipcbench::test {

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string templ = (std::filesystem::temp_directory_path() / "ipcbench-tests-XXXXXX").string();
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
  std::size_t n = 0;
  for (const char* table : {"/proc/sysvipc/msg", "/proc/sysvipc/shm", "/proc/sysvipc/sem"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) n += !line.empty();
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
    (void)e;
    ++n;
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

bool no_children() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

namespace {

// Each test process (ctest runs one test per process) gets its own IPC namespace (System V
// objects, POSIX queues) and its own /dev/shm, so kernel_objects() counts only what this test
// and its children created, even with tests running side by side (ctest -j, other checkouts).
// Needs CAP_SYS_ADMIN; without it the counts stay machine-wide.
void isolate_ipc() {
  if (::unshare(CLONE_NEWIPC | CLONE_NEWNS) != 0) return;
  // Private propagation first, so the tmpfs below is not mounted on the host's /dev/shm.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0)
    ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

}  // namespace
}  // namespace ipcbench::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ipcbench::test::isolate_ipc();
  const auto dir = ipcbench::test::scratch_dir();
  ::setenv("TMPDIR", dir.c_str(), 1);
  const int rc = RUN_ALL_TESTS();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
