// Command-line helpers shared by the bench and probe programs (header-only: the ipcbench::cli
// target). They own nothing and throw usage_error; called from a program's main() before it
// forks anything, never in a peer.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace ipcbench {

// Bad command-line input: main() prints "<program>: <what>" and exits 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Matches "--name=value" or "--name value" at argv[i]; consumes the argv entries it used.
// Throws usage_error when the value is missing.
inline bool take_flag(int& i, int argc, char** argv, std::string_view name, std::string& value) {
  std::string_view a = argv[i];
  if (a == name) {
    if (i + 1 >= argc) throw usage_error(std::string(name) + " needs a value");
    value = argv[++i];
    return true;
  }
  if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
    value = std::string(a.substr(name.size() + 1));
    return true;
  }
  return false;
}

}  // namespace ipcbench
