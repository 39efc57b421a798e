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
#else
  entries.push_back(unavailable_entry("iceoryx.copy", "iceoryx", "copy", "middleware",
                                      IPCBENCH_ICEORYX_UNAVAILABLE));
  entries.push_back(unavailable_entry("iceoryx.zerocopy", "iceoryx", "zerocopy", "middleware",
                                      IPCBENCH_ICEORYX_UNAVAILABLE));
  entries.push_back(unavailable_entry("iceoryx.zerocopy.busy", "iceoryx", "zerocopy.busy",
                                      "middleware", IPCBENCH_ICEORYX_UNAVAILABLE));
#endif
}

}  // namespace ipcbench
