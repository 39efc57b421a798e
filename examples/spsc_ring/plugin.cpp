// example.spsc_ring as a plug-in: ipcbench --plugin libspsc_ring_plugin.so
#include "spsc_ring.hpp"

IPCBENCH_PLUGIN(spsc_ring)
