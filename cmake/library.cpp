// libipcbench.so: every layer of the suite (cmake/package.cmake links them whole), and this.
#include "ipcbench/version.hpp"

namespace ipcbench {

// The version of the library a program or plug-in runs with (ipcbench/version.hpp: the one it
// was built against).
const char* library_version() noexcept {
  return IPCBENCH_VERSION_STRING;
}

}  // namespace ipcbench
