// The io_uring family (mechanisms/uring/), kept in a list of its own beside the kernel
// mechanisms. Coordinator side.
#pragma once

#include <string>
#include <vector>

#include "registry/registry.hpp"

namespace ipcbench {

// `v` with pipe.io_uring, pipe.io_uring.sqpoll, unix_stream.io_uring,
// unix_stream.io_uring.sqpoll, io_uring.msg_ring and io_uring.eventfd appended, in that order: each
// built one's entry (unavailable with the kernel's reason when a ring of its kind cannot be set up
// here), or, when this build has no liburing, the entries of uring_unavailable_entries.
std::vector<mechanism_entry> with_uring(std::vector<mechanism_entry> v);

// The six ids, each unavailable in this build with `reason`. Compiled in every build (the
// registry uses it when liburing was not found at configure time; tests call it directly).
std::vector<mechanism_entry> uring_unavailable_entries(const std::string& reason);

}  // namespace ipcbench
