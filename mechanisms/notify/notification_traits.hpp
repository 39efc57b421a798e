// Traits shared by the notification mechanisms (semaphores, eventfd, futex, signal handler):
// no payload, so they run at size 0, latency only, between forked peers.
#pragma once

#include <string>

#include "mechanisms/adapter.hpp"

namespace ipcbench {

inline mechanism_traits notification_traits(const std::string& id, std::string wait,
                                            std::string description) {
  mechanism_traits t;
  t.id = t.mechanism = id;
  t.variant = "default";
  t.family = "signals & notification";
  t.kind = channel_kind::notification;
  t.max_message = 0;
  t.max_message_source = "notification: no payload";
  t.related_only = true;
  t.supports_throughput = false;
  t.sizes = {0};
  t.wait = std::move(wait);
  t.description = std::move(description);
  return t;
}

}  // namespace ipcbench
