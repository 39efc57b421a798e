#include "registry/uring.hpp"

#include "registry/make_entry.hpp"
#ifdef IPCBENCH_HAVE_URING
#include "mechanisms/uring/msg_ring.hpp"
#include "mechanisms/uring/uring_eventfd.hpp"
#include "mechanisms/uring/uring_stream.hpp"
#endif

namespace ipcbench {

std::vector<mechanism_entry> uring_unavailable_entries(const std::string& reason) {
  constexpr const char* kFamily = "io_uring";
  std::vector<mechanism_entry> v;
  v.push_back(unavailable_entry("pipe.io_uring", "pipe", "io_uring", kFamily, reason));
  v.push_back(
      unavailable_entry("pipe.io_uring.sqpoll", "pipe", "io_uring.sqpoll", kFamily, reason));
  v.push_back(
      unavailable_entry("unix_stream.io_uring", "unix_stream", "io_uring", kFamily, reason));
  v.push_back(unavailable_entry("unix_stream.io_uring.sqpoll", "unix_stream", "io_uring.sqpoll",
                                kFamily, reason));
  v.push_back(unavailable_entry("io_uring.msg_ring", "io_uring", "msg_ring", kFamily, reason));
  v.push_back(unavailable_entry("io_uring.eventfd", "io_uring", "eventfd", kFamily, reason));
  return v;
}

std::vector<mechanism_entry> with_uring(std::vector<mechanism_entry> v) {
#ifdef IPCBENCH_HAVE_URING
  v.push_back(make_entry<pipe_uring_channel>("pipe.io_uring"));
  v.push_back(make_entry<pipe_uring_sqpoll_channel>("pipe.io_uring.sqpoll"));
  v.push_back(make_entry<unix_stream_uring_channel>("unix_stream.io_uring"));
  v.push_back(make_entry<unix_stream_uring_sqpoll_channel>("unix_stream.io_uring.sqpoll"));
  v.push_back(make_entry<msg_ring_channel>("io_uring.msg_ring"));
  v.push_back(make_entry<uring_eventfd_channel>("io_uring.eventfd"));
#else
  for (auto& e : uring_unavailable_entries(IPCBENCH_URING_UNAVAILABLE)) v.push_back(std::move(e));
#endif
  return v;
}

}  // namespace ipcbench
