#pragma once
/// @file How fast gossip mixes: spectral gap 1 - ||W - J||_2.
#include <Eigen/Dense>

#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// ||W - J||_2, the worst-case factor by which one round shrinks the distance to the mean
/// (J = 11^T/n). Dense: O(n^3) time.
double mixing_rate(const Eigen::MatrixXd& w);
/// 1 - ||W - J||_2: 1 for exact averaging, 0 (or below, for W that are not doubly stochastic)
/// when a round need not bring the nodes closer.
double spectral_gap(const Eigen::MatrixXd& w);
double spectral_gap(const MixingMatrix& w);

}  // namespace decent
