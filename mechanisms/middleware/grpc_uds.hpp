// gRPC over a Unix-domain socket (unix:PATH in the run's private directory), generated code from
// grpc_uds.proto (a message is one protobuf `bytes` field). gRPC may not be used across a fork,
// so the coordinator makes no gRPC object: the producer creates its channel (the client) and the
// consumer its server in open()/attach(), after fork. Before open() returns the pair has
// exchanged a hello (grpc.uds: an empty call, answered; grpc.uds.stream: the stream's start),
// which the server must poll its completion queue to see: the connection is made then, and the
// coordinator's opened() may unlink the path.
// - grpc.uds: a unary call per round trip, request = the message, response = the reply; the
//   producer's send() makes the call (synchronous stub) and its receive() hands over the
//   response; the consumer serves with the asynchronous API on a completion queue polled in its
//   own thread: receive() waits for the next call, send() finishes it with the reply. Latency
//   only: a unary call is a round trip.
// - grpc.uds.stream: one bidirectional stream for the run, a message per Write/Read; both
//   patterns (HTTP/2 flow control makes a writer wait, nothing is dropped).
// Both set the maximum send and receive message size to kMaxGrpcMessage on both sides; the
// largest harness message is that less the bytes field's protobuf framing (traits.max_message).
// The endpoint hides gRPC's types behind one indirect call per message (not per byte). Named
// channels: forked and separately launched peers rendezvous the same way.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include <nlohmann/json.hpp>

#include "mechanisms/adapter.hpp"
#include "sys/io.hpp"
#include "sys/named.hpp"

namespace ipcbench {

inline constexpr int kMaxGrpcMessage = 64 << 20;
// A `bytes` field on the wire: a 1-byte tag and a varint length (4 bytes below 2^28).
inline constexpr std::size_t kGrpcBytesFraming = 5;

// One side of a grpc.uds or grpc.uds.stream run. Move-only; closing ends the call or stream
// cleanly (the client half-closes and waits for the status, the server finishes and shuts
// down). Throws std::runtime_error naming the gRPC step and status.
class grpc_endpoint {
 public:
  struct impl {
    virtual ~impl() = default;
    virtual io_status send(std::span<const std::byte> msg) = 0;
    virtual std::ptrdiff_t receive(std::span<std::byte> buf) = 0;
  };
  explicit grpc_endpoint(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}

  io_status send(std::span<const std::byte> msg) { return impl_->send(msg); }
  // One message: its length, or kPeerGone when the partner ended the call or stream.
  std::ptrdiff_t receive(std::span<std::byte> buf) { return impl_->receive(buf); }

 private:
  std::unique_ptr<impl> impl_;
};

// What the two grpc ids share: the socket path in the private directory.
class grpc_uds_base {
 public:
  // Coordinator: chooses the path (the consumer's server creates the socket file) and owns it
  // as a named_object. Throws std::invalid_argument without a private directory,
  // std::length_error when the path does not fit an AF_UNIX address.
  explicit grpc_uds_base(const channel_config& cfg);
  void opened() noexcept;
  nlohmann::json rendezvous() const;  // {"path": socket path}

 private:
  named_object path_;
};

class grpc_uds_channel : public grpc_uds_base {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both (gRPC
  // is used in one process only, the thread host, never across its fork).
  static constexpr bool kThreadPeers = true;
  using grpc_uds_base::grpc_uds_base;
  static mechanism_traits describe();
  grpc_endpoint open(role r) { return attach(rendezvous(), r); }
  static grpc_endpoint attach(const nlohmann::json& where, role r);
};

class grpc_uds_stream_channel : public grpc_uds_base {
 public:
  // open(role) attaches by name and closes nothing: two threads of one process may both (gRPC
  // is used in one process only, the thread host, never across its fork).
  static constexpr bool kThreadPeers = true;
  using grpc_uds_base::grpc_uds_base;
  static mechanism_traits describe();
  grpc_endpoint open(role r) { return attach(rendezvous(), r); }
  static grpc_endpoint attach(const nlohmann::json& where, role r);
};

}  // namespace ipcbench
