#pragma once
// Shared by the tests: consecutive sample indices, e.g. to cut one data set into train and test subsets.
#include <Eigen/Core>
#include <numeric>
#include <vector>

namespace decent::test {

/// first, first + 1, ..., first + count - 1.
inline std::vector<Eigen::Index> index_range(Eigen::Index first, Eigen::Index count) {
  std::vector<Eigen::Index> r(static_cast<std::size_t>(count));
  std::iota(r.begin(), r.end(), first);
  return r;
}

}  // namespace decent::test
