# The installed package. `cmake --install` puts into a prefix: the programs (ipcbench,
# ipcbench-compare, ipcbench-probe), libipcbench.so (every layer of the suite), the headers an
# out-of-tree adapter compiles against (include/ipcbench/ipcbench.hpp and what it includes), and
# a CMake package config: find_package(ipcbench CONFIG) gives ipcbench::harness and
# ipcbench::conformance. `cpack` makes a .deb of the same install (docs/packaging.md).
# Sanitizer builds have no shared library, hence no package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(IPCBENCH_SANITIZE)
  return()
endif()

# libipcbench.so: the static layers linked whole (a plug-in may use any of their functions),
# then again as ordinary libraries for their own dependencies (ZeroMQ, nng, gRPC, liburing...).
set(ipcbench_layers ipcbench_bench_lib ipcbench_registry ipcbench_harness ipcbench_mechanisms
                    ipcbench_adapter ipcbench_sys ipcbench_report ipcbench_stats ipcbench_probes)
set(ipcbench_whole "")
foreach(layer IN LISTS ipcbench_layers)
  list(APPEND ipcbench_whole "$<TARGET_FILE:${layer}>")
endforeach()
add_library(ipcbench_shared SHARED ${CMAKE_CURRENT_LIST_DIR}/library.cpp)
set_target_properties(ipcbench_shared PROPERTIES
  OUTPUT_NAME ipcbench
  EXPORT_NAME harness
  VERSION ${PROJECT_VERSION}
  # A plug-in runs only with the version it was built against (bench/plugin.hpp): so does the
  # library's soname.
  SOVERSION ${PROJECT_VERSION})
target_link_libraries(ipcbench_shared
  PRIVATE -Wl,--whole-archive ${ipcbench_whole} -Wl,--no-whole-archive ${ipcbench_layers}
          ipcbench_options
  INTERFACE nlohmann_json::nlohmann_json Threads::Threads)
target_link_options(ipcbench_shared PRIVATE -Wl,--no-undefined -Wl,-Bsymbolic-functions)
target_compile_features(ipcbench_shared INTERFACE cxx_std_20)
target_include_directories(ipcbench_shared
  PRIVATE ${PROJECT_BINARY_DIR}/generated/include
  INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
            $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
            $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated/include>
            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/ipcbench>
            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# The conformance suite (include/ipcbench/conformance.hpp): header-only, over the library.
add_library(ipcbench_conformance INTERFACE)
set_target_properties(ipcbench_conformance PROPERTIES EXPORT_NAME conformance)
target_link_libraries(ipcbench_conformance INTERFACE ipcbench_shared)

# The programs find the library beside them, wherever the prefix is.
set_target_properties(ipcbench PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS ipcbench ipcbench-compare ipcbench-probe RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ipcbench_shared ipcbench_conformance EXPORT ipcbench-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The headers an adapter sees, with the root-relative paths they include each other by.
set(ipcbench_headers ${CMAKE_INSTALL_INCLUDEDIR}/ipcbench)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sys ${PROJECT_SOURCE_DIR}/harness
        DESTINATION ${ipcbench_headers} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_SOURCE_DIR}/mechanisms/adapter.hpp
              ${PROJECT_SOURCE_DIR}/mechanisms/stream_endpoint.hpp
        DESTINATION ${ipcbench_headers}/mechanisms)
install(FILES ${PROJECT_SOURCE_DIR}/registry/registry.hpp
              ${PROJECT_SOURCE_DIR}/registry/make_entry.hpp
        DESTINATION ${ipcbench_headers}/registry)
install(FILES ${PROJECT_SOURCE_DIR}/include/ipcbench/ipcbench.hpp
              ${PROJECT_SOURCE_DIR}/include/ipcbench/conformance.hpp
              ${PROJECT_BINARY_DIR}/generated/include/ipcbench/version.hpp
        DESTINATION ${ipcbench_headers})

set(ipcbench_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ipcbench)
install(EXPORT ipcbench-targets NAMESPACE ipcbench:: DESTINATION ${ipcbench_cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ipcbench-config.cmake.in
                              ${PROJECT_BINARY_DIR}/ipcbench-config.cmake
                              INSTALL_DESTINATION ${ipcbench_cmake_dir})
# A program or plug-in built against one version runs with that version only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ipcbench-config-version.cmake
                                 COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/ipcbench-config.cmake
              ${PROJECT_BINARY_DIR}/ipcbench-config-version.cmake
        DESTINATION ${ipcbench_cmake_dir})

# The .deb (cpack -G DEB in the build tree): the run-time libraries from dpkg-shlibdeps, and
# what an adapter's build needs to find the package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ipcbench)
set(CPACK_PACKAGE_VENDOR "ipcbench")
set(CPACK_PACKAGE_CONTACT "ipcbench developers <ipcbench@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Linux IPC benchmark suite: every mechanism, every size, numbers that hold up")
set(CPACK_PACKAGE_INSTALL_DIRECTORY ipcbench)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3.9)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake (>= 3.21), g++ (>= 4:12)")
include(CPack)
