// A plug-in for the tests: the pipe as test.plugin_pipe and the FIFO, a named channel that
// launched peers open by name, as test.plugin_fifo (ipcbench --plugin this.so).
#include "ipcbench/ipcbench.hpp"
#include "mechanisms/pipes/fifo.hpp"
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

class plugin_fifo : public ipcbench::fifo_channel {
 public:
  static constexpr const char* kId = "test.plugin_fifo";
  static ipcbench::mechanism_traits describe() {
    auto t = fifo_channel::describe();
    t.id = kId;
    t.variant = "plugin";
    return t;
  }
  using fifo_channel::fifo_channel;
};

}  // namespace

IPCBENCH_PLUGIN(plugin_pipe, plugin_fifo)
