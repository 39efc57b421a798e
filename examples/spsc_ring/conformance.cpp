// The conformance suite, run against example.spsc_ring.
#include <ipcbench/conformance.hpp>

#include "spsc_ring.hpp"

int main(int argc, char** argv) {
  return ipcbench::conformance::main<spsc_ring>(argc, argv);
}
