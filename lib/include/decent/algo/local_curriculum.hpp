#pragma once
/// @file The data curriculum of a client's local update (Vahidian et al., ICCV 2023; docs/curricula.md): score
/// the client's samples under a scoring model, order them, and draw the update's batches from a paced pool.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "decent/data/curriculum.hpp"
#include "decent/data/dataset.hpp"
#include "decent/model/model.hpp"

namespace decent {

/// Which model scores a client's samples at the start of a local update (the reference's lg_scoring).
enum class CurriculumScorer {
  global,  ///< "global": the model the client received (G)
  local,   ///< "local": the client's own model after its previous update; the received one on its first (L)
  both,    ///< "both": the sum of the two scores (LG)
  expert   ///< "expert": a model trained centrally on the whole training set (E; expert.hpp), the same every job
};
/// Parses a scorer name; std::invalid_argument names the value and lists the valid names.
CurriculumScorer parse_curriculum_scorer(std::string_view name);
/// The scorer's config name.
std::string to_string(CurriculumScorer scorer);

/// What a sample's score is.
enum class CurriculumMetric {
  loss,  ///< "loss": its cross-entropy
  error  ///< "error": 1 if the model misclassifies it, else 0 (the reference's *_pred variants)
};
/// Parses a metric name; std::invalid_argument names the value and lists the valid names.
CurriculumMetric parse_curriculum_metric(std::string_view name);
/// The metric's config name.
std::string to_string(CurriculumMetric metric);

/// A local data curriculum: off unless `enabled`.
struct LocalCurriculum {
  bool enabled = false;
  CurriculumOrder order = CurriculumOrder::curr;  ///< curr (easiest first), anti, rand or none (shard order)
  CurriculumScorer scorer = CurriculumScorer::global;
  CurriculumMetric metric = CurriculumMetric::loss;
  Pacing pacing = Pacing::linear;
  double a = 0.8;  ///< the pool is full after a fraction a of the update's local steps
  double b = 0.2;  ///< the first pool is a fraction b of the client's samples (at least 32)
};

/// The curriculum of decent-train's keys (curriculum, curriculum-score, curriculum-metric, pacing, pacing-a,
/// pacing-b): off for order "none". Throws std::invalid_argument for an unknown name.
LocalCurriculum make_local_curriculum(std::string_view order, std::string_view scorer, std::string_view metric,
                                      std::string_view pacing, double a, double b);
/// One line for run headers, e.g. "curr: every job orders the client's samples by loss (scoring model: global); ...".
std::string describe(const LocalCurriculum& curriculum);

/// Throws std::invalid_argument naming the key (pacing-a, pacing-b) if `curriculum` is enabled and unusable.
void check_local_curriculum(const LocalCurriculum& curriculum);

/// The scores of the samples `indices` of classification data `data` under `params`, in that order, computed in
/// chunks of 1024 samples (the same numbers for any rank count). std::invalid_argument for regression data.
std::vector<float> curriculum_scores(const Model& model, const Eigen::Ref<const Eigen::VectorXf>& params,
                                     const Dataset& data, std::span<const Eigen::Index> indices,
                                     CurriculumMetric metric);

/// The sampler of one local update of `steps` batches: the shard `indices` ordered by `scores` (one per index,
/// from curriculum_scores; rand and none ignore them), paced over the update as the reference does (it restarts
/// at every local update) and shuffled from `seed`.
PacedSampler local_curriculum_sampler(const LocalCurriculum& curriculum, std::span<const Eigen::Index> indices,
                                      std::span<const float> scores, Eigen::Index batch, std::int64_t steps,
                                      std::uint64_t seed);

}  // namespace decent
