// A plug-in for the tests that says it was built for another ipcbench: refused, both named.
#include "registry/registry.hpp"

extern "C" __attribute__((visibility("default"))) const ipcbench::plugin_info*
ipcbench_plugin_entry() {
  static const ipcbench::plugin_info info{999, "9.9.9", nullptr};
  return &info;
}
