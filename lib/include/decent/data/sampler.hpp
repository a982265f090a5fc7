#pragma once
/// @file Seeded mini-batch sampling over one node's sample indices.
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"
#include "decent/model/batch.hpp"

namespace decent {

/// How a Sampler walks its indices.
enum class SamplingMode {
  /// Epoch e visits the indices in a fresh permutation drawn from derive_seed(seed, {e}); batches are
  /// taken in order from the concatenation of the epochs, so a batch that does not fit in the rest of an
  /// epoch is completed from the start of the next one (no sample is skipped or dropped, every epoch
  /// visits every index exactly once, and only such a straddling batch can hold an index twice).
  shuffled_epochs,
  /// Batch k holds `batch` indices drawn uniformly with replacement from the stream derive_seed(seed, {k}).
  with_replacement,
};

/// Everything that changes while a Sampler runs: the number of batches drawn so far. Together with
/// the constructor arguments it determines every future batch, so it is all a checkpoint has to store.
struct SamplerState {
  std::uint64_t batches = 0;  ///< batches drawn since construction
  friend bool operator==(const SamplerState&, const SamplerState&) = default;
};

/// Fills `out` with the samples `indices` of `data`: out.x (dim x indices.size()) holds their columns, and
/// out.labels (classification) or out.targets (regression) their labels or targets; the other one is left
/// empty. Reuses out's storage. Throws std::out_of_range (out unchanged) naming an index outside [0, data.size()).
void gather_batch(const Dataset& data, std::span<const Eigen::Index> indices, Batch& out);

/// A node's mini-batch sampler over its sample indices (for example one part of a Partition).
class Sampler {
public:
  /// Throws std::invalid_argument if an index is negative, or unless 1 <= batch <= indices.size()
  /// (the message names both numbers).
  Sampler(std::vector<Eigen::Index> indices, Eigen::Index batch, SamplingMode mode, std::uint64_t seed);

  /// The indices of the next batch (valid until the next call), and advances the state.
  std::span<const Eigen::Index> next_indices();
  /// Fills `out` with the next batch of `data`: out.x (dim x batch) holds the samples' columns, and
  /// out.labels (classification) or out.targets (regression) their labels or targets; the other one is
  /// left empty. Reuses out's storage: no allocation once out has the right shape.
  /// Throws std::out_of_range (and leaves the state unchanged) if an index of the batch is not in
  /// [0, data.size()).
  void next(const Dataset& data, Batch& out);

  /// The state to save in a checkpoint.
  SamplerState state() const noexcept { return {batches_}; }
  /// Continues from a saved state: the following batches are those a sampler constructed with the same
  /// arguments would give after state.batches batches.
  void restore(const SamplerState& state);

  /// The epoch the next batch starts in (shuffled_epochs; with_replacement counts sample draws the same way).
  std::uint64_t epoch() const noexcept { return position() / indices_.size(); }
  /// The position inside that epoch where the next batch starts.
  std::uint64_t offset() const noexcept { return position() % indices_.size(); }
  /// Samples drawn so far (batches * batch).
  std::uint64_t position() const noexcept { return batches_ * static_cast<std::uint64_t>(batch_); }

  /// Samples per batch.
  Eigen::Index batch() const noexcept { return batch_; }
  /// How the indices are walked.
  SamplingMode mode() const noexcept { return mode_; }
  /// The seed given to the constructor (for example derive_seed(run_seed, {node_id})).
  std::uint64_t seed() const noexcept { return seed_; }
  /// The node's indices, in the order given to the constructor.
  std::span<const Eigen::Index> indices() const noexcept { return indices_; }

private:
  void shuffle_epoch(std::uint64_t epoch);

  std::vector<Eigen::Index> indices_;
  Eigen::Index batch_;
  SamplingMode mode_;
  std::uint64_t seed_;
  std::uint64_t batches_ = 0;
  std::vector<Eigen::Index> order_;       // shuffled_epochs: the permutation of epoch order_epoch_
  std::uint64_t order_epoch_ = 0;
  std::vector<Eigen::Index> current_;     // the last batch's indices
};

}  // namespace decent
