#include "registry/middleware_daemons.hpp"

#include "registry/make_entry.hpp"
#ifdef IPCBENCH_HAVE_SDBUS
#include "mechanisms/middleware/dbus.hpp"
#endif
#ifdef IPCBENCH_HAVE_ICEORYX
#include "mechanisms/middleware/iceoryx.hpp"
#endif

namespace ipcbench {

void append_daemon_middleware(std::vector<mechanism_entry>& entries) {
#ifdef IPCBENCH_HAVE_SDBUS
  entries.push_back(make_entry<dbus_bus_channel>("dbus.bus"));
  entries.push_back(make_entry<dbus_p2p_channel>("dbus.p2p"));
#else
  for (const char* variant : {"bus", "p2p"})
    entries.push_back(unavailable_entry(variant[0] == 'b' ? "dbus.bus" : "dbus.p2p", "dbus",
                                        variant, "middleware", IPCBENCH_SDBUS_UNAVAILABLE));
#endif
#ifdef IPCBENCH_HAVE_ICEORYX
  entries.push_back(make_entry<iceoryx_copy_channel>("iceoryx.copy"));
  entries.push_back(make_entry<iceoryx_zerocopy_channel>("iceoryx.zerocopy"));
  entries.push_back(make_entry<iceoryx_zerocopy_busy_channel>("iceoryx.zerocopy.busy"));
  entries.push_back(make_entry<iceoryx_header_only_channel>("iceoryx.zerocopy.busy.header_only"));
#else
  entries.push_back(unavailable_entry("iceoryx.copy", "iceoryx", "copy", "middleware",
                                      IPCBENCH_ICEORYX_UNAVAILABLE));
  entries.push_back(unavailable_entry("iceoryx.zerocopy", "iceoryx", "zerocopy", "middleware",
                                      IPCBENCH_ICEORYX_UNAVAILABLE));
  entries.push_back(unavailable_entry("iceoryx.zerocopy.busy", "iceoryx", "zerocopy.busy",
                                      "middleware", IPCBENCH_ICEORYX_UNAVAILABLE));
  {
    auto e =
        unavailable_entry("iceoryx.zerocopy.busy.header_only", "iceoryx",
                          "zerocopy.busy.header_only", "middleware", IPCBENCH_ICEORYX_UNAVAILABLE);
    e.traits.header_only = true;  // out of a run unless asked for, available or not
    e.traits.supports_throughput = false;
    entries.push_back(std::move(e));
  }
#endif
}

}  // namespace ipcbench
