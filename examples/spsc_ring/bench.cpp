// ipcbench with example.spsc_ring beside every built-in mechanism.
#include "spsc_ring.hpp"

int main(int argc, char** argv) {
  return ipcbench::main<spsc_ring>(argc, argv);
}
