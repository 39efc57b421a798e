// ipcbench: the benchmark program (bench/program.cpp).
#include "bench/program.hpp"

int main(int argc, char** argv) {
  return ipcbench::program_main(argc, argv);
}
