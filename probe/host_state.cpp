#include "probe/host_state.hpp"

#include <algorithm>

#include "probe/probe.hpp"

namespace ipcbench::probes {

std::vector<host_state> states_of_rounds(std::span<const double> line_ns) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < line_ns.size(); ++i)
    if (line_ns[i] > 0) order.push_back(i);
  if (order.empty()) return {};
  std::ranges::sort(order, [&](std::size_t a, std::size_t b) { return line_ns[a] < line_ns[b]; });
  std::size_t cut = 0;  // where the slower state starts in `order`; 0: one state
  double widest = kHostStateGap;
  for (std::size_t k = 1; k < order.size(); ++k)
    if (const double gap = line_ns[order[k]] / line_ns[order[k - 1]]; gap >= widest) {
      widest = gap;
      cut = k;
    }
  const auto state_of = [&](std::size_t from, std::size_t to) {
    host_state s;
    s.rounds.assign(order.begin() + static_cast<std::ptrdiff_t>(from),
                    order.begin() + static_cast<std::ptrdiff_t>(to));
    std::vector<double> in;
    for (std::size_t r : s.rounds) in.push_back(line_ns[r]);
    s.line_ns = median(std::move(in));
    std::ranges::sort(s.rounds);
    return s;
  };
  if (cut == 0) return {state_of(0, order.size())};
  return {state_of(0, cut), state_of(cut, order.size())};
}

}  // namespace ipcbench::probes
