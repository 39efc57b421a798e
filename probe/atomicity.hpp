// The PIPE_BUF atomicity experiment: K writer processes write tagged records of one size into
// one pipe or FIFO while the reader checks every record, so an interleaved (torn) write shows.
// Exposed for tests, which feed the checker deliberately torn streams. Coordinator side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "probe/probe.hpp"

namespace ipcbench::probes {

// A record of `size` bytes (size >= kRecordHeader): a header with a magic number, the writer,
// its sequence number and the size, then 8-byte words each holding the writer, the low 24 bits
// of the sequence and the word's index, so any byte from another record or another place
// breaks the comparison with the expected record.
inline constexpr std::size_t kRecordHeader = 16;
void encode_record(std::span<std::byte> out, std::uint16_t writer, std::uint32_t seq);

struct interleave_result {
  std::size_t records = 0;       // writes in the stream: its length / the record size
  std::size_t intact = 0;        // records found whole, each in one contiguous run of bytes
  std::size_t torn = 0;          // records - intact: writes whose bytes were interleaved
  std::size_t out_of_order = 0;  // intact records behind an earlier one of their writer
};

// Looks for every intact record in `stream` wherever it starts (after a torn region the records
// are no longer at multiples of `size`): a header naming a writer below `writers` and `size`,
// followed by exactly the bytes that writer wrote. A write that was interleaved with another's
// data is not found whole, so it counts as torn, and only it: its neighbours stay intact.
interleave_result check_stream(std::span<const std::byte> stream, std::size_t size,
                               unsigned writers);

enum class channel_type { pipe, fifo };

// Forks `writers` processes that each write `per_writer` records of `size` bytes, every record
// with one write(2) call, into one pipe (or one FIFO in a private directory), all released at
// once; reads the whole stream and checks it with check_stream(). Throws probe_timeout when the
// deadline passes (the writers are killed and reaped) and std::system_error on failed calls.
interleave_result run_interleave(channel_type type, std::size_t size, unsigned writers,
                                 std::size_t per_writer, const deadline& d);

}  // namespace ipcbench::probes
