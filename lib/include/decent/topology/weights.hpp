#pragma once
/// @file Mixing weights from a graph: Metropolis-Hastings, uniform and max-degree.
#include <string>
#include <string_view>

#include "decent/topology/graph.hpp"
#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// How to turn a graph into mixing weights (deg = number of neighbours, self excluded).
enum class WeightScheme {
  metropolis,  ///< W_ij = 1/(1 + max(deg_i, deg_j)); symmetric and doubly stochastic (undirected only)
  uniform,     ///< W_ij = 1/(deg_i + 1), self included; row-stochastic, doubly stochastic if regular
  max_degree,  ///< W_ij = 1/(1 + max deg); symmetric and doubly stochastic (undirected only)
};

/// Parses "metropolis", "uniform" or "max-degree"; throws std::invalid_argument listing the choices.
WeightScheme parse_weight_scheme(std::string_view name);
/// The command-line name of a scheme.
std::string to_string(WeightScheme scheme);

/// The mixing matrix of `graph` under `scheme`; self weights make every row sum to 1.
/// Throws std::invalid_argument for metropolis or max-degree on a directed graph.
MixingMatrix mixing_matrix(const Graph& graph, WeightScheme scheme);

}  // namespace decent
