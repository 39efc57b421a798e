// The ipcbench program as a function: bench/main.cpp's main, and the main of an out-of-tree
// program that adds its own mechanisms first (include/ipcbench/ipcbench.hpp, ipcbench::main).
#pragma once

namespace ipcbench {

// Loads the --plugin shared objects, then runs the program (or, launched as a spawned peer, the
// peer); returns its exit status: 0, 1 when a benchmark failed, 2 for bad input.
int program_main(int argc, char** argv);

}  // namespace ipcbench
