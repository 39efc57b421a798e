// Helpers shared by the compare tests: fixture paths and a scratch directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ipcbench::compare::testing {

inline std::string fixture(const std::string& name) {
  return std::string(IPCBENCH_COMPARE_FIXTURES) + "/" + name;
}

// 'text', as the tool quotes paths in messages.
inline std::string quoted(const std::string& text) {
  std::string q = "'";
  q += text;
  q += '\'';
  return q;
}

// A fresh directory under the system temp dir, removed with its contents on destruction.
class scratch_dir {
 public:
  scratch_dir() {
    const auto base = std::filesystem::temp_directory_path();
    for (int i = 0;; ++i) {
      path_ =
          base / ("ipcbench-compare-test-" + std::to_string(::getpid()) + "-" + std::to_string(i));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = file(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ipcbench::compare::testing
