#pragma once
/// @file One gossip round x_i <- sum_j W_ij x_j over all nodes, and the exact global merge.
#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "decent/core/layout.hpp"
#include "decent/mpi/comm.hpp"
#include "decent/placement/placement.hpp"
#include "decent/topology/mixing_matrix.hpp"

namespace decent {

/// What one rank sent in a gossip round or merge.
struct RoundStats {
  std::uint64_t bytes_sent = 0;  ///< payload bytes this rank sent to other ranks
  int messages_sent = 0;         ///< point-to-point messages this rank sent
};

namespace detail {
struct GossipPlan;  // one mixing pattern's traffic plan (gossip.cpp)
}

/// Mixes the parameters of the nodes placed on this rank with those of their neighbours.
/// The local nodes' parameters are the columns of a dim x count(rank) float matrix, column k being
/// node placement.first(rank) + k. Neighbours on the same rank are read from memory; those on another
/// rank arrive in one aggregated nonblocking message per rank pair. Each node sums its inputs in
/// node-id order, so results are bitwise identical for every rank count (same build).
///
/// The traffic plan of a mixing matrix (who sends which columns to whom, and the MPI datatypes for it)
/// depends only on W's sparsity pattern; the last few patterns' plans are kept, so a static graph, or a
/// time-varying one with a short period, plans once. Mixing writes into x in place, chunk by chunk through
/// a scratch block (4-8 KiB per local node), so a round needs no second copy of the parameters.
class Gossip {
public:
  /// Duplicates `comm` for gossip's own traffic. Collective over `comm`; throws std::invalid_argument
  /// if the placement's rank count differs from comm.size().
  Gossip(const Comm& comm, Placement placement, std::size_t dim);
  ~Gossip();
  Gossip(Gossip&&) noexcept;
  Gossip& operator=(Gossip&&) noexcept;

  const Placement& placement() const noexcept { return placement_; }
  std::size_t dim() const noexcept { return dim_; }
  int rank() const noexcept { return comm_.rank(); }
  /// Number of nodes on this rank (columns of x).
  int local_count() const { return placement_.count(comm_.rank()); }
  /// Id of the first node on this rank.
  int first_node() const { return placement_.first(comm_.rank()); }

  /// One round x_i <- sum_j W_ij x_j for every local node i, in place. Collective: every rank calls it
  /// with the same W. Throws std::invalid_argument if W or x do not match the placement and dim.
  RoundStats round(const MixingMatrix& w, Eigen::Ref<Eigen::MatrixXf> x);

  /// Merge: every local column becomes the exact mean of all n nodes' parameters (accumulated in double,
  /// so results for different rank counts agree to float rounding). Collective. bytes_sent is the volume
  /// of a bandwidth-optimal all-reduce, 2 (p-1)/p * 8 dim bytes (MPI does not report its own).
  RoundStats merge(Eigen::Ref<Eigen::MatrixXf> x);
  /// Merge of some coordinates only: every local column's entries in `ranges` (sorted, disjoint, inside dim, e.g.
  /// block_ranges of a model's head) become the exact mean over all nodes, the others stay as they are. Collective;
  /// throws std::invalid_argument for ranges that are unsorted, overlapping or outside dim. bytes_sent counts the
  /// merged coordinates only.
  RoundStats merge(Eigen::Ref<Eigen::MatrixXf> x, std::span<const IndexRange> ranges);

  /// Traffic plans built so far (a cache miss builds one); for tests and benchmarks.
  std::int64_t plans_built() const noexcept { return plans_built_; }

private:
  void check_shape(Eigen::Index rows, Eigen::Index cols) const;
  /// The cached plan for W's pattern and x's outer stride, built on a miss (most recently used first).
  const detail::GossipPlan& plan_for(const MixingMatrix::Sparse& w, Eigen::Index outer_stride);

  Comm comm_;
  Placement placement_;
  std::size_t dim_;
  std::vector<std::unique_ptr<detail::GossipPlan>> plans_;  // most recently used first
  std::int64_t plans_built_ = 0;
  std::vector<const float*> source_;  // node id -> its parameters this round (local column or inbox)
  Eigen::VectorXf inbox_;             // remote neighbours' parameters, dim floats each; grows only
  Eigen::VectorXf block_;             // mixed values of one chunk of every local row, before they go to x
  // What a bandwidth-optimal all-reduce of `values` doubles sends from one rank.
  RoundStats merge_stats(std::size_t values) const;
  Eigen::VectorXd sum_;               // merge accumulator
};

}  // namespace decent
