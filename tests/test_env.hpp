// Shared test fixtures: every test process runs with TMPDIR set to a private directory, so a
// test can check that nothing of ours (FIFO, socket, temp dir) was left behind.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ipcbench::test {

const std::filesystem::path& scratch_dir();
// Entries left in scratch_dir(), as names.
std::vector<std::string> leftovers();
// True when this process has no child left (running or zombie).
bool no_children();

}  // namespace ipcbench::test
