// Out-of-tree mechanisms loaded at run time: `--plugin path.so` (any number of times) names a
// shared object that exports ipcbench_plugin_entry (registry/registry.hpp, plugin_info; built
// with IPCBENCH_PLUGIN from include/ipcbench/ipcbench.hpp). The harness is compiled into the
// plug-in, so its timed loop makes no indirect call; it must therefore come from this very
// version of ipcbench, and a plug-in of another is refused with both versions named.
#pragma once

namespace ipcbench {

// Takes every --plugin PATH (or --plugin=PATH) out of argv, adds the paths (made absolute) to
// IPCBENCH_PLUGINS (':'-separated, so that a spawned peer, which inherits the environment,
// loads them too), then loads every plug-in IPCBENCH_PLUGINS names and adds its mechanisms.
// Throws std::invalid_argument naming the plug-in and what is wrong: no such file, dlopen's
// error, no entry point, a version mismatch, a build that cannot load plug-ins (sanitizers).
void load_plugins(int& argc, char** argv);

}  // namespace ipcbench
