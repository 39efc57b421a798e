#include <gtest/gtest.h>
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

}  // namespace ipcbench::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const auto dir = ipcbench::test::scratch_dir();
  ::setenv("TMPDIR", dir.c_str(), 1);
  const int rc = RUN_ALL_TESTS();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
