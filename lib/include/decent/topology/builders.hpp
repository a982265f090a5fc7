#pragma once
/// @file Graph builders of the topology catalogue (docs/topologies.md has each one's spectral gap).
#include <cstdint>
#include <utility>
#include <vector>

#include "decent/topology/graph.hpp"
#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// Ring: node i is linked to i-1 and i+1 (mod n). n >= 1.
Graph ring_graph(int n);
/// The shape of the most square 2-D torus for n nodes: rows = largest divisor of n <= sqrt(n).
std::pair<int, int> torus_shape(int n);
/// 2-D periodic torus of rows x cols nodes; node (r, c) is r * cols + c. rows, cols >= 1.
Graph torus_graph(int rows, int cols);
/// Static exponential graph (directed): node i mixes in i + 2^k (mod n) for 2^k < n.
Graph exponential_graph(int n);
/// Hypercube: i is linked to i xor 2^k. n must be a power of two.
Graph hypercube_graph(int n);
/// Complete graph: every pair linked.
Graph complete_graph(int n);
/// Star: node 0 is linked to every other node.
Graph star_graph(int n);
/// Erdős–Rényi G(n, p) conditioned on being connected: draws with streams derived from `seed` until
/// one is connected; throws std::invalid_argument if 1000 draws are not (p too small for n).
Graph erdos_renyi_graph(int n, double p, std::uint64_t seed);

/// The rounds of the one-peer exponential graph, one per k = 0..ceil(log2 n)-1: W_ii = 1/2 and
/// W_{i,(i+2^k) mod n} = 1/2. For n a power of two their product is exactly J = 11^T/n.
std::vector<MixingMatrix> one_peer_exponential_rounds(int n);
/// The rounds of the Base-(k+1) graph (Takezawa et al. 2023): at most k peers per node and round,
/// each round symmetric and doubly stochastic, product exactly J for every n.
std::vector<MixingMatrix> base_rounds(int n, int k);
/// One round of the random-r graph: each node mixes in floor(r) distinct uniformly random other nodes,
/// plus one more with probability frac(r), all with weight 1/|set| (self included). Row-stochastic
/// only. The draw depends only on (seed, round). 0 <= r <= n-1.
MixingMatrix random_round(int n, double r, std::uint64_t seed, std::int64_t round);

}  // namespace decent
