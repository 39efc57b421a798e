#include "mechanisms/pipes/pipe_splice_tee.hpp"

#include <fcntl.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "mechanisms/pipes/pipe_splice.hpp"
#include "sys/error.hpp"
#include "sys/retry.hpp"

namespace ipcbench {
namespace {

unique_fd open_dev_null() {
  return unique_fd(check(::open("/dev/null", O_WRONLY | O_CLOEXEC), "open(/dev/null)"));
}

}  // namespace

tee_endpoint::tee_endpoint(std::vector<unique_fd> data_out, std::vector<unique_fd> acks_in)
    : stage_(make_pipe()),
      null_(open_dev_null()),
      out_(std::move(data_out)),
      acks_(std::move(acks_in)) {}

tee_endpoint::tee_endpoint(unique_fd data_in, unique_fd ack_out) noexcept
    : in_(std::move(data_in)), ack_out_(std::move(ack_out)) {}

io_status tee_endpoint::send(std::span<const std::byte> msg) {
  if (out_.empty()) throw std::logic_error("pipe.splice fan-out: a consumer sent");
  while (!msg.empty()) {
    const std::size_t n = std::min(msg.size(), kTeeChunk);
    if (send_chunk(msg.first(n)) != io_status::ok) return io_status::closed;
    msg = msg.subspan(n);
  }
  return io_status::ok;
}

io_status tee_endpoint::send_chunk(std::span<const std::byte> chunk) {
  // The staging pipe is empty: the chunk's pages (9 at most) all fit, but vmsplice may still
  // return a part (a signal); go on from there.
  for (std::span<const std::byte> rest = chunk; !rest.empty();) {
    iovec iov{const_cast<std::byte*>(rest.data()), rest.size()};
    const ssize_t n =
        retry_on_eintr([&] { return ::vmsplice(stage_.write_end.get(), &iov, 1, 0); });
    if (n < 0) throw_errno("vmsplice(staging pipe, " + std::to_string(rest.size()) + " bytes)");
    rest = rest.subspan(static_cast<std::size_t>(n));
  }
  // Each consumer's pipe is empty (its ack of the last chunk came after its read), so tee
  // references the whole chunk in it at once; a part could not be continued (tee starts at the
  // staging pipe's head every time).
  for (std::size_t i = 0; i < out_.size(); ++i) {
    const ssize_t t = retry_on_eintr(
        [&] { return ::tee(stage_.read_end.get(), out_[i].get(), chunk.size(), 0); });
    if (t < 0) {
      if (errno == EPIPE) return io_status::closed;
      throw_errno("tee(staging pipe, consumer " + std::to_string(i) + "'s pipe, " +
                  std::to_string(chunk.size()) + " bytes)");
    }
    if (static_cast<std::size_t>(t) != chunk.size())
      throw std::runtime_error("pipe.splice fan-out: tee(2) to consumer " + std::to_string(i) +
                               " duplicated " + std::to_string(t) + " of " +
                               std::to_string(chunk.size()) + " bytes");
  }
  // Drop the staging pipe's own references without copying: splice to /dev/null.
  for (std::size_t left = chunk.size(); left > 0;) {
    const ssize_t n = retry_on_eintr(
        [&] { return ::splice(stage_.read_end.get(), nullptr, null_.get(), nullptr, left, 0); });
    if (n <= 0) throw_errno("splice(staging pipe, /dev/null, " + std::to_string(left) + " bytes)");
    left -= static_cast<std::size_t>(n);
  }
  // Every consumer has read the chunk: no pipe references these pages any more.
  for (std::size_t i = 0; i < acks_.size(); ++i) {
    std::byte ack{};
    if (read_exact(acks_[i].get(), std::span(&ack, 1)) != io_status::ok) return io_status::closed;
    if (ack != splice_endpoint::kAck) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(ack));
      throw std::runtime_error("pipe.splice fan-out: read byte " + std::string(hex) +
                               " where consumer " + std::to_string(i) + "'s ack was due");
    }
  }
  return io_status::ok;
}

std::ptrdiff_t tee_endpoint::receive(std::span<std::byte> buf) {
  if (!in_) throw std::logic_error("pipe.splice fan-out: the producer received");
  for (std::span<std::byte> rest = buf; !rest.empty();) {
    const std::size_t n = std::min(rest.size(), kTeeChunk);
    if (read_exact(in_.get(), rest.first(n)) != io_status::ok) return kPeerGone;
    // A producer gone before the ack shows at the next read.
    (void)write_all(ack_out_.get(), std::span(&splice_endpoint::kAck, 1));
    rest = rest.subspan(n);
  }
  return static_cast<std::ptrdiff_t>(buf.size());
}

pipe_splice_tee_channel::pipe_splice_tee_channel(const channel_config&, std::size_t consumers) {
  if (consumers == 0) throw std::invalid_argument("pipe.splice fan-out of 0 consumers");
  for (std::size_t i = 0; i < consumers; ++i) {
    data_.push_back(make_pipe());
    acks_.push_back(make_pipe());
  }
}

void pipe_splice_tee_channel::opened() noexcept {
  data_.clear();
  acks_.clear();
}

tee_endpoint pipe_splice_tee_channel::open(role r, std::size_t index) {
  // A forked member keeps only its own ends: a copy of another's would hide that one's EOF.
  if (r == role::producer) {
    std::vector<unique_fd> out, acks;
    for (std::size_t i = 0; i < data_.size(); ++i) {
      data_[i].read_end.reset();
      acks_[i].write_end.reset();
      out.push_back(std::move(data_[i].write_end));
      acks.push_back(std::move(acks_[i].read_end));
    }
    return tee_endpoint(std::move(out), std::move(acks));
  }
  if (index >= data_.size())
    throw std::invalid_argument("pipe.splice fan-out: consumer " + std::to_string(index) + " of " +
                                std::to_string(data_.size()));
  unique_fd in = std::move(data_[index].read_end);
  unique_fd ack = std::move(acks_[index].write_end);
  data_.clear();
  acks_.clear();
  return tee_endpoint(std::move(in), std::move(ack));
}

}  // namespace ipcbench
