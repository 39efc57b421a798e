# Middleware that needs a daemon beside the peers: D-Bus (sd-bus from libsystemd, through a
# private dbus-daemon, and peer-to-peer). Optional: a library missing at configure time makes its
# mechanisms unavailable, with the reason, never a failed build. Included from
# mechanisms/CMakeLists.txt; the registry reads the definitions set here.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(IPCBENCH_LIBSYSTEMD QUIET IMPORTED_TARGET libsystemd)
endif()
if(IPCBENCH_LIBSYSTEMD_FOUND)
  message(STATUS "ipcbench: dbus.bus, dbus.p2p with sd-bus (libsystemd ${IPCBENCH_LIBSYSTEMD_VERSION})")
  target_sources(ipcbench_mechanisms PRIVATE middleware/dbus.cpp)
  target_link_libraries(ipcbench_mechanisms PRIVATE PkgConfig::IPCBENCH_LIBSYSTEMD)
  target_compile_definitions(ipcbench_mechanisms PUBLIC IPCBENCH_HAVE_SDBUS
    PRIVATE IPCBENCH_LIBSYSTEMD_VERSION="${IPCBENCH_LIBSYSTEMD_VERSION}")
else()
  set(_why "libsystemd (sd-bus) not found by pkg-config at configure time (Debian: libsystemd-dev)")
  message(STATUS "ipcbench: dbus.bus, dbus.p2p unavailable: ${_why}")
  target_compile_definitions(ipcbench_mechanisms PUBLIC IPCBENCH_SDBUS_UNAVAILABLE="${_why}")
endif()
