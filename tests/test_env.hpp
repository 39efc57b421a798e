// Shared test fixtures: every test process runs with TMPDIR set to a private directory, so a
// test can check that nothing of ours (FIFO, socket, temp dir) was left behind.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace ipcbench::test {

const std::filesystem::path& scratch_dir();
// Entries left in scratch_dir(), as names.
std::vector<std::string> leftovers();
// True when this process has no child left (running or zombie).
bool no_children();
// Kernel objects visible to this test: SysV queues, segments and semaphore sets
// (/proc/sysvipc) and POSIX shared memory / semaphores (/dev/shm). A test compares the count
// before and after. Each test process has its own IPC namespace and /dev/shm where it may
// (root), so tests running beside it do not interfere; otherwise the counts are machine-wide.
std::size_t kernel_objects();

}  // namespace ipcbench::test
