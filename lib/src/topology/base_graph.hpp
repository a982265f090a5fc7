#pragma once
#include <vector>

#include <Eigen/SparseCore>

namespace decent::detail {

/// One round of a Base-(k+1) graph: the non-zero entries (row, col, weight) of W, diagonal included.
using Triplets = std::vector<Eigen::Triplet<double>>;

/// The rounds W^(1..m) of the Base-(k+1) graph on n nodes with at most k peers per node and round.
/// Their product is exactly J = 11^T/n. Throws std::invalid_argument for n < 1 or k < 1.
std::vector<Triplets> base_graph_rounds(int n, int k);

}  // namespace decent::detail
