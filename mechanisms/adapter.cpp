#include "mechanisms/adapter.hpp"

namespace ipcbench {

const char* to_string(role r) noexcept {
  return r == role::producer ? "producer" : "consumer";
}
const char* to_string(pattern p) noexcept {
  return p == pattern::latency ? "latency" : "throughput";
}
const char* to_string(channel_kind k) noexcept {
  switch (k) {
    case channel_kind::stream:
      return "stream";
    case channel_kind::message:
      return "message";
    case channel_kind::shared_memory:
      return "shared_memory";
    case channel_kind::notification:
      return "notification";
    case channel_kind::calibration:
      return "calibration";
  }
  return "?";
}

}  // namespace ipcbench
