#include "decent/data/sampler.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/core/random.hpp"

namespace decent {

Sampler::Sampler(std::vector<Eigen::Index> indices, Eigen::Index batch, SamplingMode mode, std::uint64_t seed)
    : indices_(std::move(indices)), batch_(batch), mode_(mode), seed_(seed) {
  const auto size = static_cast<Eigen::Index>(indices_.size());
  if (batch_ < 1 || batch_ > size)
    throw std::invalid_argument("Sampler: batch = " + std::to_string(batch_) + " must be in [1, " +
                                std::to_string(size) + "], the node's shard size " + std::to_string(size));
  for (std::size_t k = 0; k < indices_.size(); ++k)
    if (indices_[k] < 0)
      throw std::invalid_argument("Sampler: indices[" + std::to_string(k) + "] = " + std::to_string(indices_[k]) +
                                  " must be >= 0");
  current_.resize(static_cast<std::size_t>(batch_));
  if (mode_ == SamplingMode::shuffled_epochs) {
    order_.resize(indices_.size());
    shuffle_epoch(0);
  }
}

void Sampler::shuffle_epoch(std::uint64_t epoch) {
  // Each epoch's permutation starts from the original order, so it depends on the epoch number only:
  // restoring a state needs no history.
  std::copy(indices_.begin(), indices_.end(), order_.begin());
  Rng rng(derive_seed(seed_, {epoch}));
  for (std::size_t k = order_.size(); k > 1; --k) std::swap(order_[k - 1], order_[rng.below(k)]);
  order_epoch_ = epoch;
}

std::span<const Eigen::Index> Sampler::next_indices() {
  if (mode_ == SamplingMode::with_replacement) {
    Rng rng(derive_seed(seed_, {batches_}));
    for (auto& index : current_) index = indices_[rng.below(indices_.size())];
  } else {
    const std::uint64_t size = indices_.size();
    std::uint64_t epoch = position() / size;
    std::uint64_t at = position() % size;
    for (auto& index : current_) {
      if (epoch != order_epoch_) shuffle_epoch(epoch);
      index = order_[at];
      if (++at == size) {
        at = 0;
        ++epoch;
      }
    }
  }
  ++batches_;
  return current_;
}

void gather_batch(const Dataset& data, std::span<const Eigen::Index> indices, Batch& out) {
  const Eigen::Index n = data.size();
  for (const Eigen::Index index : indices)
    if (index < 0 || index >= n)
      throw std::out_of_range("sample index " + std::to_string(index) + " is outside data set '" + data.name +
                              "' of " + std::to_string(n) + " samples");
  const auto count = static_cast<Eigen::Index>(indices.size());
  // resize() keeps the storage when the shape is unchanged, so steady-state calls do not allocate.
  out.x.resize(data.dim(), count);
  for (Eigen::Index j = 0; j < count; ++j) out.x.col(j) = data.features.col(indices[static_cast<std::size_t>(j)]);
  if (data.classification()) {
    out.labels.resize(indices.size());
    for (std::size_t j = 0; j < indices.size(); ++j) out.labels[j] = data.labels[static_cast<std::size_t>(indices[j])];
    out.targets.resize(0);
  } else {
    out.labels.clear();
    out.targets.resize(count);
    for (Eigen::Index j = 0; j < count; ++j) out.targets(j) = data.targets(indices[static_cast<std::size_t>(j)]);
  }
}

void Sampler::next(const Dataset& data, Batch& out) {
  const std::span<const Eigen::Index> batch = next_indices();
  try {
    gather_batch(data, batch, out);
  } catch (const std::out_of_range& e) {
    --batches_;  // a failed call does not consume the batch
    throw std::out_of_range(std::string("Sampler::next: ") + e.what());
  }
}

void Sampler::restore(const SamplerState& state) {
  batches_ = state.batches;
  // The permutation is recomputed lazily by next_indices() when the epoch differs.
}

}  // namespace decent
