#include "control.hpp"

#include <cstdint>
#include <string>

#include "sys/io.hpp"

namespace ipcbench {

void control_link::send(const nlohmann::json& msg) {
  const std::string body = msg.dump();
  const auto len = static_cast<std::uint32_t>(body.size());
  std::string frame(reinterpret_cast<const char*>(&len), sizeof len);
  frame += body;
  if (send_all(fd_.get(), std::as_bytes(std::span(frame.data(), frame.size()))) != io_status::ok)
    throw peer_gone("control channel closed");
}

nlohmann::json control_link::receive() {
  std::uint32_t len = 0;
  if (read_exact(fd_.get(), std::as_writable_bytes(std::span(&len, 1))) != io_status::ok)
    throw peer_gone("control channel closed");
  if (len > (64u << 20)) throw std::runtime_error("control message too large");
  std::string body(len, '\0');
  if (read_exact(fd_.get(), std::as_writable_bytes(std::span(body.data(), body.size()))) !=
      io_status::ok)
    throw peer_gone("control channel closed");
  return nlohmann::json::parse(body);
}

std::optional<nlohmann::json> control_link::receive_for(std::chrono::milliseconds timeout) {
  if (!wait_readable(fd_.get(), timeout)) return std::nullopt;
  return receive();
}

nlohmann::json control_link::expect(const char* type, std::chrono::milliseconds timeout) {
  auto msg = receive_for(timeout);
  if (!msg) throw std::runtime_error(std::string("timed out waiting for '") + type + "'");
  const auto t = msg->at("type").get<std::string>();
  if (t == "error") throw std::runtime_error(msg->value("what", "peer error"));
  if (t != type) throw std::runtime_error(std::string("expected '") + type + "', got '" + t + "'");
  return *msg;
}

}  // namespace ipcbench
