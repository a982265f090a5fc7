#pragma once
/// @file A node's own data curriculum in a decentralized run (docs/curricula.md): every window of local steps the
/// node orders its shard by scores under its own model (or the expert) and paces that window's batches.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "decent/algo/local_curriculum.hpp"
#include "decent/data/curriculum.hpp"

namespace decent {

/// The window of `window` steps that a node of `shard_size` samples uses: `window` itself if > 0, else the
/// reference's pacing horizon of one local epoch, shard_size / batch + 1 (integer division).
std::int64_t curriculum_window(std::int64_t window, Eigen::Index shard_size, Eigen::Index batch);

/// Throws std::invalid_argument naming the key unless `curriculum` suits a decentralized node: a node has no
/// received model, so curriculum-score must be local or expert; curriculum-window must be >= 0.
void check_node_curriculum(const LocalCurriculum& curriculum, std::int64_t window);

/// One line for run headers, e.g. "curr: every node orders its shard by loss (scoring model: local) every
/// window of n / batch + 1 steps; linear pacing ...".
std::string describe_node_curriculum(const LocalCurriculum& curriculum, std::int64_t window);

/// Where a NodeCurriculum stands: with its constructor arguments, everything that decides its future batches.
struct NodeCurriculumState {
  std::uint64_t windows = 0;          ///< windows begun so far (0: none, `order` and `sampler` are unused)
  std::vector<Eigen::Index> order;    ///< the current window's shard, easiest first
  PacedSamplerState sampler;          ///< the current window's paced sampler
};

/// One node's curriculum: window w (0, 1, ...) orders the shard by the scores given when it begins and draws
/// its `window` batches from a PacedSampler paced over the window (local_curriculum_sampler with seed
/// derive_seed(seed, {w})), as a federated client's curriculum restarts at every local update.
class NodeCurriculum {
public:
  /// Throws std::invalid_argument if `curriculum` is off, `window` < 1 or batch is not in [1, shard size].
  NodeCurriculum(const LocalCurriculum& curriculum, std::vector<Eigen::Index> shard, Eigen::Index batch,
                 std::int64_t window, std::uint64_t seed);

  /// The indices of the next batch. When it begins a window, `scores()` is called first (only for curr and
  /// anti, which read scores) and must return one score per shard sample, in shard order.
  std::span<const Eigen::Index> next(const std::function<std::vector<float>()>& scores);

  /// The node's samples, as given.
  std::span<const Eigen::Index> shard() const noexcept { return shard_; }
  /// Steps per window.
  std::int64_t window() const noexcept { return window_; }
  /// The state to save in a checkpoint.
  NodeCurriculumState state() const;
  /// Continues from a saved state; std::invalid_argument (state unchanged) if its order is not a permutation
  /// of the shard or its sampler state does not fit.
  void restore(const NodeCurriculumState& state);

private:
  LocalCurriculum curriculum_;
  std::vector<Eigen::Index> shard_;
  Eigen::Index batch_;
  std::int64_t window_;
  std::uint64_t seed_;
  std::uint64_t windows_ = 0;
  std::optional<PacedSampler> sampler_;
};

}  // namespace decent
