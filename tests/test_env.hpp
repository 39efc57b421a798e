// Shared test fixtures: every test process runs with TMPDIR set to a private directory, so a
// test can check that nothing of ours (FIFO, socket, temp dir) was left behind.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <functional>

#include <filesystem>
#include <string>
#include <vector>

namespace ipcbench::test {

const std::filesystem::path& scratch_dir();
// Entries left in scratch_dir(), as names.
std::vector<std::string> leftovers();
// Starts args[0] with args (stdout and stderr to /dev/null) and the test's environment, so it
// shares the test's name scope; returns its pid, or -1 when posix_spawn failed.
pid_t spawn_quiet(std::vector<std::string> args);
// True when this process has no child left (running or zombie).
bool no_children();
// Kernel objects of this test's scope (sys/names.hpp: the names and keys it and the programs it
// starts generated): System V queues, segments and semaphore sets (/proc/sysvipc), POSIX shared
// memory and semaphores (/dev/shm) and queues (/dev/mqueue, where mounted). A test compares the
// count before and after; tests running beside it have scopes of their own.
std::size_t kernel_objects();
// True once kernel_objects() is back to at most `before`, waiting up to `patience`: tests that
// run in parallel (ctest -j) make and remove objects of their own, so only one that stays is a
// leak.
bool kernel_objects_back_to(std::size_t before,
                            std::chrono::milliseconds patience = std::chrono::seconds(5));

// n bytes of a test pattern that differs with `seed`: ((i * 131 + seed) >> 3) at byte i.
std::vector<std::byte> pattern_bytes(std::size_t n, unsigned seed);

// How many descriptors this process has open (/proc/self/fd), to see that none leaked.
std::size_t open_fds();

// The whole text of a file under /proc/<pid>/, or "" when it cannot be read (the process may end
// while it is read: libstdc++ then throws from the stream buffer, ESRCH).
std::string read_proc_file(const std::filesystem::path& path);

// pids of the processes that have `argument` as one whole argument on their command line (not as
// part of one: "--coordinator-pid=123" must not match a peer of coordinator 1234, started by a
// test running beside this one) and, when `program` is given, name it in their command line.
std::vector<int> processes_with_argument(const std::string& argument,
                                         const std::string& program = {});

// What an iceoryx run could leave machine-wide (RouDi's fixed names, /dev/shm/iceoryx_mgmt and
// /dev/shm/<user>, /tmp/roudi, /tmp/roudi.lock, /tmp/iox-unique-roudi.lock, and the runtimes'
// /tmp/ipcbench-<this scope>-...-iox-* files) that is there now, checked while holding the
// machine-wide lock the iceoryx channels take (so no other test's RouDi is running); waits up to
// two minutes for it. `first`, when given, runs under the lock before the check (a sweep, which
// leaves RouDi's names alone while another RouDi runs).
std::vector<std::string> iceoryx_leftovers(const std::function<void()>& first = {});

}  // namespace ipcbench::test
