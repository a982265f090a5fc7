#pragma once
/// @file Which sample indices each node owns. Every partition is a pure function of its arguments
/// (seeded through derive_seed, no global state), so it is identical on every rank, platform and rank
/// count. Each node's indices are returned sorted ascending.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace decent {

/// node -> the sample indices it owns.
using Partition = std::vector<std::vector<Eigen::Index>>;

/// An IID split: a seeded shuffle of 0..samples-1 cut into `nodes` contiguous parts whose sizes differ
/// by at most one (the first samples % nodes nodes get one more). Disjoint and covering.
/// Throws std::invalid_argument unless nodes >= 1 and samples >= nodes.
Partition partition_iid(Eigen::Index samples, int nodes, std::uint64_t seed);

/// The per-node class proportions of partition_dirichlet, as columns (classes x nodes): node i's column
/// p_i ~ Dir(alpha * 1_C), drawn from the stream derive_seed(seed, {0, i}), so it does not depend on
/// the node count. Gamma variates by Marsaglia-Tsang (with Gamma(a) = Gamma(a+1) * U^(1/a) for a < 1),
/// normalized in log space so tiny alpha cannot underflow to an all-zero vector.
/// Throws std::invalid_argument unless classes >= 1, nodes >= 1 and alpha > 0 (finite).
Eigen::MatrixXd dirichlet_proportions(int classes, int nodes, double alpha, std::uint64_t seed);

/// The label-skewed split of "A Single Merging Suffices" (Zhu et al., datasets/dirichlet_sampling.py,
/// mode "fixed"): node i draws p_i = dirichlet_proportions(...).col(i), then draws per_node samples
/// without replacement (within the node) with probability proportional to p_i[label] + 1e-12.
/// Nodes draw independently, so different nodes may share samples.
/// Done as successive sampling by class: the next class is c with probability proportional to
/// (p_i[c] + 1e-12) * (samples of class c not yet drawn by node i), then a uniform undrawn sample of
/// that class; a class the node has exhausted gets weight 0, so a node whose favourite classes run out
/// continues with the others. The draws of node i use the stream derive_seed(seed, {1, i}).
/// Throws std::invalid_argument unless classes >= 1, every label is in [0, classes), nodes >= 1,
/// alpha > 0, and 1 <= per_node <= labels.size().
Partition partition_dirichlet(std::span<const int> labels, int classes, int nodes, double alpha,
                              Eigen::Index per_node, std::uint64_t seed);

/// The pathological non-IID split of FedAvg (McMahan et al. 2017): the samples are grouped by label
/// (in a seeded random order within each label), cut into nodes * shards_per_node equal shards of
/// floor(N / (nodes * shards_per_node)) samples (the N mod (nodes * shards_per_node) samples at the end
/// of the order, from the largest label, are left out), and each node is dealt shards_per_node random
/// shards. Each node then holds shards_per_node * shard size samples of at most 2 * shards_per_node
/// classes (at most shards_per_node classes if every class count is a multiple of the shard size, as
/// in MNIST with 100 or 200 shards; a shard spans more than two classes only if a class is smaller
/// than a shard). Disjoint. Throws std::invalid_argument unless nodes >= 1, shards_per_node >= 1,
/// labels.size() >= nodes * shards_per_node, and every label is >= 0.
Partition partition_shards(std::span<const int> labels, int nodes, int shards_per_node, std::uint64_t seed);

/// How many of `indices` have each label: result[c] = #{k : labels[indices[k]] == c}, c < classes.
/// Throws std::invalid_argument if classes < 1, std::out_of_range if an index is outside labels or a
/// label outside [0, classes).
std::vector<int> class_counts(std::span<const int> labels, std::span<const Eigen::Index> indices, int classes);

}  // namespace decent
