# The io_uring family: pipe.io_uring, unix_stream.io_uring, their .sqpoll variants,
# io_uring.msg_ring and io_uring.eventfd, through liburing (Debian: liburing-dev), found by pkg-config. Included from
# mechanisms/CMakeLists.txt. Optional: IPCBENCH_WITH_URING=OFF, or liburing missing at configure
# time, registers the six ids `unavailable` with the reason (registry/uring.cpp), never a failed
# build. The adapters are a static library of their own (and the probes' io_uring wake-ups); the
# interface target ipcbench_uring_family carries it, or the reason, to the registry. Whether the
# kernel lets a ring be set up is probed at run time, once, when the registry is built.
option(IPCBENCH_WITH_URING "Build the io_uring mechanisms when liburing is found" ON)

add_library(ipcbench_uring_family INTERFACE)
set(IPCBENCH_URING_UNAVAILABLE "")
if(NOT IPCBENCH_WITH_URING)
  set(IPCBENCH_URING_UNAVAILABLE "disabled at configure time (IPCBENCH_WITH_URING=OFF)")
else()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(IPCBENCH_LIBURING QUIET IMPORTED_TARGET GLOBAL liburing)
  endif()
  if(NOT IPCBENCH_LIBURING_FOUND)
    set(IPCBENCH_URING_UNAVAILABLE "liburing not found at build time (Debian: liburing-dev)")
  endif()
endif()

if(IPCBENCH_URING_UNAVAILABLE)
  message(STATUS "ipcbench: io_uring mechanisms unavailable: ${IPCBENCH_URING_UNAVAILABLE}")
  target_compile_definitions(ipcbench_uring_family
                             INTERFACE IPCBENCH_URING_UNAVAILABLE="${IPCBENCH_URING_UNAVAILABLE}")
else()
  message(STATUS "ipcbench: io_uring mechanisms with liburing ${IPCBENCH_LIBURING_VERSION}")
  add_library(ipcbench_uring STATIC uring/uring_ring.cpp uring/uring_stream.cpp uring/msg_ring.cpp
                                   uring/uring_eventfd.cpp)
  ipcbench_layer(ipcbench_uring FILES mechanisms/uring/uring_ring.hpp
                 mechanisms/uring/uring_stream.hpp mechanisms/uring/msg_ring.hpp
                 mechanisms/uring/uring_eventfd.hpp)
  # ipcbench::mechanisms for the notification family's shared traits (notify/notification_traits.hpp).
  target_link_libraries(ipcbench_uring PUBLIC ipcbench::mechanisms ipcbench::adapter ipcbench::sys
                                       PRIVATE PkgConfig::IPCBENCH_LIBURING)
  target_link_libraries(ipcbench_uring_family INTERFACE ipcbench_uring)
  target_compile_definitions(ipcbench_uring_family INTERFACE IPCBENCH_HAVE_URING=1)
endif()
