#include "mechanisms/middleware/grpc_uds.hpp"

#include <google/protobuf/stubs/common.h>
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/version_info.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "mechanisms/middleware/grpc_uds.grpc.pb.h"
#include "sys/socket.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

namespace pb = ipcbench::grpc_uds;

// Setup only: how long a producer waits for the consumer's server, and how soon it retries a
// connection refused because the server is not listening yet.
constexpr auto kConnectTimeout = std::chrono::seconds(60);
constexpr int kReconnectBackoffMs = 10;
constexpr int kMaxReconnectBackoffMs = 100;
// How long a closing server lets a call still in flight finish before cancelling it.
constexpr auto kShutdownGrace = std::chrono::seconds(1);

// gRPC 1.51 shuts itself down when its last object goes (grpc_shutdown, from the completion
// queue's destructor), and that shutdown joins an executor thread that may sit in epoll_wait with
// a 10 s timeout that nothing cuts short: about one peer in 25 took 10 s to close. A peer is a
// process that ends right after closing, so it holds one reference of its own for its whole life
// and leaves the rest to the process's exit.
void hold_grpc_for_this_process() {
  static const bool held = (grpc_init(), true);
  (void)held;
}

std::string target_of(const nlohmann::json& where) {
  return "unix:" + where.at("path").get<std::string>();
}

std::runtime_error grpc_failure(const std::string& step, const grpc::Status& s) {
  return std::runtime_error("gRPC " + step + ": " + std::to_string(s.error_code()) + " " +
                            s.error_message());
}

// Copies a received `bytes` field into the harness's buffer: one whole message, never cut.
std::ptrdiff_t deliver(const std::string& data, std::span<std::byte> buf) {
  if (data.size() > buf.size())
    throw std::length_error("gRPC: a message of " + std::to_string(data.size()) +
                            " bytes, larger than the " + std::to_string(buf.size()) +
                            "-byte message expected");
  std::memcpy(buf.data(), data.data(), data.size());
  return static_cast<std::ptrdiff_t>(data.size());
}

std::unique_ptr<pb::Exchange::Stub> connect_client(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxGrpcMessage);
  args.SetMaxReceiveMessageSize(kMaxGrpcMessage);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  // The path is unlinked once both peers opened: the channel must never go idle and reconnect.
  args.SetInt(GRPC_ARG_CLIENT_IDLE_TIMEOUT_MS, INT_MAX);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout))
    throw std::runtime_error("gRPC: no connection to " + target + " within " +
                             std::to_string(kConnectTimeout.count()) + " s");
  return pb::Exchange::NewStub(channel);
}

// The consumer's server: the generated asynchronous service on one completion queue, which
// only this peer's thread polls.
class server_base : public grpc_endpoint::impl {
 protected:
  explicit server_base(const std::string& target) {
    grpc::ServerBuilder b;
    b.AddListeningPort(target, grpc::InsecureServerCredentials());
    b.SetMaxReceiveMessageSize(kMaxGrpcMessage);
    b.SetMaxSendMessageSize(kMaxGrpcMessage);
    b.RegisterService(&service_);
    cq_ = b.AddCompletionQueue();
    server_ = b.BuildAndStart();
    if (!server_) throw std::runtime_error("gRPC: cannot start a server on " + target);
  }
  ~server_base() override {
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    cq_->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) {
    }
  }
  // Waits for `tag` to complete; false when the operation failed (the call or stream ended).
  bool wait(void* tag) {
    void* got = nullptr;
    bool ok = false;
    if (!cq_->Next(&got, &ok)) return false;
    if (got != tag) throw std::logic_error("gRPC: unexpected completion-queue tag");
    return ok;
  }

  pb::Exchange::AsyncService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

class unary_client final : public grpc_endpoint::impl {
 public:
  // The hello call: an empty request the server answers before its open() returns.
  explicit unary_client(const std::string& target) : stub_(connect_client(target)) {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + kConnectTimeout);
    const grpc::Status s = stub_->Call(&ctx, request_, &response_);
    if (!s.ok()) throw grpc_failure("hello call", s);
  }
  io_status send(std::span<const std::byte> msg) override {
    request_.set_data(msg.data(), msg.size());
    grpc::ClientContext ctx;  // one per call, as gRPC requires
    const grpc::Status s = stub_->Call(&ctx, request_, &response_);
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
        s.error_code() == grpc::StatusCode::CANCELLED)
      return io_status::closed;
    if (!s.ok()) throw grpc_failure("unary call", s);
    return io_status::ok;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) override {
    return deliver(response_.data(), buf);
  }

 private:
  std::unique_ptr<pb::Exchange::Stub> stub_;
  pb::Bytes request_, response_;
};

class unary_server final : public server_base {
 public:
  // Serves the client's hello call: the server makes progress only while this thread polls
  // its completion queue, so the connection is made here, before open() returns.
  explicit unary_server(const std::string& target) : server_base(target) {
    std::byte none{};
    if (receive({&none, 0}) != 0) throw std::runtime_error("gRPC: no hello call");
    if (send({}) != io_status::ok) throw std::runtime_error("gRPC: hello call not answered");
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) override {
    ctx_ = std::make_unique<grpc::ServerContext>();  // one per call
    responder_ = std::make_unique<grpc::ServerAsyncResponseWriter<pb::Bytes>>(ctx_.get());
    service_.RequestCall(ctx_.get(), &request_, responder_.get(), cq_.get(), cq_.get(), &call_);
    if (!wait(&call_)) return kPeerGone;
    return deliver(request_.data(), buf);
  }
  io_status send(std::span<const std::byte> msg) override {
    response_.set_data(msg.data(), msg.size());
    responder_->Finish(response_, grpc::Status::OK, &finish_);
    return wait(&finish_) ? io_status::ok : io_status::closed;
  }

 private:
  std::unique_ptr<grpc::ServerContext> ctx_;
  std::unique_ptr<grpc::ServerAsyncResponseWriter<pb::Bytes>> responder_;
  pb::Bytes request_, response_;
  int call_ = 0, finish_ = 0;  // their addresses are the completion-queue tags
};

class stream_client final : public grpc_endpoint::impl {
 public:
  explicit stream_client(const std::string& target)
      : stub_(connect_client(target)), stream_(stub_->Stream(&ctx_)) {}
  ~stream_client() override {
    // Half-close, then wait for the server's status: the consumer finishes the stream once it
    // has read everything, so no message in flight is cut off.
    stream_->WritesDone();
    stream_->Finish();
  }
  io_status send(std::span<const std::byte> msg) override {
    request_.set_data(msg.data(), msg.size());
    return stream_->Write(request_) ? io_status::ok : io_status::closed;
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) override {
    if (!stream_->Read(&response_)) return kPeerGone;
    return deliver(response_.data(), buf);
  }

 private:
  std::unique_ptr<pb::Exchange::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::Bytes, pb::Bytes>> stream_;
  pb::Bytes request_, response_;
};

class stream_server final : public server_base {
 public:
  // Waits for the client's stream: the server makes progress only while this thread polls its
  // completion queue, so the connection is made here, before open() returns.
  explicit stream_server(const std::string& target) : server_base(target), stream_(&ctx_) {
    service_.RequestStream(&ctx_, &stream_, cq_.get(), cq_.get(), &start_);
    if (!wait(&start_)) throw std::runtime_error("gRPC: the stream never started");
  }
  ~stream_server() override {
    stream_.Finish(grpc::Status::OK, &finish_);
    wait(&finish_);
  }
  std::ptrdiff_t receive(std::span<std::byte> buf) override {
    stream_.Read(&request_, &read_);
    if (!wait(&read_)) return kPeerGone;
    return deliver(request_.data(), buf);
  }
  io_status send(std::span<const std::byte> msg) override {
    response_.set_data(msg.data(), msg.size());
    stream_.Write(response_, &write_);
    return wait(&write_) ? io_status::ok : io_status::closed;
  }

 private:
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<pb::Bytes, pb::Bytes> stream_;
  pb::Bytes request_, response_;
  int start_ = 0, read_ = 0, write_ = 0, finish_ = 0;  // completion-queue tags
};

void add_grpc_notes(mechanism_traits& t) {
  t.kind = channel_kind::message;
  t.family = "middleware";
  t.mechanism = "grpc";
  t.related_only = false;
  t.max_message = static_cast<std::size_t>(kMaxGrpcMessage) - kGrpcBytesFraming;
  t.max_message_source =
      "gRPC max send/receive message size, set to " + std::to_string(kMaxGrpcMessage) +
      " bytes on channel and server by this adapter (gRPC's default receive limit is 4 MiB), "
      "less " +
      std::to_string(kGrpcBytesFraming) + " bytes of protobuf framing";
  t.notes["grpc_version"] = GRPC_CPP_VERSION_STRING;
  t.notes["protobuf_version"] = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
  t.notes["max_send_message_size"] = std::to_string(kMaxGrpcMessage);
  t.notes["max_receive_message_size"] = std::to_string(kMaxGrpcMessage);
  t.notes["transport"] = "unix:PATH (HTTP/2 over an AF_UNIX stream socket), insecure credentials";
  t.notes["message"] = "protobuf message with one bytes field (grpc_uds.proto)";
  t.notes["client"] = "synchronous stub; channel made after fork, connected before the run";
  t.notes["server"] =
      "asynchronous service on one completion queue polled by the consumer's thread, made after "
      "fork";
  t.library_threads = true;
  t.notes["library threads"] = kLibraryThreadsNote;
}

}  // namespace

grpc_uds_base::grpc_uds_base(const channel_config& cfg) {
  if (cfg.dir == nullptr) throw std::invalid_argument("grpc.uds needs a private directory");
  const auto p = cfg.dir->path() / "grpc.sock";
  unix_address(p);  // fails now, in the coordinator, when the path is too long
  path_ = named_object(named_object::kind::path, p.string());
  path_.created();  // the consumer's server creates it; it is the coordinator's to unlink
}

void grpc_uds_base::opened() noexcept {
  path_.unlink();
}

nlohmann::json grpc_uds_base::rendezvous() const {
  return {{"path", path_.name()}};
}

mechanism_traits grpc_uds_channel::describe() {
  mechanism_traits t;
  t.id = "grpc.uds";
  t.variant = "uds";
  add_grpc_notes(t);
  t.supports_throughput = false;
  t.wait = "client: the synchronous call's completion queue; server: CompletionQueue::Next";
  t.description =
      "gRPC unary call per round trip over a Unix socket (request = message, response = reply); "
      "client and server made after fork; latency only (grpc.uds.stream streams)";
  return t;
}

grpc_endpoint grpc_uds_channel::attach(const nlohmann::json& where, role r) {
  hold_grpc_for_this_process();
  const std::string target = target_of(where);
  if (r == role::consumer) return grpc_endpoint(std::make_unique<unary_server>(target));
  return grpc_endpoint(std::make_unique<unary_client>(target));
}

mechanism_traits grpc_uds_stream_channel::describe() {
  mechanism_traits t;
  t.id = "grpc.uds.stream";
  t.variant = "uds.stream";
  add_grpc_notes(t);
  t.wait = "client: the synchronous stream's Read; server: CompletionQueue::Next";
  t.description =
      "gRPC bidirectional stream over a Unix socket, one Write/Read per message, replies on the "
      "same stream; client and server made after fork";
  return t;
}

grpc_endpoint grpc_uds_stream_channel::attach(const nlohmann::json& where, role r) {
  hold_grpc_for_this_process();
  const std::string target = target_of(where);
  if (r == role::consumer) return grpc_endpoint(std::make_unique<stream_server>(target));
  return grpc_endpoint(std::make_unique<stream_client>(target));
}

}  // namespace ipcbench
