#include "registry/middleware_daemons.hpp"

#include "registry/make_entry.hpp"
#ifdef IPCBENCH_HAVE_SDBUS
#include "mechanisms/middleware/dbus.hpp"
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
}

}  // namespace ipcbench
