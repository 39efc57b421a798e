#include "bench/plugin.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ipcbench/version.hpp"
#include "registry/registry.hpp"

namespace ipcbench {
namespace {

constexpr const char* kPluginsVariable = "IPCBENCH_PLUGINS";

std::vector<std::string> split_paths(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string p; std::getline(in, p, ':');)
    if (!p.empty()) out.push_back(p);
  return out;
}

void load_one(const std::string& path) {
  const std::string what = "--plugin '" + path + "'";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::invalid_argument(what + ": no such file");
#ifdef IPCBENCH_STATIC_PROGRAM
  throw std::invalid_argument(what + ": this ipcbench is linked statically (" +
                              IPCBENCH_STATIC_PROGRAM + "); plug-ins need the shared libipcbench");
#endif
  // Never closed: the plug-in's code runs until the program ends.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw std::invalid_argument(what + ": " + ::dlerror());
  using entry_fn = const plugin_info* (*)();
  auto entry = reinterpret_cast<entry_fn>(::dlsym(handle, kPluginEntry));
  if (entry == nullptr)
    throw std::invalid_argument(what + " is not an ipcbench plug-in: it exports no " +
                                kPluginEntry + " (IPCBENCH_PLUGIN, ipcbench/ipcbench.hpp)");
  const plugin_info* info = entry();
  const std::string theirs = info == nullptr || info->ipcbench_version == nullptr
                                 ? std::string("an unknown version")
                                 : std::string(info->ipcbench_version);
  if (info == nullptr || info->adapter_api != IPCBENCH_ADAPTER_API ||
      theirs != IPCBENCH_VERSION_STRING)
    throw std::invalid_argument(
        what + " was built for ipcbench " + theirs + " (adapter API " +
        (info == nullptr ? std::string("?") : std::to_string(info->adapter_api)) +
        "); this is ipcbench " + IPCBENCH_VERSION_STRING + " (adapter API " +
        std::to_string(IPCBENCH_ADAPTER_API) + "): rebuild it against this one");
  if (info->add_mechanisms == nullptr) throw std::invalid_argument(what + " adds no mechanism");
  try {
    info->add_mechanisms();
  } catch (const std::exception& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
}

}  // namespace

void load_plugins(int& argc, char** argv) {
  std::vector<std::string> added;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string path;
    if (a == "--plugin") {
      if (i + 1 >= argc) throw std::invalid_argument("--plugin needs the path of a shared object");
      path = argv[++i];
    } else if (a.starts_with("--plugin=")) {
      path = a.substr(9);
    } else {
      argv[kept++] = argv[i];
      continue;
    }
    if (path.empty()) throw std::invalid_argument("--plugin needs the path of a shared object");
    if (path.find(':') != std::string::npos)
      throw std::invalid_argument("--plugin '" + path + "': a path with ':' cannot be passed on");
    added.push_back(std::filesystem::absolute(path).string());
  }
  argc = kept;
  argv[argc] = nullptr;
  const char* inherited = std::getenv(kPluginsVariable);
  std::string list = inherited != nullptr ? inherited : "";
  for (const auto& p : added) list += (list.empty() ? "" : ":") + p;
  if (!added.empty()) ::setenv(kPluginsVariable, list.c_str(), 1);
  std::vector<std::string> loaded;  // a plug-in named twice is loaded once
  for (const auto& p : split_paths(list)) {
    if (std::find(loaded.begin(), loaded.end(), p) != loaded.end()) continue;
    load_one(p);
    loaded.push_back(p);
  }
}

}  // namespace ipcbench
