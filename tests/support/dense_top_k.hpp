#pragma once
// Test support: an independent top-k (a full stable sort by magnitude), to check compressors and the
// algorithms built on them against.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace decent::test {

/// x with all but its k largest magnitudes set to zero; among equal magnitudes the smaller index wins.
inline Eigen::VectorXf dense_top_k(const Eigen::VectorXf& x, Eigen::Index k) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.size()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return std::abs(x(a)) > std::abs(x(b)); });
  Eigen::VectorXf out = Eigen::VectorXf::Zero(x.size());
  for (Eigen::Index j = 0; j < k; ++j) out(order[static_cast<std::size_t>(j)]) = x(order[static_cast<std::size_t>(j)]);
  return out;
}

}  // namespace decent::test
