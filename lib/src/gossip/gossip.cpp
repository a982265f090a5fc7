#include "decent/gossip/gossip.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace decent {
namespace {

constexpr int gossip_tag = 0x60551;

/// Plans kept: enough for a static graph and for time-varying graphs with a period up to this (the
/// one-peer exponential graph has period log2 n); random graphs miss every round whatever the size.
constexpr std::size_t max_plans = 16;

/// Chunk lengths (floats). A round mixes chunk by chunk: one chunk of every input column and of every
/// output row should stay in cache (L2 if it fits, else the last level) while the chunk is mixed, so an
/// input read by several rows comes from DRAM once; one output chunk (4-8 KiB) stays in L1 while its
/// inputs are added to it. Below 1024 floats the per-chunk loop overhead starts to show.
constexpr std::size_t chunk_cache_bytes = 512 * 1024;
constexpr std::size_t min_chunk = 1024, max_chunk = 2048;

using Sparse = MixingMatrix::Sparse;

void sort_unique(std::vector<int>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// A committed MPI datatype, freed on destruction (unless MPI is already finalized). Move-only.
class OwnedDatatype {
public:
  OwnedDatatype() = default;
  explicit OwnedDatatype(MPI_Datatype type) noexcept : type_(type) {}
  OwnedDatatype(OwnedDatatype&& other) noexcept : type_(std::exchange(other.type_, MPI_DATATYPE_NULL)) {}
  OwnedDatatype& operator=(OwnedDatatype&& other) noexcept {
    std::swap(type_, other.type_);
    return *this;
  }
  OwnedDatatype(const OwnedDatatype&) = delete;
  OwnedDatatype& operator=(const OwnedDatatype&) = delete;
  ~OwnedDatatype() {
    if (type_ == MPI_DATATYPE_NULL) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Type_free(&type_);
  }
  MPI_Datatype get() const noexcept { return type_; }

private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

/// MPI datatype for the local columns `columns` of a column-major matrix with the given outer stride:
/// one message without a packing copy.
OwnedDatatype column_type(const std::vector<int>& columns, std::size_t dim, Eigen::Index outer_stride) {
  std::vector<MPI_Aint> displacements;
  displacements.reserve(columns.size());
  for (int c : columns)
    displacements.push_back(static_cast<MPI_Aint>(c) * outer_stride * static_cast<MPI_Aint>(sizeof(float)));
  MPI_Datatype type;
  DECENT_MPI(MPI_Type_create_hindexed_block, static_cast<int>(columns.size()), static_cast<int>(dim),
             displacements.data(), MPI_FLOAT, &type);
  OwnedDatatype owned(type);  // freed if the commit throws
  DECENT_MPI(MPI_Type_commit, &type);
  return owned;
}

}  // namespace

/// Everything a round does that depends only on W's sparsity pattern (and x's outer stride), not on
/// its weights: derived once per pattern and reused while the pattern repeats.
struct detail::GossipPlan {
  // The key: W's pattern, row by row (row i's columns are cols[row_start[i] .. row_start[i+1])).
  std::vector<int> row_start;
  std::vector<int> cols;
  Eigen::Index outer_stride = 0;

  /// Remote nodes this rank's rows read, received from rank `rank` into inbox columns first_slot ...
  struct Receive {
    int rank;
    std::vector<int> nodes;  // ascending
    std::size_t first_slot;
  };
  /// This rank's nodes (local column indices) that rank `rank`'s rows read.
  struct Send {
    int rank;
    std::vector<int> columns;  // ascending local column indices
    bool contiguous;           // the columns form one contiguous block of x: a plain buffer
    OwnedDatatype type;        // otherwise, a datatype picking the columns out of x
  };
  std::vector<Receive> receives;
  std::vector<Send> sends;
  std::size_t received = 0;  // inbox columns
  RoundStats stats;
  std::size_t chunk = max_chunk;  // mixing chunk length, floats

  /// True if W has exactly this plan's pattern and x this stride.
  bool matches(const Sparse& w, Eigen::Index stride) const {
    if (stride != outer_stride || w.outerSize() + 1 != static_cast<Eigen::Index>(row_start.size())) return false;
    if (w.isCompressed())  // the usual case: W's own index arrays are the key's layout
      return w.nonZeros() == static_cast<Eigen::Index>(cols.size()) &&
             std::memcmp(w.outerIndexPtr(), row_start.data(), row_start.size() * sizeof(int)) == 0 &&
             std::memcmp(w.innerIndexPtr(), cols.data(), cols.size() * sizeof(int)) == 0;
    for (Eigen::Index i = 0; i < w.outerSize(); ++i) {
      int at = row_start[static_cast<std::size_t>(i)];
      const int end = row_start[static_cast<std::size_t>(i) + 1];
      for (Sparse::InnerIterator it(w, i); it; ++it, ++at)
        if (at == end || cols[static_cast<std::size_t>(at)] != it.col()) return false;
      if (at != end) return false;
    }
    return true;
  }
};

Gossip::Gossip(const Comm& comm, Placement placement, std::size_t dim)
    : comm_(comm.dup()), placement_(placement), dim_(dim) {
  if (placement_.ranks() != comm_.size())
    throw std::invalid_argument("gossip: placement is for " + std::to_string(placement_.ranks()) +
                                " ranks but the communicator has " + std::to_string(comm_.size()));
  if (dim_ > static_cast<std::size_t>(INT_MAX))
    throw std::invalid_argument("gossip: dimension " + std::to_string(dim_) + " exceeds MPI's int count limit");
}

Gossip::~Gossip() = default;
Gossip::Gossip(Gossip&&) noexcept = default;
Gossip& Gossip::operator=(Gossip&&) noexcept = default;

void Gossip::check_shape(Eigen::Index rows, Eigen::Index cols) const {
  if (static_cast<std::size_t>(rows) != dim_ || cols != local_count())
    throw std::invalid_argument("gossip: parameters are " + std::to_string(rows) + " x " + std::to_string(cols) +
                                ", expected dim x local nodes = " + std::to_string(dim_) + " x " +
                                std::to_string(local_count()));
}

const detail::GossipPlan& Gossip::plan_for(const Sparse& w, Eigen::Index outer_stride) {
  for (std::size_t k = 0; k < plans_.size(); ++k) {
    if (plans_[k]->matches(w, outer_stride)) {
      std::rotate(plans_.begin(), plans_.begin() + static_cast<std::ptrdiff_t>(k),
                  plans_.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      return *plans_.front();
    }
  }
  auto plan = std::make_unique<detail::GossipPlan>();
  const int n = placement_.nodes();
  const int me = comm_.rank();
  const int p = comm_.size();
  const int first = first_node();
  plan->outer_stride = outer_stride;
  plan->row_start.reserve(static_cast<std::size_t>(n) + 1);
  plan->cols.reserve(static_cast<std::size_t>(w.nonZeros()));

  // Every rank knows all of W, so each side derives the same traffic plan without asking:
  // need[q] = nodes of rank q that my rows read; give[q] = my nodes that rank q's rows read.
  std::vector<std::vector<int>> need(static_cast<std::size_t>(p)), give(static_cast<std::size_t>(p));
  for (int i = 0; i < n; ++i) {
    plan->row_start.push_back(static_cast<int>(plan->cols.size()));
    const int row_owner = placement_.owner(i);
    for (Sparse::InnerIterator it(w, i); it; ++it) {
      const int j = static_cast<int>(it.col());
      plan->cols.push_back(j);
      const int col_owner = placement_.owner(j);
      if (row_owner == me && col_owner != me)
        need[static_cast<std::size_t>(col_owner)].push_back(j);
      else if (row_owner != me && col_owner == me)
        give[static_cast<std::size_t>(row_owner)].push_back(j);
    }
  }
  plan->row_start.push_back(static_cast<int>(plan->cols.size()));

  for (int q = 0; q < p; ++q) {
    auto& nodes = need[static_cast<std::size_t>(q)];
    if (nodes.empty()) continue;
    sort_unique(nodes);
    plan->receives.push_back({q, std::move(nodes), plan->received});
    plan->received += plan->receives.back().nodes.size();
  }
  for (int q = 0; q < p; ++q) {
    auto& nodes = give[static_cast<std::size_t>(q)];
    if (nodes.empty()) continue;
    sort_unique(nodes);
    std::vector<int> columns(nodes.size());
    for (std::size_t k = 0; k < nodes.size(); ++k) columns[k] = nodes[k] - first;
    const bool contiguous = columns.back() - columns.front() + 1 == static_cast<int>(columns.size()) &&
                            (columns.size() == 1 || static_cast<std::size_t>(outer_stride) == dim_);
    OwnedDatatype type = contiguous ? OwnedDatatype() : column_type(columns, dim_, outer_stride);
    plan->stats.bytes_sent += nodes.size() * dim_ * sizeof(float);
    ++plan->stats.messages_sent;
    plan->sends.push_back({q, std::move(columns), contiguous, std::move(type)});
  }

  const std::size_t columns_in_cache = 2 * static_cast<std::size_t>(local_count()) + plan->received;
  const std::size_t fit = chunk_cache_bytes / sizeof(float) / columns_in_cache / 16 * 16;  // whole cache lines
  plan->chunk = std::clamp(fit, min_chunk, max_chunk);

  ++plans_built_;
  plans_.insert(plans_.begin(), std::move(plan));
  if (plans_.size() > max_plans) plans_.pop_back();
  return *plans_.front();
}

RoundStats Gossip::round(const MixingMatrix& w, Eigen::Ref<Eigen::MatrixXf> x) {
  check_shape(x.rows(), x.cols());
  const int n = placement_.nodes();
  if (w.nodes() != n)
    throw std::invalid_argument("gossip: mixing matrix has " + std::to_string(w.nodes()) + " nodes, placement has " +
                                std::to_string(n));
  const Sparse& sw = w.sparse();
  const int first = first_node();
  const int count = local_count();
  const detail::GossipPlan& plan = plan_for(sw, x.outerStride());

  source_.resize(static_cast<std::size_t>(n));
  for (int k = 0; k < count; ++k) source_[static_cast<std::size_t>(first + k)] = x.col(k).data();
  if (static_cast<std::size_t>(inbox_.size()) < plan.received * dim_)
    inbox_.resize(static_cast<Eigen::Index>(plan.received * dim_));

  std::vector<Request> receives, sends;
  receives.reserve(plan.receives.size());
  sends.reserve(plan.sends.size());
  for (const auto& r : plan.receives) {
    float* slot = inbox_.data() + r.first_slot * dim_;
    for (std::size_t k = 0; k < r.nodes.size(); ++k) source_[static_cast<std::size_t>(r.nodes[k])] = slot + k * dim_;
    receives.push_back(comm_.irecv(std::span<float>(slot, r.nodes.size() * dim_), r.rank, gossip_tag));
  }
  for (const auto& s : plan.sends) {
    if (s.contiguous)
      sends.push_back(comm_.isend(std::span<const float>(x.col(s.columns.front()).data(), s.columns.size() * dim_),
                                  s.rank, gossip_tag));
    else
      sends.push_back(comm_.isend(x.data(), s.type.get(), s.rank, gossip_tag));
  }
  // Mixing overwrites x, which the sends read: everything must have arrived and left first. (On shared
  // memory the receiver copies inside its own MPI calls, so mixing local rows earlier would not hide that
  // copy; it would only need a second full copy of the parameters to write into.)
  wait_all(receives);
  wait_all(sends);

  // Chunk by chunk: every local row's chunk goes to block_, then back into x. Row i's output chunk reads
  // only the same chunk of its inputs, so writing it back after all rows have read that chunk is exact.
  // Each entry is computed as y = w_0 x_0, then y += w_j x_j over the row's entries in increasing j, the
  // same expression whatever the chunk boundaries and rank count, so results are bitwise reproducible.
  const std::size_t chunk = plan.chunk;
  if (static_cast<std::size_t>(block_.size()) < static_cast<std::size_t>(count) * chunk)
    block_.resize(static_cast<Eigen::Index>(static_cast<std::size_t>(count) * chunk));
  for (std::size_t start = 0; start < dim_; start += chunk) {
    const auto len = static_cast<Eigen::Index>(std::min(chunk, dim_ - start));
    for (int k = 0; k < count; ++k) {
      Eigen::Map<Eigen::VectorXf> out(block_.data() + static_cast<std::size_t>(k) * chunk, len);
      Sparse::InnerIterator it(sw, first + k);
      out = static_cast<float>(it.value()) *
            Eigen::Map<const Eigen::VectorXf>(source_[static_cast<std::size_t>(it.col())] + start, len);
      for (++it; it; ++it)
        out += static_cast<float>(it.value()) *
               Eigen::Map<const Eigen::VectorXf>(source_[static_cast<std::size_t>(it.col())] + start, len);
    }
    for (int k = 0; k < count; ++k)
      std::memcpy(x.col(k).data() + start, block_.data() + static_cast<std::size_t>(k) * chunk,
                  static_cast<std::size_t>(len) * sizeof(float));
  }
  return plan.stats;
}

RoundStats Gossip::merge(Eigen::Ref<Eigen::MatrixXf> x) {
  check_shape(x.rows(), x.cols());
  sum_.setZero(static_cast<Eigen::Index>(dim_));
  for (Eigen::Index k = 0; k < x.cols(); ++k) sum_ += x.col(k).cast<double>();
  comm_.allreduce(std::span<double>(sum_.data(), dim_), ReduceOp::sum);
  const Eigen::VectorXf mean = (sum_ / static_cast<double>(placement_.nodes())).cast<float>();
  x.colwise() = mean;
  return merge_stats(dim_);
}

RoundStats Gossip::merge(Eigen::Ref<Eigen::MatrixXf> x, std::span<const IndexRange> ranges) {
  check_shape(x.rows(), x.cols());
  Eigen::Index total = 0, end = 0;
  for (const IndexRange& r : ranges) {
    if (r.offset < end || r.length < 0 || r.offset + r.length > static_cast<Eigen::Index>(dim_))
      throw std::invalid_argument("Gossip::merge: range (offset " + std::to_string(r.offset) + ", length " +
                                  std::to_string(r.length) + ") is unsorted, overlaps or leaves the " +
                                  std::to_string(dim_) + " coordinates");
    end = r.offset + r.length;
    total += r.length;
  }
  // The selected coordinates, packed, summed over the local nodes in double, then over the ranks.
  sum_.setZero(total);
  for (Eigen::Index k = 0; k < x.cols(); ++k) {
    Eigen::Index at = 0;
    for (const IndexRange& r : ranges) {
      sum_.segment(at, r.length) += x.col(k).segment(r.offset, r.length).cast<double>();
      at += r.length;
    }
  }
  comm_.allreduce(std::span<double>(sum_.data(), static_cast<std::size_t>(total)), ReduceOp::sum);
  const Eigen::VectorXf mean = (sum_ / static_cast<double>(placement_.nodes())).cast<float>();
  for (Eigen::Index k = 0; k < x.cols(); ++k) {
    Eigen::Index at = 0;
    for (const IndexRange& r : ranges) {
      x.col(k).segment(r.offset, r.length) = mean.segment(at, r.length);
      at += r.length;
    }
  }
  return merge_stats(static_cast<std::size_t>(total));
}

RoundStats Gossip::merge_stats(std::size_t values) const {
  RoundStats stats;
  const int p = comm_.size();
  if (p > 1) {
    stats.bytes_sent = static_cast<std::uint64_t>(2.0 * (p - 1) / p * 8.0 * static_cast<double>(values));
    stats.messages_sent = 2 * (p - 1);
  }
  return stats;
}

}  // namespace decent
