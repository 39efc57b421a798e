// The middleware mechanisms that need a daemon beside the peers (D-Bus through dbus-daemon, and
// its peer-to-peer twin). Those whose library was missing at configure time are entered as
// unavailable, with the reason.
#pragma once

#include <vector>

#include "registry/registry.hpp"

namespace ipcbench {

// Appends them to `entries`, in report order.
void append_daemon_middleware(std::vector<mechanism_entry>& entries);

}  // namespace ipcbench
