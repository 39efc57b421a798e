#include "registry/middleware_messaging.hpp"

#include "registry/make_entry.hpp"
#include "registry/middleware_messaging_config.hpp"
#if IPCBENCH_HAVE_ZEROMQ
#include "mechanisms/middleware/zeromq.hpp"
#endif
#if IPCBENCH_HAVE_NNG
#include "mechanisms/middleware/nng.hpp"
#endif
#if IPCBENCH_HAVE_GRPC
#include "mechanisms/middleware/grpc_uds.hpp"
#endif
#if IPCBENCH_HAVE_BOOST_MQ
#include "mechanisms/middleware/boost_mq.hpp"
#endif

namespace ipcbench {

std::vector<mechanism_entry> with_messaging_middleware(std::vector<mechanism_entry> v) {
  using namespace middleware_config;
  [[maybe_unused]] constexpr const char* kFamily = "middleware";
#if IPCBENCH_HAVE_ZEROMQ
  v.push_back(make_entry<zeromq_ipc_channel>("zeromq.ipc"));
  v.push_back(make_entry<zeromq_tcp_channel>("zeromq.tcp"));
#else
  v.push_back(unavailable_entry("zeromq.ipc", "zeromq", "ipc", kFamily, kZeromqUnavailable));
  v.push_back(unavailable_entry("zeromq.tcp", "zeromq", "tcp", kFamily, kZeromqUnavailable));
#endif
#if IPCBENCH_HAVE_NNG
  v.push_back(make_entry<nng_ipc_channel>("nng.ipc"));
#else
  v.push_back(unavailable_entry("nng.ipc", "nng", "ipc", kFamily, kNngUnavailable));
#endif
#if IPCBENCH_HAVE_GRPC
  v.push_back(make_entry<grpc_uds_channel>("grpc.uds"));
  v.push_back(make_entry<grpc_uds_stream_channel>("grpc.uds.stream"));
#else
  v.push_back(unavailable_entry("grpc.uds", "grpc", "uds", kFamily, kGrpcUnavailable));
  v.push_back(
      unavailable_entry("grpc.uds.stream", "grpc", "uds.stream", kFamily, kGrpcUnavailable));
#endif
#if IPCBENCH_HAVE_BOOST_MQ
  v.push_back(make_entry<boost_mq_channel>("boost.message_queue"));
#else
  v.push_back(unavailable_entry("boost.message_queue", "boost.message_queue", "default", kFamily,
                                kBoostMqUnavailable));
#endif
  return v;
}

}  // namespace ipcbench
