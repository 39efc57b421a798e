#include "mechanisms/uring/uring_ring.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include "sys/error.hpp"
#include "sys/system.hpp"

namespace ipcbench {

uring_ring::uring_ring(const uring_options& o) {
  io_uring_params p{};
  if (o.sqpoll) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = o.sq_idle_ms;
    if (o.sq_cpu >= 0) {
      p.flags |= IORING_SETUP_SQ_AFF;
      p.sq_thread_cpu = static_cast<unsigned>(o.sq_cpu);
    }
  }
  if (o.defer_taskrun) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  // liburing returns -errno rather than setting errno.
  const int rc = io_uring_queue_init_params(o.entries, &ring_, &p);
  if (rc < 0) {
    std::string call = "io_uring_queue_init_params(" + std::to_string(o.entries) + " entries";
    if (o.sqpoll) call += ", IORING_SETUP_SQPOLL";
    if (o.sqpoll && o.sq_cpu >= 0)
      call += ", IORING_SETUP_SQ_AFF on CPU " + std::to_string(o.sq_cpu);
    if (o.defer_taskrun) call += ", IORING_SETUP_DEFER_TASKRUN";
    throw_errno(call + ")", -rc);
  }
}

uring_ring::~uring_ring() {
  io_uring_queue_exit(&ring_);
}

io_uring_sqe* uring_ring::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (s == nullptr) {
    const int rc = io_uring_submit(&ring_);
    if (rc < 0) throw_errno("io_uring_submit", -rc);
    s = io_uring_get_sqe(&ring_);
    if (s == nullptr) throw_errno("io_uring_get_sqe", EBUSY);
  }
  return s;
}

uring_ring::completion uring_ring::submit_and_wait_one() {
  // io_uring_enter(2) submits first, then waits: it returns the number submitted even when the
  // wait was interrupted, and -EINTR only when nothing was, so a retry submits what is left.
  int rc;
  do rc = io_uring_submit_and_wait(&ring_, 1);
  while (rc == -EINTR);
  if (rc < 0) throw_errno("io_uring_submit_and_wait", -rc);
  return wait_one();
}

uring_ring::completion uring_ring::wait_one() {
  io_uring_cqe* cqe = nullptr;
  int rc;
  do rc = io_uring_wait_cqe(&ring_, &cqe);
  while (rc == -EINTR);
  if (rc < 0) throw_errno("io_uring_wait_cqe", -rc);
  const completion c{cqe->res, static_cast<unsigned long long>(cqe->user_data)};
  io_uring_cqe_seen(&ring_, cqe);
  return c;
}

namespace {

std::string probe(bool sqpoll) {
  try {
    uring_options o;
    o.entries = 2;
    o.sqpoll = sqpoll;
    o.sq_idle_ms = 1;
    uring_ring r(o);
    return "";
  } catch (const std::system_error& e) {
    std::string why = e.what();
    if (auto d = read_first_line("/proc/sys/kernel/io_uring_disabled"))
      why += "; /proc/sys/kernel/io_uring_disabled = " + *d;
    return why;
  }
}

}  // namespace

const std::string& uring_unavailable(bool sqpoll) {
  static const std::string plain = probe(false);
  if (!sqpoll || !plain.empty()) return plain;
  static const std::string polled = probe(true);
  return polled;
}

}  // namespace ipcbench
