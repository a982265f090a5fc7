#include "decent/algo/local_curriculum.hpp"
#include "core/number_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/core/random.hpp"
#include "decent/data/sampler.hpp"
#include "decent/model/batch.hpp"

namespace decent {

using detail::number_text;

CurriculumScorer parse_curriculum_scorer(std::string_view name) {
  if (name == "global") return CurriculumScorer::global;
  if (name == "local") return CurriculumScorer::local;
  if (name == "both") return CurriculumScorer::both;
  if (name == "expert") return CurriculumScorer::expert;
  throw std::invalid_argument("unknown curriculum scorer '" + std::string(name) +
                              "' (valid: global, local, both, expert)");
}

std::string to_string(CurriculumScorer scorer) {
  switch (scorer) {
    case CurriculumScorer::global: return "global";
    case CurriculumScorer::local: return "local";
    case CurriculumScorer::both: return "both";
    case CurriculumScorer::expert: return "expert";
  }
  return "?";
}

CurriculumMetric parse_curriculum_metric(std::string_view name) {
  if (name == "loss") return CurriculumMetric::loss;
  if (name == "error") return CurriculumMetric::error;
  throw std::invalid_argument("unknown curriculum metric '" + std::string(name) + "' (valid: loss, error)");
}

std::string to_string(CurriculumMetric metric) { return metric == CurriculumMetric::loss ? "loss" : "error"; }

LocalCurriculum make_local_curriculum(std::string_view order, std::string_view scorer, std::string_view metric,
                                      std::string_view pacing, double a, double b) {
  LocalCurriculum c;
  c.enabled = order != "none";
  if (!c.enabled) return c;
  c.order = parse_curriculum_order(order);
  c.scorer = parse_curriculum_scorer(scorer);
  c.metric = parse_curriculum_metric(metric);
  c.pacing = parse_pacing(pacing);
  c.a = a;
  c.b = b;
  return c;
}

std::string describe(const LocalCurriculum& c) {
  if (!c.enabled) return "none";
  const bool scored = c.order == CurriculumOrder::curr || c.order == CurriculumOrder::anti;
  const std::string by = scored ? " by " + to_string(c.metric) + " (scoring model: " + to_string(c.scorer) + ")"
                                : std::string(c.order == CurriculumOrder::rand ? " at random" : "");
  char pace[160];
  std::snprintf(pace, sizeof pace, "; %s pacing from %g of them (at least 32) to all after %g of its steps",
                to_string(c.pacing).c_str(), c.b, c.a);
  return to_string(c.order) + ": every job orders the client's samples" + by + pace;
}

void check_local_curriculum(const LocalCurriculum& c) {
  if (!c.enabled) return;
  if (!(c.a > 0) || std::isnan(c.a))
    throw std::invalid_argument("pacing-a: must be > 0 (inf: stay at the first pool), got " + number_text(c.a));
  if (!(c.b >= 0 && c.b <= 1)) throw std::invalid_argument("pacing-b: must be in [0, 1], got " + number_text(c.b));
}

std::vector<float> curriculum_scores(const Model& model, const Eigen::Ref<const Eigen::VectorXf>& params,
                                     const Dataset& data, std::span<const Eigen::Index> indices,
                                     CurriculumMetric metric) {
  if (!data.classification())
    throw std::invalid_argument("curriculum: scoring samples needs class labels; data set '" + data.name +
                                "' is a regression task");
  constexpr std::size_t chunk = 1024;
  std::vector<float> scores(indices.size());
  Batch batch;
  Eigen::VectorXf loss;
  std::vector<std::uint8_t> correct;
  for (std::size_t first = 0; first < indices.size(); first += chunk) {
    const std::size_t count = std::min(chunk, indices.size() - first);
    gather_batch(data, indices.subspan(first, count), batch);
    model.per_sample_loss(params, batch.x, batch.labels, loss,
                          metric == CurriculumMetric::error ? &correct : nullptr);
    for (std::size_t j = 0; j < count; ++j)
      scores[first + j] = metric == CurriculumMetric::loss ? loss(static_cast<Eigen::Index>(j))
                                                            : (correct[j] ? 0.0f : 1.0f);
  }
  return scores;
}

PacedSampler local_curriculum_sampler(const LocalCurriculum& c, std::span<const Eigen::Index> indices,
                                      std::span<const float> scores, Eigen::Index batch, std::int64_t steps,
                                      std::uint64_t seed) {
  if (scores.size() != indices.size())
    throw std::invalid_argument("local_curriculum_sampler: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(indices.size()) + " samples");
  // Stream 0 orders (rand), stream 1 shuffles the pools.
  const std::vector<Eigen::Index> positions = curriculum_order(scores, c.order, derive_seed(seed, {0}));
  std::vector<Eigen::Index> order(positions.size());
  for (std::size_t k = 0; k < positions.size(); ++k) order[k] = indices[static_cast<std::size_t>(positions[k])];
  return PacedSampler(std::move(order), batch, c.pacing, c.a, c.b, steps, derive_seed(seed, {1}));
}

}  // namespace decent
