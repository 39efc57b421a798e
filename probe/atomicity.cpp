// Claim 1: PIPE_BUF is 4096 and writes up to PIPE_BUF bytes are atomic (pipe(7): "POSIX.1 says
// that writes of less than PIPE_BUF bytes must be atomic ... writes of more than PIPE_BUF bytes
// may be nonatomic: the kernel may interleave the data with data written by other processes").
#include "atomicity.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "sys/error.hpp"
#include "sys/io.hpp"
#include "sys/retry.hpp"
#include "sys/system.hpp"
#include "sys/unique_fd.hpp"

namespace ipcbench::probes {
namespace {

constexpr std::uint32_t kMagic = 0x42504950;  // "PIPB"
constexpr unsigned kWriters = 4;
constexpr std::size_t kBytesPerRun = std::size_t{16} << 20;

std::uint64_t fill_word(std::uint16_t writer, std::uint32_t seq, std::uint32_t index) {
  return (std::uint64_t{writer} << 56) | (std::uint64_t{seq & 0xFFFFFFu} << 32) | index;
}

}  // namespace

void encode_record(std::span<std::byte> out, std::uint16_t writer, std::uint32_t seq) {
  const auto size = static_cast<std::uint32_t>(out.size());
  const std::uint16_t reserved = 0;
  std::memcpy(out.data(), &kMagic, 4);
  std::memcpy(out.data() + 4, &writer, 2);
  std::memcpy(out.data() + 6, &reserved, 2);
  std::memcpy(out.data() + 8, &seq, 4);
  std::memcpy(out.data() + 12, &size, 4);
  std::uint32_t index = 0;
  for (std::size_t at = kRecordHeader; at < out.size(); at += 8, ++index) {
    const std::uint64_t w = fill_word(writer, seq, index);
    std::memcpy(out.data() + at, &w, std::min<std::size_t>(8, out.size() - at));
  }
}

interleave_result check_stream(std::span<const std::byte> stream, std::size_t size,
                               unsigned writers) {
  interleave_result r;
  if (size < kRecordHeader) return r;
  r.records = stream.size() / size;
  std::vector<std::uint32_t> next_seq(writers, 0);
  std::vector<std::byte> expected(size);
  std::byte magic[4];
  std::memcpy(magic, &kMagic, 4);
  auto intact_at = [&](std::size_t at) {
    std::uint32_t seq, rec_size;
    std::uint16_t writer;
    std::memcpy(&writer, stream.data() + at + 4, 2);
    std::memcpy(&seq, stream.data() + at + 8, 4);
    std::memcpy(&rec_size, stream.data() + at + 12, 4);
    if (rec_size != size || writer >= writers) return false;
    encode_record(expected, writer, seq);
    if (std::memcmp(expected.data(), stream.data() + at, size) != 0) return false;
    if (seq < next_seq[writer]) ++r.out_of_order;
    next_seq[writer] = std::max(next_seq[writer], seq + 1);
    return true;
  };
  // The magic number occurs only in headers: fill words hold a writer id below 256 in their
  // top byte and a word index below 2^28, so no 4 bytes of them spell it.
  std::size_t at = 0;
  while (at + size <= stream.size()) {
    if (std::memcmp(stream.data() + at, magic, 4) == 0 && intact_at(at)) {
      ++r.intact;
      at += size;
      continue;
    }
    const auto next = std::search(stream.begin() + static_cast<std::ptrdiff_t>(at) + 1,
                                  stream.end(), std::begin(magic), std::end(magic));
    at = static_cast<std::size_t>(next - stream.begin());
  }
  r.torn = r.records - std::min(r.records, r.intact);
  return r;
}

interleave_result run_interleave(channel_type type, std::size_t size, unsigned writers,
                                 std::size_t per_writer, const deadline& d) {
  std::unique_ptr<temp_fifo> fifo;
  std::string fifo_path;
  fd_pair channel;
  if (type == channel_type::pipe) {
    channel = make_pipe();
  } else {
    fifo = std::make_unique<temp_fifo>();
    fifo_path = fifo->path();
    // A non-blocking open for reading succeeds without a writer; then reads should block.
    channel.read_end = unique_fd(check(::open(fifo_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC),
                                       "open(" + fifo_path + ", O_RDONLY)"));
    check(::fcntl(channel.read_end.get(), F_SETFL, 0), "fcntl(F_SETFL)");
  }
  auto ready = make_pipe();
  auto go = make_pipe();

  std::vector<child_process> kids;
  for (unsigned w = 0; w < writers; ++w) {
    kids.push_back(child_process::fork([&, w] {
      channel.read_end.reset();
      ready.read_end.reset();
      go.write_end.reset();
      unique_fd out =
          type == channel_type::pipe
              ? std::move(channel.write_end)
              : unique_fd(check(::open(fifo_path.c_str(), O_WRONLY | O_CLOEXEC), "open(fifo)"));
      announce(ready.write_end.get());
      ready.write_end.reset();
      std::byte b{};
      (void)read_exact(go.read_end.get(), {&b, 1});  // EOF when the reader releases everyone
      std::vector<std::byte> rec(size);
      for (std::uint32_t seq = 0; seq < per_writer; ++seq) {
        encode_record(rec, static_cast<std::uint16_t>(w), seq);
        if (write_all(out.get(), rec) != io_status::ok) return 1;
      }
      return 0;
    }));
  }
  channel.write_end.reset();
  ready.write_end.reset();
  go.read_end.reset();

  for (unsigned got = 0; got < writers;) {
    if (!wait_readable(ready.read_end.get(), d.left()))
      throw probe_timeout("waiting for the writers to open the channel");
    char buf[16];
    const ssize_t n = retry_on_eintr([&] { return ::read(ready.read_end.get(), buf, sizeof buf); });
    if (n <= 0) throw std::runtime_error("a writer exited before it opened the channel");
    got += static_cast<unsigned>(n);
  }
  go.write_end.reset();  // every writer sees EOF on `go` and starts

  // Keep the whole stream: a torn region shifts the records after it off the size grid.
  std::vector<std::byte> stream(size * per_writer * writers);
  std::size_t got = 0;
  for (;;) {
    if (!wait_readable(channel.read_end.get(), d.left()))
      throw probe_timeout("reading " + std::to_string(size) + "-byte records");
    if (got == stream.size()) stream.resize(stream.size() + size);  // more than was written?
    const ssize_t n = retry_on_eintr(
        [&] { return ::read(channel.read_end.get(), stream.data() + got, stream.size() - got); });
    if (n < 0) throw_errno("read");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  stream.resize(got);
  for (auto& k : kids) {
    const auto st = k.wait_for(d.left());
    if (!st) throw probe_timeout("waiting for the writers to exit");
    if (!WIFEXITED(*st) || WEXITSTATUS(*st) != 0)
      throw std::runtime_error("a writer " + describe_wait_status(*st));
  }
  if (got != size * per_writer * writers)
    throw std::runtime_error("the reader got " + std::to_string(got) +
                             " bytes, the writers wrote " +
                             std::to_string(size * per_writer * writers));
  return check_stream(stream, size, writers);
}

namespace {

std::size_t records_per_writer(std::size_t size) {
  return std::clamp<std::size_t>(kBytesPerRun / (kWriters * size), 64, 4096);
}

// Runs both channels at every size; value holds per size the torn counts and record counts.
struct interleave_table {
  nlohmann::json value;
  std::size_t torn = 0, records = 0, out_of_order = 0;
};

interleave_table interleave_all(const std::vector<std::size_t>& sizes, const deadline& d) {
  interleave_table t;
  nlohmann::json pipe_torn = nlohmann::json::array(), fifo_torn = nlohmann::json::array(),
                 records = nlohmann::json::array();
  for (std::size_t size : sizes) {
    const std::size_t n = records_per_writer(size);
    for (channel_type type : {channel_type::pipe, channel_type::fifo}) {
      const auto r = run_interleave(type, size, kWriters, n, d);
      (type == channel_type::pipe ? pipe_torn : fifo_torn).push_back(r.torn);
      t.torn += r.torn;
      t.records += r.records;
      t.out_of_order += r.out_of_order;
    }
    records.push_back(n * kWriters);
  }
  t.value = {{"bytes", sizes},
             {"pipe torn", std::move(pipe_torn)},
             {"fifo torn", std::move(fifo_torn)},
             {"records each", std::move(records)},
             {"writers", kWriters}};
  return t;
}

const char* const kMethod =
    "4 forked writers each write N tagged records (header with writer id, sequence and size, "
    "then a writer/sequence/position fill pattern; one write(2) per record) into one pipe, then "
    "into one FIFO, released together by closing a start pipe; the reader keeps the whole "
    "stream and looks for each record whole, wherever it starts: a record not found whole was "
    "interleaved (torn)";

outcome pipe_buf_value(const deadline&) {
  const temp_fifo fifo;
  const std::string& path = fifo.path();
  auto p = make_pipe();
  const long pipe_value = check(::fpathconf(p.write_end.get(), _PC_PIPE_BUF), "fpathconf(pipe)");
  const long fifo_value = check(::pathconf(path.c_str(), _PC_PIPE_BUF), "pathconf(fifo)");
  outcome o;
  o.value = {{"PIPE_BUF", PIPE_BUF}, {"fpathconf pipe", pipe_value}, {"pathconf fifo", fifo_value}};
  o.result = PIPE_BUF == 4096 && pipe_value == 4096 && fifo_value == 4096 ? verdict::holds
                                                                          : verdict::does_not_hold;
  o.detail = "PIPE_BUF is " + std::to_string(PIPE_BUF) + " at compile time, " +
             std::to_string(pipe_value) + " for a pipe and " + std::to_string(fifo_value) +
             " for a FIFO at run time; POSIX requires at least 512 (_POSIX_PIPE_BUF)";
  return o;
}

outcome small_writes(const deadline& d) {
  const auto t = interleave_all({512, PIPE_BUF}, d);
  outcome o;
  o.value = t.value;
  o.result = t.torn == 0 ? verdict::holds : verdict::does_not_hold;
  o.detail = std::to_string(t.torn) + " torn of " + std::to_string(t.records) +
             " records checked (pipe and FIFO, 512 and " + std::to_string(PIPE_BUF) + " bytes, " +
             std::to_string(t.out_of_order) + " out of their writer's order)";
  return o;
}

outcome large_writes(const deadline& d) {
  const auto t = interleave_all({PIPE_BUF + 1, 16384, 65536}, d);
  outcome o;
  o.value = t.value;
  if (t.torn > 0) {
    std::string per_size;
    for (std::size_t i = 0; i < t.value["bytes"].size(); ++i)
      per_size += (i ? ", " : "") + t.value["bytes"][i].dump() + " bytes: " +
                  std::to_string(t.value["pipe torn"][i].get<std::size_t>() +
                                 t.value["fifo torn"][i].get<std::size_t>());
    o.result = verdict::holds;
    o.detail = std::to_string(t.torn) + " of " + std::to_string(t.records) +
               " records were torn (" + per_size +
               "): a write larger than PIPE_BUF that finds the pipe full copies what fits, sleeps, "
               "and another writer's data can land in between";
  } else {
    o.result = verdict::not_applicable;
    o.detail = "no interleaving observed in " + std::to_string(t.records) +
               " records; the claim is that such writes may interleave, which a clean run does "
               "not refute";
  }
  return o;
}

}  // namespace

std::vector<probe> pipe_atomicity_probes() {
  return {
      {"pipe_buf", "PIPE_BUF is 4096 bytes on Linux (POSIX: at least 512)",
       "man 7 pipe (PIPE_BUF); tutorial 004, section 2.3 '总结' (summary: PIPE_BUF, 4096 bytes)",
       "PIPE_BUF from <limits.h>, fpathconf(_PC_PIPE_BUF) on a pipe, pathconf(_PC_PIPE_BUF) on a "
       "FIFO",
       pipe_buf_value},
      {"pipe_atomic_writes",
       "Writes of at most PIPE_BUF bytes to a pipe or FIFO never interleave with other writers'",
       "man 7 pipe (PIPE_BUF); tutorial 000, section '命名管道的安全问题' (FIFO safety); tutorial "
       "004, section 2.3 '总结' (summary)",
       std::string(kMethod) + "; sizes 512 and PIPE_BUF", small_writes},
      {"pipe_large_writes_interleave",
       "Writes larger than PIPE_BUF may interleave with other writers' data",
       "man 7 pipe (PIPE_BUF); tutorial 000, section '命名管道的安全问题' (FIFO safety)",
       std::string(kMethod) + "; sizes PIPE_BUF+1, 16384 and 65536", large_writes},
  };
}

}  // namespace ipcbench::probes
