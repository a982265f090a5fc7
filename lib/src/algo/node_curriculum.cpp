#include "decent/algo/node_curriculum.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/core/random.hpp"

namespace decent {

std::int64_t curriculum_window(std::int64_t window, Eigen::Index shard_size, Eigen::Index batch) {
  return window > 0 ? window : static_cast<std::int64_t>(shard_size / batch + 1);
}

void check_node_curriculum(const LocalCurriculum& c, std::int64_t window) {
  if (!c.enabled) return;
  check_local_curriculum(c);
  const bool scored = c.order == CurriculumOrder::curr || c.order == CurriculumOrder::anti;
  if (scored && (c.scorer == CurriculumScorer::global || c.scorer == CurriculumScorer::both))
    throw std::invalid_argument("curriculum-score = " + to_string(c.scorer) +
                                ": a decentralized node receives no global model; use local (its own model) or "
                                "expert");
  if (window < 0)
    throw std::invalid_argument("curriculum-window: must be >= 0 (0: one epoch of the node's shard), got " +
                                std::to_string(window));
}

std::string describe_node_curriculum(const LocalCurriculum& c, std::int64_t window) {
  if (!c.enabled) return "none";
  const bool scored = c.order == CurriculumOrder::curr || c.order == CurriculumOrder::anti;
  const std::string by = scored ? " by " + to_string(c.metric) + " (scoring model: " + to_string(c.scorer) + ")"
                                : std::string(c.order == CurriculumOrder::rand ? " at random" : "");
  const std::string every = window > 0 ? std::to_string(window) + " steps" : "n / batch + 1 steps (one epoch)";
  char pace[160];
  std::snprintf(pace, sizeof pace, "; %s pacing from %g of them (at least 32) to all after %g of the window",
                to_string(c.pacing).c_str(), c.b, c.a);
  return to_string(c.order) + ": every node orders its shard" + by + " each window of " + every + pace;
}

NodeCurriculum::NodeCurriculum(const LocalCurriculum& curriculum, std::vector<Eigen::Index> shard,
                               Eigen::Index batch, std::int64_t window, std::uint64_t seed)
    : curriculum_(curriculum), shard_(std::move(shard)), batch_(batch), window_(window), seed_(seed) {
  if (!curriculum_.enabled) throw std::invalid_argument("NodeCurriculum: the curriculum is off (curriculum = none)");
  if (window_ < 1) throw std::invalid_argument("NodeCurriculum: window = " + std::to_string(window_) + " must be >= 1");
  if (batch_ < 1 || batch_ > static_cast<Eigen::Index>(shard_.size()))
    throw std::invalid_argument("NodeCurriculum: batch = " + std::to_string(batch_) + " must be in [1, " +
                                std::to_string(shard_.size()) + "], the node's sample count");
}

std::span<const Eigen::Index> NodeCurriculum::next(const std::function<std::vector<float>()>& scores) {
  if (!sampler_ || sampler_->state().step >= window_) {
    const bool scored = curriculum_.order == CurriculumOrder::curr || curriculum_.order == CurriculumOrder::anti;
    const std::vector<float> values = scored ? scores() : std::vector<float>(shard_.size(), 0.0f);
    sampler_.emplace(local_curriculum_sampler(curriculum_, shard_, values, batch_, window_,
                                              derive_seed(seed_, {windows_})));
    ++windows_;
  }
  return sampler_->next_indices();
}

NodeCurriculumState NodeCurriculum::state() const {
  NodeCurriculumState s;
  s.windows = windows_;
  if (sampler_) {
    s.order.assign(sampler_->order().begin(), sampler_->order().end());
    s.sampler = sampler_->state();
  }
  return s;
}

void NodeCurriculum::restore(const NodeCurriculumState& s) {
  if (s.windows == 0) {
    sampler_.reset();
    windows_ = 0;
    return;
  }
  std::vector<Eigen::Index> sorted = s.order, shard = shard_;
  std::sort(sorted.begin(), sorted.end());
  std::sort(shard.begin(), shard.end());
  if (sorted != shard)
    throw std::invalid_argument("NodeCurriculum::restore: the saved order (" + std::to_string(s.order.size()) +
                                " samples) is not a permutation of the node's shard (" +
                                std::to_string(shard_.size()) + " samples)");
  // The sampler of window windows - 1, as next() built it (local_curriculum_sampler's stream 1 shuffles).
  PacedSampler sampler(s.order, batch_, curriculum_.pacing, curriculum_.a, curriculum_.b, window_,
                       derive_seed(derive_seed(seed_, {s.windows - 1}), {1}));
  sampler.restore(s.sampler);
  sampler_.emplace(std::move(sampler));
  windows_ = s.windows;
}

}  // namespace decent
