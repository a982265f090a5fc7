#pragma once
/// @file Loss landscapes around the nodes: interpolation towards the mean and 2-D slices of parameter space.
#include <Eigen/Dense>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "decent/data/dataset.hpp"
#include "decent/model/model.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"

namespace decent {

/// What a landscape probe measures.
struct LandscapeOptions {
  int interp_points = 11;            ///< A: coefficients a = 0, 1/(A-1), ..., 1 (0 = no interpolation)
  std::vector<int> probe_nodes;      ///< node ids whose interpolation curves are measured (sorted)
  int grid = 11;                     ///< G: the plane is sampled on G x G points (0 = no plane)
  double extent = 1.25;              ///< each axis spans +-extent times the largest node coordinate on it
  std::optional<std::array<int, 3>> plane_through;  ///< plane through three models; empty = principal plane
};

/// One probe's results. The interpolation rows are this rank's probed nodes only (in node order); the
/// plane is the same on every rank.
struct LandscapeProbe {
  std::vector<int> local_nodes;          ///< this rank's probed nodes
  Eigen::MatrixXd interp_loss, interp_acc;  ///< local_nodes x A: loss and accuracy of (1 - a) x_i + a x_bar
  std::vector<double> barrier;           ///< per local probed node: max_a of loss(a) - ((1-a) loss(0) + a loss(1))
  Eigen::VectorXd axis;                  ///< G normalized coordinates in [-extent, extent]
  std::array<double, 2> scale{0, 0};     ///< real coordinate along axis k = axis * scale[k]
  Eigen::MatrixXd plane_loss, plane_acc; ///< G x G, [gu, gv] at origin + axis[gu] scale0 e1 + axis[gv] scale1 e2
  Eigen::MatrixXd node_coords;           ///< n x 2: every node's projection on the plane, normalized like axis
  std::string plane;                     ///< "pca" (origin x_bar) or "nodes:i,j,k" (origin x_i)
  double seconds = 0;                    ///< time the probe took (on this rank)
};

/// The interpolation coefficients of `points` evenly spaced values in [0, 1].
Eigen::VectorXd interpolation_alphas(int points);
/// `count` probe nodes spread evenly over 0..n-1 (all nodes if count >= n).
std::vector<int> spread_nodes(int nodes, int count);

/// Measures the landscape on `data` (a fixed probe subset). `local` holds this rank's nodes' parameters
/// (dim x count(rank)) and `mean` x_bar. The principal plane goes through x_bar along the top two principal
/// directions of the deviations x_i - x_bar (every rank gathers all nodes' parameters for it: n x dim floats).
/// Collective over `comm`.
LandscapeProbe probe_landscape(const Comm& comm, const Placement& placement, const Model& model,
                               const Eigen::Ref<const Eigen::MatrixXf>& local, const Eigen::VectorXf& mean,
                               const Dataset& data, const LandscapeOptions& options);

}  // namespace decent
