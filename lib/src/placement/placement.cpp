#include "decent/placement/placement.hpp"

#include <stdexcept>
#include <string>

namespace decent {

Placement::Placement(int nodes, int ranks) : nodes_(nodes), ranks_(ranks) {
  if (ranks < 1) throw std::invalid_argument("placement needs at least 1 rank, got " + std::to_string(ranks));
  if (nodes < ranks)
    throw std::invalid_argument(std::to_string(nodes) + " nodes cannot be placed on " + std::to_string(ranks) +
                                " ranks: every rank must host at least one node (use nodes >= ranks)");
  base_ = nodes / ranks;
  extra_ = nodes % ranks;
}

int Placement::owner(int node) const {
  if (node < 0 || node >= nodes_)
    throw std::out_of_range("placement: node " + std::to_string(node) + " outside 0.." + std::to_string(nodes_ - 1));
  const int big = extra_ * (base_ + 1);  // nodes on the ranks hosting one more
  return node < big ? node / (base_ + 1) : extra_ + (node - big) / base_;
}

int Placement::first(int rank) const {
  if (rank < 0 || rank >= ranks_)
    throw std::out_of_range("placement: rank " + std::to_string(rank) + " outside 0.." + std::to_string(ranks_ - 1));
  return rank * base_ + (rank < extra_ ? rank : extra_);
}

int Placement::count(int rank) const {
  if (rank < 0 || rank >= ranks_)
    throw std::out_of_range("placement: rank " + std::to_string(rank) + " outside 0.." + std::to_string(ranks_ - 1));
  return base_ + (rank < extra_ ? 1 : 0);
}

}  // namespace decent
