#include "floor_station.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <span>

#include "sys/io.hpp"
#include "sys/system.hpp"

namespace ipcbench {
namespace {

// What the coordinator sends a helper: the side to run and its argument. Both are addresses,
// which mean the same in the helper (forked from the coordinator, the region mapped before).
struct floor_request {
  floor_side side;
  void* arg;
};

constexpr std::size_t kPage = 4096;
constexpr std::chrono::milliseconds kSideBPatience{2000};

// A helper's life: pinned once, then one side per request, its return code the reply, until the
// coordinator closes the socket.
int helper_loop(int fd, int cpu) {
  pin_to_cpu(cpu);
  for (;;) {
    floor_request req{};
    if (read_exact(fd, std::as_writable_bytes(std::span(&req, 1))) != io_status::ok) return 0;
    const auto rc = static_cast<unsigned char>(req.side(req.arg));
    if (send_all(fd, std::as_bytes(std::span(&rc, 1))) != io_status::ok) return 0;
  }
}

// The reply of one helper within `timeout`: its side's return code, or -1.
int reply(int fd, std::chrono::milliseconds timeout) {
  if (!wait_readable(fd, timeout)) return -1;
  unsigned char rc = 0;
  if (read_exact(fd, std::as_writable_bytes(std::span(&rc, 1))) != io_status::ok) return -1;
  return rc;
}

bool send_request(int fd, floor_side side, void* arg) {
  const floor_request req{side, arg};
  return send_all(fd, std::as_bytes(std::span(&req, 1))) == io_status::ok;
}

}  // namespace

floor_station::floor_station(int cpu_a, int cpu_b, std::size_t region_bytes)
    : cpu_a_(cpu_a),
      cpu_b_(cpu_b),
      region_(map_shared_anonymous((region_bytes + kPage - 1) / kPage * kPage, "floor station")) {
  auto [coord_a, child_a] = make_socketpair(SOCK_STREAM);
  auto [coord_b, child_b] = make_socketpair(SOCK_STREAM);
  // Each helper keeps its own end only: the coordinator's ends closed in it, so that the
  // coordinator closing its end (or dying) is EOF there.
  const int ca = child_a.get(), cb = child_b.get();
  const int oa = coord_a.get(), ob = coord_b.get();
  helper_a_ = child_process::fork([&] {
    ::close(oa);
    ::close(ob);
    ::close(cb);
    return helper_loop(ca, cpu_a);
  });
  helper_b_ = child_process::fork([&] {
    ::close(oa);
    ::close(ob);
    ::close(ca);
    return helper_loop(cb, cpu_b);
  });
  link_a_ = std::move(coord_a);
  link_b_ = std::move(coord_b);
}

floor_station::~floor_station() {
  stop();
}

void floor_station::stop() noexcept {
  link_a_.reset();
  link_b_.reset();
  // A helper reads EOF and exits at once; one stuck in a side is killed.
  for (child_process* h : {&helper_a_, &helper_b_}) {
    try {
      if (!h->wait_for(std::chrono::milliseconds(500))) h->kill_and_reap();
    } catch (...) {
      h->kill_and_reap();
    }
  }
}

bool floor_station::run(floor_side a, floor_side b, void* arg, std::chrono::milliseconds timeout) {
  if (broken_) return false;
  bool ok = false;
  try {
    // The second side first: an echo or a reader is waiting when the first side starts.
    ok = send_request(link_b_.get(), b, arg) && send_request(link_a_.get(), a, arg) &&
         reply(link_a_.get(), timeout) == 0 && reply(link_b_.get(), kSideBPatience) == 0;
  } catch (const std::exception&) {
    ok = false;
  }
  if (ok) {
    ++runs_;
    return true;
  }
  // A side that failed or hangs: no waiting for it, the helpers are killed.
  broken_ = true;
  helper_a_.kill_and_reap();
  helper_b_.kill_and_reap();
  link_a_.reset();
  link_b_.reset();
  return false;
}

floor_memory::floor_memory(floor_station* station, int cpu_a, int cpu_b, std::size_t bytes,
                           std::string_view what)
    : cpu_a_(cpu_a), cpu_b_(cpu_b) {
  if (station != nullptr && !station->broken() && station->cpu_a() == cpu_a &&
      station->cpu_b() == cpu_b && bytes <= station->region_bytes()) {
    station_ = station;
    data_ = station->region();
  } else {
    own_ = map_shared_anonymous(bytes, what);
    data_ = own_.data();
  }
}

bool floor_memory::run(floor_side a, floor_side b, void* arg, std::chrono::milliseconds timeout) {
  if (station_ != nullptr) return station_->run(a, b, arg, timeout);
  auto side_b = child_process::fork([&] {
    pin_to_cpu(cpu_b_);
    return b(arg);
  });
  auto side_a = child_process::fork([&] {
    pin_to_cpu(cpu_a_);
    return a(arg);
  });
  const auto st = side_a.wait_for(timeout);
  return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
  // side_b's destructor kills and reaps it if it is still there (a partner that died).
}

}  // namespace ipcbench
