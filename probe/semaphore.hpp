// The SEM_UNDO cost claim's decision from its timed runs (semaphore.cpp). Exposed for tests,
// which give it made-up runs. Coordinator side.
#pragma once

#include <vector>

#include "probe/probe.hpp"

namespace ipcbench::probes {

// The verdict, value and detail of sysv_sem_undo_cost from ns per semop of each run without and
// with SEM_UNDO (alternated; `semops_per_run` for the text). Decided by the exact rank test
// between the two (stats/rank.hpp), two-sided: holds where p <= kRankLevel and the runs with
// SEM_UNDO were slower in more than half of the pairs of runs, does not hold where p <=
// kRankLevel and they were faster, inconclusive otherwise.
outcome decide_undo_cost(const std::vector<double>& plain, const std::vector<double>& undo,
                         int semops_per_run);

}  // namespace ipcbench::probes
