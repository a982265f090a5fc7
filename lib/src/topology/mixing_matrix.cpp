#include "decent/topology/mixing_matrix.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace decent {

MixingMatrix::MixingMatrix(Sparse w, double tolerance) : w_(std::move(w)) {
  if (w_.rows() != w_.cols()) {
    std::ostringstream msg;
    msg << "mixing matrix must be square, got " << w_.rows() << " x " << w_.cols();
    throw std::invalid_argument(msg.str());
  }
  w_.makeCompressed();
  for (int i = 0; i < w_.outerSize(); ++i) {
    double sum = 0;
    for (Sparse::InnerIterator it(w_, i); it; ++it) {
      if (!std::isfinite(it.value()) || it.value() < 0) {
        std::ostringstream msg;
        msg << "mixing matrix entry W(" << i << ", " << it.col() << ") = " << it.value()
            << " must be finite and non-negative";
        throw std::invalid_argument(msg.str());
      }
      sum += it.value();
    }
    if (std::abs(sum - 1.0) > tolerance) {
      std::ostringstream msg;
      msg.precision(17);
      msg << "mixing matrix row " << i << " sums to " << sum << ", not 1";
      throw std::invalid_argument(msg.str());
    }
  }
}

MixingMatrix MixingMatrix::from_triplets(int n, const Triplets& entries, double tolerance) {
  if (n < 0) throw std::invalid_argument("mixing matrix: node count must be >= 0");
  for (const auto& t : entries)
    if (t.row() < 0 || t.row() >= n || t.col() < 0 || t.col() >= n) {
      std::ostringstream msg;
      msg << "mixing matrix entry (" << t.row() << ", " << t.col() << ") is outside nodes 0.." << n - 1;
      throw std::invalid_argument(msg.str());
    }
  Sparse w(n, n);
  w.setFromTriplets(entries.begin(), entries.end());
  w.prune(0.0);  // explicit zeros are no edge
  return MixingMatrix(std::move(w), tolerance);
}

MixingMatrix MixingMatrix::identity(int n) {
  Triplets diagonal;
  for (int i = 0; i < n; ++i) diagonal.emplace_back(i, i, 1.0);
  return from_triplets(n, diagonal);
}

bool MixingMatrix::is_symmetric(double tolerance) const {
  const Sparse difference = w_ - Sparse(w_.transpose());
  for (int i = 0; i < difference.outerSize(); ++i)
    for (Sparse::InnerIterator it(difference, i); it; ++it)
      if (std::abs(it.value()) > tolerance) return false;
  return true;
}

bool MixingMatrix::is_doubly_stochastic(double tolerance) const {
  Eigen::VectorXd rows = Eigen::VectorXd::Zero(w_.rows());
  Eigen::VectorXd cols = Eigen::VectorXd::Zero(w_.cols());
  for (int i = 0; i < w_.outerSize(); ++i)
    for (Sparse::InnerIterator it(w_, i); it; ++it) {
      if (it.value() < 0) return false;
      rows[i] += it.value();
      cols[it.col()] += it.value();
    }
  return (rows.array() - 1).abs().maxCoeff() <= tolerance && (cols.array() - 1).abs().maxCoeff() <= tolerance;
}

Graph MixingMatrix::graph() const {
  // The pattern is undirected when (i, j) present <=> (j, i) present.
  const Sparse transposed = Sparse(w_.transpose());
  bool symmetric_pattern = true;
  for (int i = 0; i < w_.outerSize() && symmetric_pattern; ++i)
    for (Sparse::InnerIterator it(w_, i); it; ++it)
      if (transposed.coeff(i, static_cast<int>(it.col())) == 0.0) {
        symmetric_pattern = false;
        break;
      }
  Graph g(nodes(), !symmetric_pattern);
  for (int i = 0; i < w_.outerSize(); ++i)
    for (Sparse::InnerIterator it(w_, i); it; ++it)
      if (it.col() != i) g.add_edge(i, static_cast<int>(it.col()));
  return g;
}

}  // namespace decent
