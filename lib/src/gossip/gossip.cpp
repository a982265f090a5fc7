#include "decent/gossip/gossip.hpp"

#include <algorithm>
#include <climits>
#include <span>
#include <stdexcept>
#include <string>

namespace decent {
namespace {

constexpr int gossip_tag = 0x60551;

/// Output chunk length: an 8 KiB slice of y stays in L1 while every neighbour's slice is added to it.
constexpr std::size_t chunk = 2048;

using Sparse = MixingMatrix::Sparse;

/// y = sum_j W_ij x_j over row i's entries in increasing j, where x_j starts at source[j].
void mix_row(const Sparse& w, int i, const std::vector<const float*>& source, float* y, std::size_t dim) {
  for (std::size_t start = 0; start < dim; start += chunk) {
    const auto len = static_cast<Eigen::Index>(std::min(chunk, dim - start));
    Eigen::Map<Eigen::VectorXf> out(y + start, len);
    Sparse::InnerIterator it(w, i);
    out = static_cast<float>(it.value()) * Eigen::Map<const Eigen::VectorXf>(source[it.col()] + start, len);
    for (++it; it; ++it)
      out += static_cast<float>(it.value()) * Eigen::Map<const Eigen::VectorXf>(source[it.col()] + start, len);
  }
}

void sort_unique(std::vector<int>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// MPI datatype for the columns `nodes` (local indices `columns`) of a column-major matrix: one message
/// without a packing copy. Caller frees it.
MPI_Datatype column_type(const std::vector<int>& columns, std::size_t dim, Eigen::Index outer_stride) {
  std::vector<MPI_Aint> displacements;
  displacements.reserve(columns.size());
  for (int c : columns)
    displacements.push_back(static_cast<MPI_Aint>(c) * outer_stride * static_cast<MPI_Aint>(sizeof(float)));
  MPI_Datatype type;
  DECENT_MPI(MPI_Type_create_hindexed_block, static_cast<int>(columns.size()), static_cast<int>(dim),
             displacements.data(), MPI_FLOAT, &type);
  DECENT_MPI(MPI_Type_commit, &type);
  return type;
}

}  // namespace

Gossip::Gossip(const Comm& comm, Placement placement, std::size_t dim)
    : comm_(comm.dup()), placement_(placement), dim_(dim) {
  if (placement_.ranks() != comm_.size())
    throw std::invalid_argument("gossip: placement is for " + std::to_string(placement_.ranks()) +
                                " ranks but the communicator has " + std::to_string(comm_.size()));
  if (dim_ > static_cast<std::size_t>(INT_MAX))
    throw std::invalid_argument("gossip: dimension " + std::to_string(dim_) + " exceeds MPI's int count limit");
}

void Gossip::check_shape(Eigen::Index rows, Eigen::Index cols) const {
  if (static_cast<std::size_t>(rows) != dim_ || cols != local_count())
    throw std::invalid_argument("gossip: parameters are " + std::to_string(rows) + " x " + std::to_string(cols) +
                                ", expected dim x local nodes = " + std::to_string(dim_) + " x " +
                                std::to_string(local_count()));
}

RoundStats Gossip::round(const MixingMatrix& w, Eigen::Ref<Eigen::MatrixXf> x) {
  check_shape(x.rows(), x.cols());
  const int n = placement_.nodes();
  if (w.nodes() != n)
    throw std::invalid_argument("gossip: mixing matrix has " + std::to_string(w.nodes()) + " nodes, placement has " +
                                std::to_string(n));
  const Sparse& sw = w.sparse();
  const int me = comm_.rank();
  const int p = comm_.size();
  const int first = first_node();
  const int count = local_count();

  // Every rank knows all of W, so each side derives the same traffic plan without asking:
  // need[q] = nodes of rank q that my rows read; give[q] = my nodes that rank q's rows read.
  std::vector<std::vector<int>> need(static_cast<std::size_t>(p)), give(static_cast<std::size_t>(p));
  std::vector<char> row_is_local_only(static_cast<std::size_t>(count), 1);
  for (int i = 0; i < n; ++i) {
    const int row_owner = placement_.owner(i);
    for (Sparse::InnerIterator it(sw, i); it; ++it) {
      const int j = static_cast<int>(it.col());
      const int col_owner = placement_.owner(j);
      if (row_owner == me && col_owner != me) {
        need[static_cast<std::size_t>(col_owner)].push_back(j);
        row_is_local_only[static_cast<std::size_t>(i - first)] = 0;
      } else if (row_owner != me && col_owner == me) {
        give[static_cast<std::size_t>(row_owner)].push_back(j);
      }
    }
  }

  std::vector<const float*> source(static_cast<std::size_t>(n), nullptr);
  for (int k = 0; k < count; ++k) source[static_cast<std::size_t>(first + k)] = x.col(k).data();

  std::size_t received = 0;
  for (auto& nodes : need) {
    sort_unique(nodes);
    received += nodes.size();
  }
  if (static_cast<std::size_t>(inbox_.cols()) != received || static_cast<std::size_t>(inbox_.rows()) != dim_)
    inbox_.resize(static_cast<Eigen::Index>(dim_), static_cast<Eigen::Index>(received));
  if (static_cast<std::size_t>(mixed_.cols()) != static_cast<std::size_t>(count) ||
      static_cast<std::size_t>(mixed_.rows()) != dim_)
    mixed_.resize(static_cast<Eigen::Index>(dim_), count);

  std::vector<Request> receives, sends;
  Eigen::Index slot = 0;
  for (int q = 0; q < p; ++q) {
    const auto& nodes = need[static_cast<std::size_t>(q)];
    if (nodes.empty()) continue;
    for (std::size_t k = 0; k < nodes.size(); ++k)
      source[static_cast<std::size_t>(nodes[k])] = inbox_.col(slot + static_cast<Eigen::Index>(k)).data();
    receives.push_back(comm_.irecv(std::span<float>(inbox_.col(slot).data(), nodes.size() * dim_), q, gossip_tag));
    slot += static_cast<Eigen::Index>(nodes.size());
  }

  RoundStats stats;
  for (int q = 0; q < p; ++q) {
    auto& nodes = give[static_cast<std::size_t>(q)];
    if (nodes.empty()) continue;
    sort_unique(nodes);
    std::vector<int> columns(nodes.size());
    for (std::size_t k = 0; k < nodes.size(); ++k) columns[k] = nodes[k] - first;
    const bool contiguous = columns.back() - columns.front() + 1 == static_cast<int>(columns.size()) &&
                            (columns.size() == 1 || static_cast<std::size_t>(x.outerStride()) == dim_);
    if (contiguous) {
      sends.push_back(comm_.isend(std::span<const float>(x.col(columns.front()).data(), nodes.size() * dim_), q,
                                  gossip_tag));
    } else {
      MPI_Datatype type = column_type(columns, dim_, x.outerStride());
      sends.push_back(comm_.isend(x.data(), type, q, gossip_tag));
      MPI_Type_free(&type);  // freeing a datatype in use by a pending send is allowed
    }
    stats.bytes_sent += nodes.size() * dim_ * sizeof(float);
    ++stats.messages_sent;
  }

  // Rows that read only local nodes run while messages travel; the rest wait for their inputs.
  for (int k = 0; k < count; ++k)
    if (row_is_local_only[static_cast<std::size_t>(k)]) mix_row(sw, first + k, source, mixed_.col(k).data(), dim_);
  wait_all(receives);
  for (int k = 0; k < count; ++k)
    if (!row_is_local_only[static_cast<std::size_t>(k)]) mix_row(sw, first + k, source, mixed_.col(k).data(), dim_);
  wait_all(sends);  // x is read by the sends until here
  x = mixed_;
  return stats;
}

RoundStats Gossip::merge(Eigen::Ref<Eigen::MatrixXf> x) {
  check_shape(x.rows(), x.cols());
  sum_.setZero(static_cast<Eigen::Index>(dim_));
  for (Eigen::Index k = 0; k < x.cols(); ++k) sum_ += x.col(k).cast<double>();
  comm_.allreduce(std::span<double>(sum_.data(), dim_), ReduceOp::sum);
  const Eigen::VectorXf mean = (sum_ / static_cast<double>(placement_.nodes())).cast<float>();
  x.colwise() = mean;
  RoundStats stats;
  const int p = comm_.size();
  if (p > 1) {
    stats.bytes_sent = static_cast<std::uint64_t>(2.0 * (p - 1) / p * 8.0 * static_cast<double>(dim_));
    stats.messages_sent = 2 * (p - 1);
  }
  return stats;
}

}  // namespace decent
