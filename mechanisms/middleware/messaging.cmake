# The middleware family, messaging libraries: zeromq.ipc, zeromq.tcp, nng.ipc, grpc.uds,
# grpc.uds.stream, boost.message_queue. Included from mechanisms/CMakeLists.txt. Every library is
# optional: IPCBENCH_WITH_<LIB>=OFF, or the library missing at configure time, makes its ids
# `unavailable` with the reason (registry/middleware_messaging.cpp), never a failed build. One
# static library per adapter, so nothing else links a library it does not use; the interface
# target ipcbench_middleware_messaging carries the available ones and the generated header with
# the reasons (middleware_messaging_config.hpp) to the registry.
option(IPCBENCH_WITH_ZEROMQ "Build the zeromq.* mechanisms when libzmq is found" ON)
option(IPCBENCH_WITH_NNG "Build the nng.ipc mechanism when nng is found" ON)
option(IPCBENCH_WITH_GRPC "Build the grpc.uds mechanisms when gRPC, protobuf and their compilers are found" ON)
option(IPCBENCH_WITH_BOOST_MQ "Build the boost.message_queue mechanism (Boost.Interprocess)" ON)

find_package(PkgConfig QUIET)
add_library(ipcbench_middleware_messaging INTERFACE)
set(_mw_gen ${PROJECT_BINARY_DIR}/generated/middleware_messaging)

# ipcbench_mw_adapter(name SOURCES... LIBS...): the static library of one adapter.
function(ipcbench_mw_adapter name)
  cmake_parse_arguments(A "" "" "SOURCES;HEADERS;LIBS" ${ARGN})
  add_library(ipcbench_mw_${name} STATIC ${A_SOURCES})
  ipcbench_layer(ipcbench_mw_${name} FILES ${A_HEADERS})
  target_link_libraries(ipcbench_mw_${name} PUBLIC ipcbench::adapter ipcbench::sys PRIVATE ${A_LIBS})
  target_link_libraries(ipcbench_middleware_messaging INTERFACE ipcbench_mw_${name})
endfunction()

# ZeroMQ: the C API of libzmq (libzmq3-dev).
set(IPCBENCH_ZEROMQ_UNAVAILABLE "")
if(NOT IPCBENCH_WITH_ZEROMQ)
  set(IPCBENCH_ZEROMQ_UNAVAILABLE "disabled at configure time (IPCBENCH_WITH_ZEROMQ=OFF)")
else()
  if(PkgConfig_FOUND)
    pkg_check_modules(IPCBENCH_ZMQ QUIET IMPORTED_TARGET libzmq)
  endif()
  if(NOT IPCBENCH_ZMQ_FOUND)
    set(IPCBENCH_ZEROMQ_UNAVAILABLE "libzmq not found at configure time (Debian: libzmq3-dev)")
  else()
    ipcbench_mw_adapter(zeromq SOURCES middleware/zeromq.cpp
                        HEADERS mechanisms/middleware/zeromq.hpp LIBS PkgConfig::IPCBENCH_ZMQ)
  endif()
endif()

# nng (libnng-dev), through its CMake package.
set(IPCBENCH_NNG_UNAVAILABLE "")
if(NOT IPCBENCH_WITH_NNG)
  set(IPCBENCH_NNG_UNAVAILABLE "disabled at configure time (IPCBENCH_WITH_NNG=OFF)")
else()
  find_package(nng CONFIG QUIET)
  if(NOT nng_FOUND)
    set(IPCBENCH_NNG_UNAVAILABLE "nng not found at configure time (Debian: libnng-dev)")
  else()
    ipcbench_mw_adapter(nng SOURCES middleware/nng.cpp
                        HEADERS mechanisms/middleware/nng.hpp LIBS nng::nng)
  endif()
endif()

# gRPC (libgrpc++-dev, libprotobuf-dev) with code generated from grpc_uds.proto at build time by
# protoc (protobuf-compiler) and grpc_cpp_plugin (protobuf-compiler-grpc).
set(IPCBENCH_GRPC_UNAVAILABLE "")
if(NOT IPCBENCH_WITH_GRPC)
  set(IPCBENCH_GRPC_UNAVAILABLE "disabled at configure time (IPCBENCH_WITH_GRPC=OFF)")
else()
  if(PkgConfig_FOUND)
    pkg_check_modules(IPCBENCH_GRPCPP QUIET IMPORTED_TARGET grpc++ protobuf)
  endif()
  find_program(IPCBENCH_PROTOC protoc)
  find_program(IPCBENCH_GRPC_CPP_PLUGIN grpc_cpp_plugin)
  set(_missing "")
  if(NOT IPCBENCH_GRPCPP_FOUND)
    list(APPEND _missing "grpc++ and protobuf libraries (Debian: libgrpc++-dev, libprotobuf-dev)")
  endif()
  if(NOT IPCBENCH_PROTOC)
    list(APPEND _missing "protoc (Debian: protobuf-compiler)")
  endif()
  if(NOT IPCBENCH_GRPC_CPP_PLUGIN)
    list(APPEND _missing "grpc_cpp_plugin (Debian: protobuf-compiler-grpc)")
  endif()
  if(_missing)
    list(JOIN _missing "; " _missing)
    set(IPCBENCH_GRPC_UNAVAILABLE "not found at configure time: ${_missing}")
  else()
    set(_proto ${CMAKE_CURRENT_SOURCE_DIR}/middleware/grpc_uds.proto)
    set(_out ${_mw_gen}/mechanisms/middleware)
    set(_generated ${_out}/grpc_uds.pb.cc ${_out}/grpc_uds.pb.h ${_out}/grpc_uds.grpc.pb.cc
                   ${_out}/grpc_uds.grpc.pb.h)
    file(MAKE_DIRECTORY ${_out})
    add_custom_command(
      OUTPUT ${_generated}
      COMMAND ${IPCBENCH_PROTOC} --proto_path=${PROJECT_SOURCE_DIR}
              --cpp_out=${_mw_gen} --grpc_out=${_mw_gen}
              --plugin=protoc-gen-grpc=${IPCBENCH_GRPC_CPP_PLUGIN}
              ${PROJECT_SOURCE_DIR}/mechanisms/middleware/grpc_uds.proto
      DEPENDS ${_proto}
      COMMENT "protoc: grpc_uds.proto"
      VERBATIM)
    # The generated code, outside the suite's warning flags (it is not ours to fix).
    add_library(ipcbench_mw_grpc_proto STATIC ${_out}/grpc_uds.pb.cc ${_out}/grpc_uds.grpc.pb.cc)
    target_compile_features(ipcbench_mw_grpc_proto PUBLIC cxx_std_20)
    target_include_directories(ipcbench_mw_grpc_proto SYSTEM PUBLIC ${_mw_gen})
    target_link_libraries(ipcbench_mw_grpc_proto PUBLIC PkgConfig::IPCBENCH_GRPCPP)
    ipcbench_mw_adapter(grpc SOURCES middleware/grpc_uds.cpp
                        HEADERS mechanisms/middleware/grpc_uds.hpp LIBS ipcbench_mw_grpc_proto)
  endif()
endif()

# Boost.Interprocess: header-only, in libboost-dev (which the suite already requires).
set(IPCBENCH_BOOST_MQ_UNAVAILABLE "")
if(NOT IPCBENCH_WITH_BOOST_MQ)
  set(IPCBENCH_BOOST_MQ_UNAVAILABLE "disabled at configure time (IPCBENCH_WITH_BOOST_MQ=OFF)")
elseif(NOT EXISTS "${Boost_INCLUDE_DIRS}/boost/interprocess/ipc/message_queue.hpp")
  set(IPCBENCH_BOOST_MQ_UNAVAILABLE
      "boost/interprocess/ipc/message_queue.hpp not found at configure time (Debian: libboost-dev)")
else()
  ipcbench_mw_adapter(boost_mq SOURCES middleware/boost_mq.cpp
                      HEADERS mechanisms/middleware/boost_mq.hpp LIBS Boost::headers Threads::Threads)
  target_link_libraries(ipcbench_mw_boost_mq PUBLIC Boost::headers)
endif()

foreach(_lib ZEROMQ NNG GRPC BOOST_MQ)
  if(IPCBENCH_${_lib}_UNAVAILABLE)
    set(IPCBENCH_HAVE_${_lib} 0)
    message(STATUS "ipcbench middleware: ${_lib} unavailable: ${IPCBENCH_${_lib}_UNAVAILABLE}")
  else()
    set(IPCBENCH_HAVE_${_lib} 1)
  endif()
endforeach()
set(_config ${PROJECT_BINARY_DIR}/generated/middleware_messaging_config)
file(CONFIGURE OUTPUT ${_config}/registry/middleware_messaging_config.hpp CONTENT [=[
// Generated by mechanisms/middleware/messaging.cmake: why each messaging library's mechanisms are
// unavailable in this build, or "" when they were built.
#pragma once

#define IPCBENCH_HAVE_ZEROMQ @IPCBENCH_HAVE_ZEROMQ@
#define IPCBENCH_HAVE_NNG @IPCBENCH_HAVE_NNG@
#define IPCBENCH_HAVE_GRPC @IPCBENCH_HAVE_GRPC@
#define IPCBENCH_HAVE_BOOST_MQ @IPCBENCH_HAVE_BOOST_MQ@

namespace ipcbench::middleware_config {
inline constexpr const char* kZeromqUnavailable = "@IPCBENCH_ZEROMQ_UNAVAILABLE@";
inline constexpr const char* kNngUnavailable = "@IPCBENCH_NNG_UNAVAILABLE@";
inline constexpr const char* kGrpcUnavailable = "@IPCBENCH_GRPC_UNAVAILABLE@";
inline constexpr const char* kBoostMqUnavailable = "@IPCBENCH_BOOST_MQ_UNAVAILABLE@";
}  // namespace ipcbench::middleware_config
]=] @ONLY)
target_include_directories(ipcbench_middleware_messaging INTERFACE ${_config})
