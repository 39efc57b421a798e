#include "harness/rate_search.hpp"

#include <cmath>

namespace ipcbench {

rate_search_result find_highest_rate(double start, const loss_function& loss_at,
                                     const rate_search_limits& limits) {
  rate_search_result res;
  // One trial: true when it ran and qualified; sets res.aborted when it could not run.
  auto qualifies = [&](double rate) {
    const std::optional<double> loss = loss_at(rate);
    if (!loss) {
      res.aborted = true;
      return false;
    }
    res.trials.push_back({rate, *loss});
    return *loss < limits.max_loss;
  };
  if (!(start > 0) || limits.max_trials == 0) return res;

  double bad = start;
  if (qualifies(start)) {
    res.best = start;
    return res;
  }
  if (res.aborted || res.trials.size() >= limits.max_trials) return res;
  double good = start * limits.lowest_fraction;
  if (!qualifies(good)) return res;
  res.best = good;
  while (res.trials.size() < limits.max_trials) {
    const double mid = std::sqrt(good * bad);
    if (qualifies(mid)) {
      good = mid;
      res.best = mid;
    } else if (res.aborted) {
      return res;
    } else {
      bad = mid;
    }
  }
  return res;
}

}  // namespace ipcbench
