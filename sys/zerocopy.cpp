#include "sys/zerocopy.hpp"

#include <time.h>  // linux/errqueue.h needs struct timespec first

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sys/error.hpp"
#include "sys/retry.hpp"

#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

namespace ipcbench {

void zerocopy_completions::completed(std::uint32_t lo, std::uint32_t hi, bool copied) {
  const std::uint64_t calls = static_cast<std::uint32_t>(hi - lo) + 1ULL;
  completed_total_ += calls;
  if (copied) copied_ += calls;
  ahead_.emplace_back(lo, hi);
  // Fold every range that now touches the contiguous prefix.
  for (bool moved = true; moved;) {
    moved = false;
    for (auto it = ahead_.begin(); it != ahead_.end(); ++it) {
      if (static_cast<std::int32_t>(it->first - completed_) <= 0) {
        if (static_cast<std::int32_t>(it->second + 1 - completed_) > 0) completed_ = it->second + 1;
        ahead_.erase(it);
        moved = true;
        break;
      }
    }
  }
}

bool drain_zerocopy_notifications(int fd, zerocopy_completions& c) {
  bool any = false;
  for (;;) {
    alignas(cmsghdr) char control[256];
    msghdr m{};
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const ssize_t r =
        retry_on_eintr([&] { return ::recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT); });
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return any;
      throw_errno("recvmsg(MSG_ERRQUEUE)");
    }
    for (cmsghdr* cm = CMSG_FIRSTHDR(&m); cm != nullptr; cm = CMSG_NXTHDR(&m, cm)) {
      const bool ip = (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR);
      if (!ip) continue;
      sock_extended_err e{};
      std::memcpy(&e, CMSG_DATA(cm), sizeof e);
      if (e.ee_origin != SO_EE_ORIGIN_ZEROCOPY || e.ee_errno != 0)
        throw std::runtime_error("MSG_ZEROCOPY: the socket's error queue holds an error (origin " +
                                 std::to_string(e.ee_origin) + ", errno " +
                                 std::to_string(e.ee_errno) + ")");
      c.completed(e.ee_info, e.ee_data, (e.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0);
      any = true;
    }
  }
}

}  // namespace ipcbench
