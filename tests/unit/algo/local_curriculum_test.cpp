// The local data curriculum: sample scores against a hand-written softmax cross-entropy, the first batches of a
// job drawn from the easiest (or hardest) samples, and the refusal of unusable settings.
#include "decent/algo/local_curriculum.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "decent/data/synthetic.hpp"
#include "decent/model/factory.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

/// Softmax cross-entropy of sample j, from the model's logits but with its own log-sum-exp in double.
double cross_entropy(const Eigen::MatrixXf& logits, Eigen::Index j, int label) {
  const Eigen::VectorXd z = logits.col(j).cast<double>();
  const double top = z.maxCoeff();
  return top + std::log((z.array() - top).exp().sum()) - z(label);
}

}  // namespace

TEST_CASE("curriculum scores are each sample's loss or 0/1 error, in chunks, in the given order",
          "[curriculum]") {
  const Dataset data = gaussian_mixture(3, 5, 2600, 1.0, 4);
  const auto model = make_model("softmax", 5, 3, {}, 0.0f);
  Eigen::VectorXf params(model->parameter_count());
  Rng rng(9);
  model->initialize(params, rng);
  params *= 3.0f;  // a confident, often wrong model: many positive errors and a wide spread of losses
  // 2100 indices, not in order and with a repeat: three chunks of 1024.
  std::vector<Eigen::Index> indices;
  for (Eigen::Index k = 0; k < 2100; ++k) indices.push_back((k * 7) % 2600);
  indices.push_back(indices.front());
  const std::vector<float> loss = curriculum_scores(*model, params, data, indices, CurriculumMetric::loss);
  const std::vector<float> error = curriculum_scores(*model, params, data, indices, CurriculumMetric::error);
  REQUIRE(loss.size() == indices.size());
  REQUIRE(error.size() == indices.size());
  Eigen::MatrixXf logits;
  model->logits(params, data.features, logits);
  int wrong = 0;
  for (std::size_t j = 0; j < indices.size(); ++j) {
    const Eigen::Index i = indices[j];
    const int label = data.labels[static_cast<std::size_t>(i)];
    CHECK(loss[j] == Approx(cross_entropy(logits, i, label)).epsilon(1e-5).margin(1e-6));
    Eigen::Index best = 0;
    logits.col(i).maxCoeff(&best);
    CHECK(error[j] == (best == label ? 0.0f : 1.0f));
    wrong += error[j] > 0;
  }
  CHECK(wrong > 100);
  CHECK(wrong < 2000);
  CHECK(loss.back() == loss.front());

  Dataset regression = teacher_student(5, 50, 0.1, 2);
  CHECK_THROWS_WITH(curriculum_scores(*model, params, regression, indices, CurriculumMetric::loss),
                    Contains("needs class labels"));
}

TEST_CASE("a job's first pool holds the easiest samples (curr) or the hardest (anti), then grows to all",
          "[curriculum]") {
  // 200 samples at indices 5k + 2, with the score of index i equal to i: the easiest are the smallest indices.
  std::vector<Eigen::Index> indices;
  std::vector<float> scores;
  for (Eigen::Index k = 0; k < 200; ++k) indices.push_back(5 * k + 2);
  std::reverse(indices.begin(), indices.end());  // the shard's order is not the score order
  for (Eigen::Index i : indices) scores.push_back(static_cast<float>(i));
  LocalCurriculum c;
  c.enabled = true;
  c.pacing = Pacing::linear;
  c.a = 0.5;   // full after 10 of the 20 steps
  c.b = 0.25;  // the first pool: 50 samples
  for (const CurriculumOrder order : {CurriculumOrder::curr, CurriculumOrder::anti}) {
    INFO(to_string(order));
    c.order = order;
    PacedSampler sampler = local_curriculum_sampler(c, indices, scores, 10, 20, 77);
    // Pass 0's pool is fixed at its first batch: 50 samples, consumed by batches 0 to 4.
    std::set<Eigen::Index> first;
    for (int b = 0; b < 5; ++b)
      for (Eigen::Index i : sampler.next_indices()) first.insert(i);
    CHECK(first.size() == 50);  // a pass visits its pool once
    for (Eigen::Index i : first)
      CHECK((order == CurriculumOrder::curr ? i < 5 * 50 : i >= 5 * 150));
    // Later passes draw from larger pools; once full (step >= 10) every sample appears in a pass.
    std::set<Eigen::Index> later;
    for (int b = 5; b < 40; ++b)
      for (Eigen::Index i : sampler.next_indices()) later.insert(i);
    CHECK(later.size() == 200);
    CHECK(sampler.pool_size(10) == 200);
  }
  // The same seed gives the same batches; another seed shuffles the pool otherwise.
  c.order = CurriculumOrder::curr;
  const auto first_batches = [&](std::uint64_t seed) {
    PacedSampler s = local_curriculum_sampler(c, indices, scores, 10, 20, seed);
    std::vector<Eigen::Index> out;
    for (int k = 0; k < 3; ++k)
      for (Eigen::Index i : s.next_indices()) out.push_back(i);
    return out;
  };
  CHECK(first_batches(5) == first_batches(5));
  CHECK(first_batches(5) != first_batches(6));
}

TEST_CASE("rand and none ignore the scores, and unusable settings are refused by key", "[curriculum]") {
  std::vector<Eigen::Index> indices;
  for (Eigen::Index k = 0; k < 64; ++k) indices.push_back(k);
  const std::vector<float> zeros(64, 0.0f), other(64, 3.0f);
  LocalCurriculum c;
  c.enabled = true;
  c.order = CurriculumOrder::none;
  c.b = 0.5;
  PacedSampler none = local_curriculum_sampler(c, indices, zeros, 8, 10, 1);
  CHECK(std::equal(none.order().begin(), none.order().end(), indices.begin(), indices.end()));
  c.order = CurriculumOrder::rand;
  PacedSampler r1 = local_curriculum_sampler(c, indices, zeros, 8, 10, 1);
  PacedSampler r2 = local_curriculum_sampler(c, indices, other, 8, 10, 1);
  CHECK(std::equal(r1.order().begin(), r1.order().end(), r2.order().begin(), r2.order().end()));
  CHECK(!std::equal(r1.order().begin(), r1.order().end(), indices.begin(), indices.end()));
  CHECK_THROWS_WITH(local_curriculum_sampler(c, indices, std::vector<float>(3), 8, 10, 1),
                    Contains("3 scores for 64 samples"));

  LocalCurriculum bad;
  bad.a = -1;
  CHECK_NOTHROW(check_local_curriculum(bad));  // off: nothing to check
  bad.enabled = true;
  CHECK_THROWS_WITH(check_local_curriculum(bad), Contains("pacing-a"));
  bad.a = 0.8;
  bad.b = 1.5;
  CHECK_THROWS_WITH(check_local_curriculum(bad), Contains("pacing-b"));
  CHECK(parse_curriculum_scorer("both") == CurriculumScorer::both);
  CHECK(to_string(parse_curriculum_scorer("local")) == "local");
  CHECK(parse_curriculum_metric("error") == CurriculumMetric::error);
  CHECK(parse_curriculum_scorer("expert") == CurriculumScorer::expert);
  CHECK_THROWS_WITH(parse_curriculum_scorer("oracle"), Contains("valid: global, local, both, expert"));
  CHECK_THROWS_WITH(parse_curriculum_metric("accuracy"), Contains("valid: loss, error"));
}
