#include "decent/gossip/choco.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace decent {
namespace {

constexpr int choco_tag = 0xC40C0;
constexpr std::uint64_t choco_stream = 0x43484F43;  // "CHOC"

}  // namespace

std::vector<std::vector<int>> choco_readers(const Topology& topology) {
  const int n = topology.nodes();
  std::vector<std::vector<int>> readers(static_cast<std::size_t>(n));
  if (topology.period() == 0) {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        if (i != j) readers[static_cast<std::size_t>(j)].push_back(i);
    return readers;
  }
  for (std::int64_t round = 0; round < topology.period(); ++round) {
    const MixingMatrix w = topology.mixing_matrix(round);
    for (int i = 0; i < n; ++i)
      for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), i); it; ++it)
        if (it.col() != i) readers[static_cast<std::size_t>(it.col())].push_back(i);
  }
  for (auto& r : readers) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  return readers;
}

ChocoGossip::ChocoGossip(const Comm& comm, Placement placement, std::size_t dim, std::vector<std::vector<int>> readers,
                         std::unique_ptr<Compressor> compressor, std::uint64_t seed)
    : comm_(comm.dup()), placement_(placement), dim_(dim), padded_((static_cast<Eigen::Index>(dim) + 15) / 16 * 16),
      readers_(std::move(readers)), compressor_(std::move(compressor)), exact_(make_compressor("none")) {
  const int n = placement_.nodes();
  if (placement_.ranks() != comm_.size())
    throw std::invalid_argument("choco: placement is for " + std::to_string(placement_.ranks()) +
                                " ranks but the communicator has " + std::to_string(comm_.size()));
  if (static_cast<int>(readers_.size()) != n)
    throw std::invalid_argument("choco: readers are given for " + std::to_string(readers_.size()) + " nodes, the " +
                                "placement has " + std::to_string(n));
  if (!compressor_) throw std::invalid_argument("choco: no compressor");
  const int me = comm_.rank(), first = placement_.first(me), count = placement_.count(me);
  held_.assign(static_cast<std::size_t>(n), -1);
  int held = 0;
  for (int k = 0; k < count; ++k) held_[static_cast<std::size_t>(first + k)] = held++;
  reads_.assign(static_cast<std::size_t>(count), {});
  give_.assign(static_cast<std::size_t>(comm_.size()), {});
  need_.assign(static_cast<std::size_t>(comm_.size()), {});
  for (int j = 0; j < n; ++j) {
    for (int i : readers_[static_cast<std::size_t>(j)]) {
      if (i < 0 || i >= n || i == j)
        throw std::invalid_argument("choco: reader " + std::to_string(i) + " of node " + std::to_string(j) +
                                    " is not another node in 0.." + std::to_string(n - 1));
      if (placement_.owner(i) == me) reads_[static_cast<std::size_t>(i - first)].push_back(j);
      const int reader_rank = placement_.owner(i), owner = placement_.owner(j);
      if (reader_rank == me && owner != me) {
        auto& list = need_[static_cast<std::size_t>(owner)];
        if (list.empty() || list.back() != j) list.push_back(j);
      } else if (owner == me && reader_rank != me) {
        auto& list = give_[static_cast<std::size_t>(reader_rank)];
        if (list.empty() || list.back() != j) list.push_back(j);
      }
    }
  }
  for (auto& list : need_)
    for (int j : list)
      if (held_[static_cast<std::size_t>(j)] < 0) held_[static_cast<std::size_t>(j)] = held++;
  copies_storage_ = Eigen::MatrixXf::Zero(padded_, held);
  for (int k = 0; k < count; ++k)
    rngs_.emplace_back(derive_seed(seed, {choco_stream, static_cast<std::uint64_t>(first + k)}));
  messages_.resize(static_cast<std::size_t>(count));
  outbox_.resize(give_.size());
  inbox_.resize(need_.size());
  difference_.resize(static_cast<Eigen::Index>(dim_));
  update_.resize(static_cast<Eigen::Index>(dim_));
  sum_.resize(static_cast<Eigen::Index>(dim_));
}

Eigen::Index ChocoGossip::column_of(int node) const {
  const int c = node >= 0 && node < placement_.nodes() ? held_[static_cast<std::size_t>(node)] : -1;
  if (c < 0)
    throw std::out_of_range("choco: rank " + std::to_string(comm_.rank()) + " holds no copy of node " +
                            std::to_string(node));
  return c;
}

Eigen::Ref<const Eigen::VectorXf> ChocoGossip::public_copy(int node) const {
  return copies_storage_.col(column_of(node)).head(static_cast<Eigen::Index>(dim_));
}

std::vector<int> ChocoGossip::held_nodes() const {
  std::vector<int> nodes;
  for (int node = 0; node < placement_.nodes(); ++node)
    if (held_[static_cast<std::size_t>(node)] >= 0) nodes.push_back(node);
  return nodes;
}

void ChocoGossip::set_public_copy(int node, Eigen::Ref<const Eigen::VectorXf> value) {
  if (static_cast<std::size_t>(value.size()) != dim_)
    throw std::invalid_argument("choco: public copy has " + std::to_string(value.size()) + " entries, expected " +
                                std::to_string(dim_));
  copies_storage_.col(column_of(node)).head(static_cast<Eigen::Index>(dim_)) = value;
}

void ChocoGossip::synchronize(Eigen::Ref<const Eigen::VectorXf> merged) {
  if (static_cast<std::size_t>(merged.size()) != dim_)
    throw std::invalid_argument("choco: merged vector has " + std::to_string(merged.size()) + " entries, expected " +
                                std::to_string(dim_));
  copies_storage_.topRows(static_cast<Eigen::Index>(dim_)).colwise() = merged;
}

std::size_t ChocoGossip::message_bytes(bool exact) const {
  return (exact ? *exact_ : *compressor_).message_bytes(static_cast<Eigen::Index>(dim_));
}

std::uint64_t ChocoGossip::round_bytes(bool exact) const {
  std::uint64_t readers = 0;
  for (const auto& r : readers_) readers += r.size();
  return readers * message_bytes(exact);
}

void ChocoGossip::exchange(Compressor& c, Eigen::Ref<Eigen::MatrixXf> x, RoundStats& stats) {
  const int me = comm_.rank(), first = placement_.first(me), count = placement_.count(me);
  const auto d = static_cast<Eigen::Index>(dim_);
  const std::size_t bytes = c.message_bytes(d);
  // Own messages: q_i = C(x_i - xhat_i); xhat_i += q_i exactly as every reader will decode it.
  for (int k = 0; k < count; ++k) {
    auto copy = copies_storage_.col(k).head(d);
    difference_ = x.col(k) - copy;
    c.encode(difference_, rngs_[static_cast<std::size_t>(k)], messages_[static_cast<std::size_t>(k)]);
    c.decode(messages_[static_cast<std::size_t>(k)], update_);
    copy += update_;
  }
  std::vector<Request> receives, sends;
  for (std::size_t q = 0; q < need_.size(); ++q) {
    if (need_[q].empty()) continue;
    inbox_[q].resize(need_[q].size() * bytes);
    receives.push_back(comm_.irecv(std::span<std::uint8_t>(inbox_[q]), static_cast<int>(q), choco_tag));
  }
  for (std::size_t q = 0; q < give_.size(); ++q) {
    if (give_[q].empty()) continue;
    outbox_[q].resize(give_[q].size() * bytes);
    for (std::size_t m = 0; m < give_[q].size(); ++m) {
      const auto& message = messages_[static_cast<std::size_t>(give_[q][m] - first)].bytes;
      std::copy(message.begin(), message.end(), outbox_[q].begin() + static_cast<std::ptrdiff_t>(m * bytes));
    }
    sends.push_back(comm_.isend(std::span<const std::uint8_t>(outbox_[q]), static_cast<int>(q), choco_tag));
    stats.bytes_sent += outbox_[q].size();
    ++stats.messages_sent;
  }
  wait_all(receives);
  for (std::size_t q = 0; q < need_.size(); ++q) {
    for (std::size_t m = 0; m < need_[q].size(); ++m) {
      const auto begin = inbox_[q].begin() + static_cast<std::ptrdiff_t>(m * bytes);
      scratch_.bytes.assign(begin, begin + static_cast<std::ptrdiff_t>(bytes));
      c.decode(scratch_, update_);
      copies_storage_.col(column_of(need_[q][m])).head(d) += update_;
    }
  }
  wait_all(sends);
}

RoundStats ChocoGossip::round(const MixingMatrix& w, Eigen::Ref<Eigen::MatrixXf> x, float gamma, bool exact) {
  const int me = comm_.rank(), first = placement_.first(me), count = placement_.count(me);
  if (static_cast<std::size_t>(x.rows()) != dim_ || x.cols() != count)
    throw std::invalid_argument("choco: parameters are " + std::to_string(x.rows()) + " x " +
                                std::to_string(x.cols()) + ", expected dim x local nodes = " + std::to_string(dim_) +
                                " x " + std::to_string(count));
  if (w.nodes() != placement_.nodes())
    throw std::invalid_argument("choco: mixing matrix has " + std::to_string(w.nodes()) + " nodes, placement has " +
                                std::to_string(placement_.nodes()));
  // Every edge the round uses must be one the copies are kept for (checked before any traffic; by the
  // readers, not by what this rank happens to hold, so that every rank count refuses the same rounds).
  for (int k = 0; k < count; ++k)
    for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), first + k); it; ++it)
      if (it.col() != first + k && !std::binary_search(reads_[static_cast<std::size_t>(k)].begin(),
                                                       reads_[static_cast<std::size_t>(k)].end(), static_cast<int>(it.col())))
        throw std::invalid_argument("choco: round reads node " + std::to_string(it.col()) + " into node " +
                                    std::to_string(first + k) + ", an edge outside the topology given at set-up");
  RoundStats stats;
  exchange(exact ? *exact_ : *compressor_, x, stats);
  const auto d = static_cast<Eigen::Index>(dim_);
  for (int k = 0; k < count; ++k) {
    const auto own = copies_storage_.col(k).head(d);
    sum_.setZero();
    for (MixingMatrix::Sparse::InnerIterator it(w.sparse(), first + k); it; ++it)
      if (it.col() != first + k)
        sum_ += static_cast<float>(it.value()) * (copies_storage_.col(column_of(static_cast<int>(it.col()))).head(d) - own);
    x.col(k) += gamma * sum_;
  }
  return stats;
}

}  // namespace decent
