#pragma once
/// @file How fast gossip mixes: spectral gap 1 - ||W - J||_2.
#include <Eigen/Dense>
#include <cstdint>

#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// ||W - J||_2, the worst-case factor by which one round shrinks the distance to the mean
/// (J = 11^T/n). Dense: O(n^3) time.
double mixing_rate(const Eigen::MatrixXd& w);
/// 1 - ||W - J||_2: 1 for exact averaging, 0 (or below, for W that are not doubly stochastic)
/// when a round need not bring the nodes closer.
double spectral_gap(const Eigen::MatrixXd& w);
double spectral_gap(const MixingMatrix& w);

class Topology;
/// Measured per-round factor by which gossip shrinks the consensus distance ||x - mean(x)||: the
/// geometric mean over rounds 0..rounds-1 from seeded random starts. For a symmetric static W it tends
/// to the second-largest |eigenvalue|; for random graphs it is the meaningful speed (their single-round
/// ||W - J|| can exceed 1). 0 means exact averaging.
double consensus_rate(const Topology& topology, std::int64_t rounds = 200, std::uint64_t seed = 1);

}  // namespace decent
