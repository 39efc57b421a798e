// One io_uring instance (liburing's struct io_uring) with its descriptor and mappings, owned by
// the peer that made it: rings are created after fork, in the process (or thread's endpoint)
// that submits to them and waits on them, and never shared across fork. Private to the io_uring
// family's .cpp files and the probes' io_uring wake-ups (the only places that include
// liburing.h). Throws std::system_error
// naming the liburing call.
#pragma once

#include <liburing.h>

#include <string>

namespace ipcbench {

struct uring_options {
  unsigned entries = 8;
  // IORING_SETUP_SQPOLL: a kernel thread polls the submission queue, idle after sq_idle_ms.
  bool sqpoll = false;
  unsigned sq_idle_ms = 50;
  // IORING_SETUP_SQ_AFF: the SQPOLL thread pinned to this CPU; -1 leaves it to the scheduler.
  int sq_cpu = -1;
  // IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: only the creating thread submits,
  // and completions' task work runs when it waits for them (kernel 6.1).
  bool defer_taskrun = false;
};

class uring_ring {
 public:
  // io_uring_queue_init_params(3). Throws std::system_error("io_uring_queue_init_params(...)")
  // with the kernel's errno (EPERM: io_uring disabled or SQPOLL refused, ENOSYS: no io_uring).
  explicit uring_ring(const uring_options& o);
  uring_ring(const uring_ring&) = delete;
  uring_ring& operator=(const uring_ring&) = delete;
  // io_uring_queue_exit(3): unmaps the rings and closes the descriptor.
  ~uring_ring();

  io_uring* get() noexcept { return &ring_; }
  int fd() const noexcept { return ring_.ring_fd; }

  // A fresh SQE; submits what is queued first when the queue is full. Throws when none frees.
  io_uring_sqe* sqe();
  // Submits what is queued and waits for one completion (one io_uring_enter(2) when the
  // kernel has none yet), retrying EINTR. Returns the CQE's res and user_data; the CQE is
  // consumed. Throws std::system_error naming the call on a failure of io_uring_enter itself.
  struct completion {
    int res;
    unsigned long long user_data;
  };
  completion submit_and_wait_one();
  // Waits for one completion without submitting (io_uring_wait_cqe(3)), retrying EINTR.
  completion wait_one();

 private:
  io_uring ring_{};
};

// The io_uring probe made once per process, at registry time: "" when a ring can be set up
// (with IORING_SETUP_SQPOLL when `sqpoll`), else why not ("io_uring_queue_init_params:
// Operation not permitted; /proc/sys/kernel/io_uring_disabled = 2").
const std::string& uring_unavailable(bool sqpoll);

}  // namespace ipcbench
