# Run at every build (cmake -DSOURCE_DIR=... -DOUT=... -P git_commit.cmake): writes OUT, a header
# that names the commit the sources are at and whether tracked files differ from it, and touches
# OUT only when that changed, so a build records the commit it was built from (not the one CMake
# configured at) without rebuilding anything when it did not move.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
set(modified "-1")
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit unknown)
else()
  execute_process(COMMAND git diff --quiet HEAD -- WORKING_DIRECTORY "${SOURCE_DIR}"
                  ERROR_QUIET RESULT_VARIABLE dirty)
  if(dirty EQUAL 0)
    set(modified 0)
  elseif(dirty EQUAL 1)
    set(modified 1)
  endif()
endif()
file(WRITE "${OUT}.new"
     "// Written by scripts/git_commit.cmake at build time.\n"
     "#define IPCBENCH_GIT_COMMIT \"${commit}\"\n"
     "#define IPCBENCH_GIT_TREE_MODIFIED ${modified}  // 1, 0, or -1: unknown\n")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
