#include "mechanisms/shm/mmap_anon.hpp"

#include <stdexcept>

#include "sys/mapping.hpp"

namespace ipcbench {

mechanism_traits mmap_anon_channel::describe() {
  mechanism_traits t;
  t.mechanism = "mmap_anon";
  t.variant = futex_sync::kName;
  t.id = t.mechanism + "." + t.variant;
  shm::describe_ring(t);
  t.related_only = true;
  t.wait = futex_sync::kWait;
  t.description =
      "anonymous MAP_SHARED memory mapped before fork and inherited, a byte ring per direction, "
      "futex waits";
  return t;
}

mmap_anon_channel::mmap_anon_channel(const channel_config&) {
  // Anonymous memory starts zeroed, the segment's initial state.
  map_ = map_shared_anonymous(shm::kSegmentBytes, "segment");
}

void mmap_anon_channel::opened() noexcept {
  map_.reset();  // the peers' inherited mappings keep the memory
}

mmap_anon_channel::endpoint mmap_anon_channel::open(role r) {
  // Each forked peer has its own copy of this object and takes the mapping from it once.
  if (map_.data() == nullptr)
    throw std::logic_error("mmap_anon: this process already opened an end");
  return endpoint(std::move(map_), futex_sync{}, r);
}

static_assert(channel<mmap_anon_channel>);

}  // namespace ipcbench
