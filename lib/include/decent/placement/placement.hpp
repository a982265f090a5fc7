#pragma once
/// @file Which MPI rank hosts which logical node.
#include <vector>

namespace decent {

/// Block placement of n nodes on p ranks (n >= p): rank r hosts the contiguous node ids
/// first(r) .. first(r) + count(r) - 1, and the first n % p ranks host one node more.
class Placement {
public:
  /// Throws std::invalid_argument if p < 1 or n < p (every rank must host a node).
  Placement(int nodes, int ranks);

  int nodes() const noexcept { return nodes_; }
  int ranks() const noexcept { return ranks_; }
  /// The rank hosting `node`.
  int owner(int node) const;
  /// The first node id on `rank`.
  int first(int rank) const;
  /// How many nodes `rank` hosts.
  int count(int rank) const;
  /// The position of `node` among its owner's nodes.
  int local_index(int node) const { return node - first(owner(node)); }

private:
  int nodes_;
  int ranks_;
  int base_;   // nodes per rank, rounded down
  int extra_;  // ranks hosting base_ + 1 nodes
};

}  // namespace decent
