#pragma once
/// @file The per-class Dirichlet split ("noniid-labeldir") of NIID-Bench (Li et al., ICDE 2022), used
/// by most FL codebases; a pure function of its arguments (seeded through derive_seed).
#include <cstdint>
#include <span>

#include <Eigen/Core>

#include "decent/data/partition.hpp"

namespace decent {

/// How many draws partition_dirichlet_split tries before it gives up.
inline constexpr int dirichlet_split_attempts = 1000;

/// A disjoint, covering label-skewed split (nodes' sizes vary): class by class, the class's samples (a
/// seeded shuffle) are cut into runs for the nodes in proportions q_k ~ Dir(alpha 1_nodes), a node already
/// holding >= N / nodes samples getting 0 (the balancing rule); cut j is floor(cumsum(q_k)_j n_k).
/// Redrawn (attempt a: streams derive_seed(seed, {4, a}) and {5, a, k}) until every node has >= min_size
/// samples (the reference: 10). partition_dirichlet instead lets each node draw per_node samples of its
/// own class mix, so nodes may share samples; partition_dirichlet_mix is the curricula paper's variant.
/// Throws std::invalid_argument unless classes >= 1, nodes >= 1, alpha > 0 (finite), labels in [0, classes),
/// 0 <= min_size <= N / nodes, or if all attempts fail.
Partition partition_dirichlet_split(std::span<const int> labels, int classes, int nodes, double alpha,
                                    Eigen::Index min_size, std::uint64_t seed);

/// The split of the curricula paper's code (Curriculum-FL, utils.py partition_data, noniid-labeldir): node i draws
/// its class mix q_i ~ Dir(alpha 1_classes) (the reference's Dir(beta K p) for balanced classes), and class k's
/// samples (a seeded shuffle) are cut for the nodes in proportions q_{i,k} / sum_j q_{j,k}; no balancing rule.
/// Redrawn until every node has >= min_size samples. Disjoint and covering; throws as partition_dirichlet_split.
Partition partition_dirichlet_mix(std::span<const int> labels, int classes, int nodes, double alpha,
                                  Eigen::Index min_size, std::uint64_t seed);

}  // namespace decent
