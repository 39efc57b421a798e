// A plug-in for the tests: the pipe as test.plugin_pipe (ipcbench --plugin this.so).
#include "ipcbench/ipcbench.hpp"
#include "mechanisms/pipes/pipe.hpp"

namespace {

class plugin_pipe : public ipcbench::pipe_channel {
 public:
  static constexpr const char* kId = "test.plugin_pipe";
  static ipcbench::mechanism_traits describe() {
    auto t = pipe_channel::describe();
    t.id = kId;
    t.variant = "plugin";
    return t;
  }
  using pipe_channel::pipe_channel;
};

}  // namespace

IPCBENCH_PLUGIN(plugin_pipe)
