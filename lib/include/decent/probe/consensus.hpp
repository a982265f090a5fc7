#pragma once
/// @file How far the nodes are from agreeing: consensus distance and each node's distance to the mean.
#include <Eigen/Dense>
#include <vector>

#include "decent/mpi/comm.hpp"

namespace decent {

/// Consensus measures of all n nodes' parameters.
struct Consensus {
  Eigen::VectorXd mean;                   ///< x_bar = (1/n) sum_i x_i, in double
  double distance = 0;                    ///< (1/n) sum_i ||x_i - x_bar||^2 (raw sum of squares, as in Kong et al. 2021)
  std::vector<double> distance_to_mean;   ///< ||x_i - x_bar||^2 for this rank's nodes, in column order
};

/// Consensus of the n nodes whose parameters are spread over `comm` as columns of `local` (this rank's
/// nodes). Computes x_bar first and then the distances, never the cancelling shortcut
/// mean ||x_i||^2 - ||x_bar||^2. Collective over `comm`; `nodes` is the total n.
Consensus consensus(const Comm& comm, int nodes, const Eigen::Ref<const Eigen::MatrixXf>& local);

}  // namespace decent
