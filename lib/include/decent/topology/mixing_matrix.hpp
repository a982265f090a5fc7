#pragma once
/// @file A gossip round's mixing matrix W: x_i <- sum_j W_ij x_j.
#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <vector>

#include "decent/topology/graph.hpp"

namespace decent {

/// A sparse n x n matrix of non-negative weights whose rows sum to 1; row i holds the weights node i
/// gives to the values it mixes in (columns in increasing order). The diagonal is the self weight.
class MixingMatrix {
public:
  using Sparse = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;
  using Triplets = std::vector<Eigen::Triplet<double>>;

  MixingMatrix() = default;
  /// Takes W and validates it: square, finite, non-negative, rows summing to 1 within `tolerance`.
  /// Throws std::invalid_argument naming the first offending row otherwise.
  explicit MixingMatrix(Sparse w, double tolerance = 1e-9);
  /// Builds W from (row, col, weight) entries on n nodes; duplicate entries are summed.
  static MixingMatrix from_triplets(int n, const Triplets& entries, double tolerance = 1e-9);
  /// The identity (no mixing) on n nodes.
  static MixingMatrix identity(int n);

  int nodes() const noexcept { return static_cast<int>(w_.rows()); }
  const Sparse& sparse() const noexcept { return w_; }
  /// W as a dense matrix (for checks and spectral analysis; O(n^2) memory).
  Eigen::MatrixXd dense() const { return Eigen::MatrixXd(w_); }
  /// W_ij (0 when absent).
  double weight(int i, int j) const { return w_.coeff(i, j); }
  /// Number of stored non-zeros, diagonal included.
  long non_zeros() const noexcept { return w_.nonZeros(); }

  /// W_ij and W_ji differ by at most `tolerance` for every pair.
  bool is_symmetric(double tolerance = 1e-12) const;
  /// Rows and columns all sum to 1 within `tolerance` (so gossip preserves the mean).
  bool is_doubly_stochastic(double tolerance = 1e-12) const;
  /// The off-diagonal non-zero pattern; undirected when the pattern is symmetric.
  Graph graph() const;

private:
  Sparse w_;
};

}  // namespace decent
