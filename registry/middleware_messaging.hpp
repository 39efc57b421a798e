// The middleware family's messaging libraries (ZeroMQ, nng, gRPC, Boost.Interprocess), kept in
// a list of their own beside the kernel mechanisms. Coordinator side.
#pragma once

#include <vector>

#include "registry/registry.hpp"

namespace ipcbench {

// `v` with zeromq.ipc, zeromq.tcp, nng.ipc, grpc.uds, grpc.uds.stream and boost.message_queue
// appended, in that order: each built one's entry, or an unavailable entry with the reason from
// configure time (mechanisms/middleware/messaging.cmake).
std::vector<mechanism_entry> with_messaging_middleware(std::vector<mechanism_entry> v);

}  // namespace ipcbench
