#pragma once
/// @file A mini-batch of samples, stored as columns.
#include <Eigen/Dense>
#include <vector>

namespace decent {

/// A mini-batch: features as columns (input_dim x B), class labels (classification) or targets (regression).
struct Batch {
  Eigen::MatrixXf x;        ///< input_dim x B, one sample per column
  std::vector<int> labels;  ///< B class ids in 0..classes-1 (empty for regression)
  Eigen::VectorXf targets;  ///< B regression targets (empty for classification)
  /// Number of samples B.
  Eigen::Index size() const { return x.cols(); }
};

}  // namespace decent
