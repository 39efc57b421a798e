#include "mechanisms/shm/posix_shm_inplace.hpp"

#include <string>

namespace ipcbench {

template <class Sync>
mechanism_traits posix_shm_inplace_channel<Sync>::describe() {
  mechanism_traits t = posix_shm_channel<Sync>::describe();
  t.variant = std::string(Sync::kName) + ".inplace";
  t.id = t.mechanism + "." + t.variant;
  t.description =
      std::string(
          "POSIX shared memory (shm_open + mmap), a ring of contiguous records per "
          "direction, synchronised by ") +
      Sync::kSynchronised +
      "; the producer writes each message in the ring, the consumer checks it where it lies "
      "and then releases its space: no copy; names unlinked once both peers opened them";
  using ep = shm_inplace_endpoint<Sync>;
  t.max_message = ep::kMaxMessage;
  t.max_message_source = "a message lies whole in the ring: " + std::to_string(shm::kRingBytes) +
                         " bytes per direction less its " + std::to_string(shm::kPayloadAlign) +
                         "-byte length line";
  t.notes["framing"] =
      "8-byte length at the start of a 64-byte line (padded to the line), then the message's "
      "bytes, the next record at the next 64-byte boundary; a record never wraps: where it does "
      "not fit before the ring's end, a wrap line (length 2^64-1) sends the receiver to the "
      "ring's start";
  t.notes["copies"] =
      "none: the producer writes the message into its record (the harness's pattern computed in "
      "place, where the copying variants stamp a prebuilt buffer and copy it in), the consumer "
      "checks every byte in the ring and then releases the record";
  t.notes["wake_hysteresis"] =
      "a sender blocked for space is woken once its whole record fits, a receiver blocked for "
      "data once a record (or a wrap line) is published; the head is published once per record";
  t.notes.erase("chunk_bytes");
  return t;
}

template class posix_shm_inplace_channel<futex_sync>;
template class posix_shm_inplace_channel<spin_sync>;

static_assert(named_channel<posix_shm_inplace_channel<futex_sync>>);
static_assert(named_channel<posix_shm_inplace_channel<spin_sync>>);

}  // namespace ipcbench
