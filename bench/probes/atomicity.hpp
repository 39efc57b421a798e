// The PIPE_BUF atomicity experiment: K writer processes write tagged records of one size into
// one pipe or FIFO while the reader checks every record, so an interleaved (torn) write shows.
// Exposed for tests, which feed the checker deliberately torn streams. Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bench/probes/probe.hpp"

namespace ipcbench::probes {

// A record of `size` bytes (size >= kRecordHeader): a header with a magic number, the writer,
// its sequence number and the size, then 8-byte words each holding the writer, the low 24 bits
// of the sequence and the word's index, so any byte from another record or another place
// breaks the comparison with the expected record.
inline constexpr std::size_t kRecordHeader = 16;
void encode_record(std::span<std::byte> out, std::uint16_t writer, std::uint32_t seq);

// Checks a stream cut into frames of the record size, one frame per record.
class record_checker {
 public:
  record_checker(std::size_t size, unsigned writers);
  // One frame of exactly `size` bytes (a shorter one is a torn record too).
  void feed(std::span<const std::byte> frame);
  std::size_t records() const noexcept { return records_; }
  // Frames that are not one intact record: bytes of two or more writes mixed.
  std::size_t torn() const noexcept { return torn_; }
  // Intact records that arrived out of their writer's order (never expected).
  std::size_t out_of_order() const noexcept { return out_of_order_; }

 private:
  std::size_t size_;
  std::vector<std::uint32_t> next_seq_;
  std::vector<std::byte> expected_;
  std::size_t records_ = 0, torn_ = 0, out_of_order_ = 0;
};

enum class channel_type { pipe, fifo };

struct interleave_result {
  std::size_t records = 0;
  std::size_t torn = 0;
  std::size_t out_of_order = 0;
};

// Forks `writers` processes that each write `per_writer` records of `size` bytes, every record
// with one write(2) call, into one pipe (or one FIFO in a private directory), all released at
// once; reads the stream in frames of `size` and checks them. Throws probe_timeout when the
// deadline passes (the writers are killed and reaped) and std::system_error on failed calls.
interleave_result run_interleave(channel_type type, std::size_t size, unsigned writers,
                                 std::size_t per_writer, const deadline& d);

}  // namespace ipcbench::probes
