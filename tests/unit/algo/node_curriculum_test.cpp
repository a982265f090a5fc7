// A decentralized node's curriculum: its window length, the refusal of scorers a node cannot have, windows
// that re-score and restart the pacing (checked against a PacedSampler built by hand from the documented
// seeds), rand that never reads scores, and a saved state that continues the same batches.
#include "decent/algo/node_curriculum.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

#include "decent/core/random.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

/// 64 sample indices 100..163 whose score falls as the index grows: the easiest are the largest indices.
std::vector<Eigen::Index> shard64() {
  std::vector<Eigen::Index> shard;
  for (Eigen::Index k = 0; k < 64; ++k) shard.push_back(100 + k);
  return shard;
}

std::vector<float> falling_scores() {
  std::vector<float> scores;
  for (int k = 0; k < 64; ++k) scores.push_back(static_cast<float>(64 - k));
  return scores;
}

LocalCurriculum step_curriculum(CurriculumOrder order) {
  LocalCurriculum c;
  c.enabled = true;
  c.order = order;
  c.scorer = CurriculumScorer::local;
  c.pacing = Pacing::step;
  c.a = 0.5;  // the pool is all 64 samples from step aT = 4 of a window of 8
  c.b = 0.5;  // before that the 32 easiest
  return c;
}

std::vector<Eigen::Index> draw(NodeCurriculum& node, int batches, int* calls) {
  std::vector<Eigen::Index> out;
  for (int b = 0; b < batches; ++b) {
    const std::span<const Eigen::Index> batch = node.next([&] {
      ++*calls;
      return falling_scores();
    });
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

}  // namespace

TEST_CASE("a node's curriculum window is the option or one epoch of its shard", "[curriculum]") {
  CHECK(curriculum_window(7, 1000, 16) == 7);
  CHECK(curriculum_window(0, 1000, 16) == 1000 / 16 + 1);  // the reference's T for one local epoch
  CHECK(curriculum_window(0, 15, 16) == 1);
}

TEST_CASE("a decentralized node scores with its own model or the expert, never a global one", "[curriculum]") {
  LocalCurriculum c = step_curriculum(CurriculumOrder::curr);
  CHECK_NOTHROW(check_node_curriculum(c, 0));
  c.scorer = CurriculumScorer::global;
  CHECK_THROWS_WITH(check_node_curriculum(c, 0), Contains("curriculum-score = global") && Contains("local"));
  c.scorer = CurriculumScorer::both;
  CHECK_THROWS_WITH(check_node_curriculum(c, 0), Contains("curriculum-score = both"));
  c.order = CurriculumOrder::rand;  // reads no scores: the scorer does not matter
  CHECK_NOTHROW(check_node_curriculum(c, 0));
  c.scorer = CurriculumScorer::expert;
  CHECK_THROWS_WITH(check_node_curriculum(c, -1), Contains("curriculum-window"));
  c.a = 0;
  CHECK_THROWS_WITH(check_node_curriculum(c, 3), Contains("pacing-a"));
  LocalCurriculum off;
  CHECK_NOTHROW(check_node_curriculum(off, -1));  // off: nothing to check
  CHECK_THROWS_WITH(NodeCurriculum(off, shard64(), 8, 8, 1), Contains("off"));
  CHECK_THROWS_WITH(NodeCurriculum(step_curriculum(CurriculumOrder::curr), shard64(), 8, 0, 1), Contains("window"));
  CHECK_THROWS_WITH(NodeCurriculum(step_curriculum(CurriculumOrder::curr), shard64(), 65, 8, 1), Contains("batch = 65"));
}

TEST_CASE("every window re-scores the shard and draws its batches like a fresh paced sampler", "[curriculum]") {
  const LocalCurriculum c = step_curriculum(CurriculumOrder::curr);
  constexpr std::uint64_t seed = 77;
  NodeCurriculum node(c, shard64(), 8, 8, seed);
  int calls = 0;
  const std::vector<Eigen::Index> drawn = draw(node, 24, &calls);
  CHECK(calls == 3);  // at steps 0, 8 and 16
  CHECK(node.state().windows == 3);
  // Window w is local_curriculum_sampler(c, shard, scores, 8, 8, derive_seed(seed, {w})).
  std::vector<Eigen::Index> expected;
  for (std::uint64_t w = 0; w < 3; ++w) {
    PacedSampler by_hand = local_curriculum_sampler(c, shard64(), falling_scores(), 8, 8, derive_seed(seed, {w}));
    for (int b = 0; b < 8; ++b) {
      const std::span<const Eigen::Index> batch = by_hand.next_indices();
      expected.insert(expected.end(), batch.begin(), batch.end());
    }
  }
  CHECK(drawn == expected);
  // The first 4 batches of each window (before aT) use the 32 easiest samples: indices 132..163.
  for (int w = 0; w < 3; ++w)
    for (int k = 0; k < 32; ++k) CHECK(drawn[static_cast<std::size_t>(w * 64 + k)] >= 132);
  // The three windows shuffle differently.
  CHECK(!std::equal(drawn.begin(), drawn.begin() + 32, drawn.begin() + 64));
}

TEST_CASE("rand never reads scores and anti starts from the hardest samples", "[curriculum]") {
  NodeCurriculum random(step_curriculum(CurriculumOrder::rand), shard64(), 8, 8, 5);
  int calls = 0;
  const std::vector<Eigen::Index> r = draw(random, 16, &calls);
  CHECK(calls == 0);
  CHECK(std::set<Eigen::Index>(r.begin(), r.begin() + 32).size() == 32);
  NodeCurriculum hardest(step_curriculum(CurriculumOrder::anti), shard64(), 8, 8, 5);
  const std::vector<Eigen::Index> h = draw(hardest, 4, &calls);
  CHECK(calls == 1);
  for (const Eigen::Index index : h) CHECK(index < 132);  // the 32 largest scores: indices 100..131
}

TEST_CASE("a node curriculum restored from its state draws the batches the saved one would have", "[curriculum]") {
  const LocalCurriculum c = step_curriculum(CurriculumOrder::curr);
  NodeCurriculum whole(c, shard64(), 8, 8, 9);
  int calls = 0;
  draw(whole, 11, &calls);  // in the middle of window 1
  const NodeCurriculumState saved = whole.state();
  CHECK(saved.windows == 2);
  CHECK(saved.sampler.step == 3);
  const std::vector<Eigen::Index> rest = draw(whole, 13, &calls);

  NodeCurriculum resumed(c, shard64(), 8, 8, 9);
  resumed.restore(saved);
  int resumed_calls = 0;
  CHECK(draw(resumed, 13, &resumed_calls) == rest);
  CHECK(resumed_calls == 1);  // window 2 begins at step 16

  NodeCurriculumState broken = saved;
  broken.order[0] = 5;  // not a sample of the shard
  NodeCurriculum other(c, shard64(), 8, 8, 9);
  CHECK_THROWS_WITH(other.restore(broken), Contains("not a permutation"));
  broken = saved;
  broken.sampler.position = 999;
  CHECK_THROWS_AS(other.restore(broken), std::invalid_argument);
  NodeCurriculumState fresh;
  other.restore(fresh);
  CHECK(other.state().windows == 0);
}
