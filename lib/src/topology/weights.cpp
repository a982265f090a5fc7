#include "decent/topology/weights.hpp"

#include <algorithm>
#include <stdexcept>

namespace decent {

WeightScheme parse_weight_scheme(std::string_view name) {
  if (name == "metropolis") return WeightScheme::metropolis;
  if (name == "uniform") return WeightScheme::uniform;
  if (name == "max-degree") return WeightScheme::max_degree;
  throw std::invalid_argument("unknown weight scheme '" + std::string(name) +
                              "' (allowed: metropolis, uniform, max-degree)");
}

std::string to_string(WeightScheme scheme) {
  switch (scheme) {
    case WeightScheme::metropolis: return "metropolis";
    case WeightScheme::uniform: return "uniform";
    case WeightScheme::max_degree: return "max-degree";
  }
  return "?";
}

MixingMatrix mixing_matrix(const Graph& graph, WeightScheme scheme) {
  if (graph.directed() && scheme != WeightScheme::uniform)
    throw std::invalid_argument(to_string(scheme) +
                                " weights need an undirected graph; use uniform weights for a directed one");
  const int n = graph.nodes();
  const int max_degree = graph.max_degree();
  MixingMatrix::Triplets entries;
  entries.reserve(static_cast<std::size_t>(n) + 2 * graph.edge_count());
  for (int i = 0; i < n; ++i) {
    const int di = graph.degree(i);
    if (scheme == WeightScheme::uniform) {
      // Equal shares, written directly rather than as 1 - sum so that every entry is the same double.
      const double w = 1.0 / (di + 1);
      entries.emplace_back(i, i, w);
      for (int j : graph.neighbors(i)) entries.emplace_back(i, j, w);
      continue;
    }
    double off_diagonal = 0;
    for (int j : graph.neighbors(i)) {
      const double w = scheme == WeightScheme::metropolis ? 1.0 / (1 + std::max(di, graph.degree(j)))
                                                          : 1.0 / (1 + max_degree);
      entries.emplace_back(i, j, w);
      off_diagonal += w;
    }
    entries.emplace_back(i, i, 1.0 - off_diagonal);
  }
  MixingMatrix w = MixingMatrix::from_triplets(n, entries);
#ifndef NDEBUG
  // O(n) promise check in debug builds: these schemes are symmetric and doubly stochastic.
  if (scheme != WeightScheme::uniform && !(w.is_symmetric(1e-12) && w.is_doubly_stochastic(1e-9)))
    throw std::logic_error(to_string(scheme) + " weights came out not doubly stochastic");
#endif
  return w;
}

}  // namespace decent
