#include "decent/data/sampler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "decent/data/synthetic.hpp"

namespace {

using Catch::Matchers::Contains;
using decent::Sampler;
using decent::SamplingMode;

/// The indices 3k + 1, k < n (not 0..n-1, so a sampler returning positions instead of indices fails).
std::vector<Eigen::Index> spaced(Eigen::Index n) {
  std::vector<Eigen::Index> v(static_cast<std::size_t>(n));
  for (Eigen::Index k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = 3 * k + 1;
  return v;
}

/// The next `count` batches, concatenated.
std::vector<Eigen::Index> draw(Sampler& s, int count) {
  std::vector<Eigen::Index> out;
  for (int b = 0; b < count; ++b) {
    const auto batch = s.next_indices();
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

}  // namespace

TEST_CASE("shuffled epochs visit every index exactly once per epoch", "[data][sampler]") {
  const std::vector<Eigen::Index> indices = spaced(37);
  Sampler s(indices, 5, SamplingMode::shuffled_epochs, 4);
  CHECK(s.epoch() == 0);
  CHECK(s.offset() == 0);
  const std::vector<Eigen::Index> seq = draw(s, 74);  // 370 samples = exactly 10 epochs
  CHECK(s.epoch() == 10);
  CHECK(s.offset() == 0);
  std::vector<std::vector<Eigen::Index>> epochs;
  for (int e = 0; e < 10; ++e) {
    std::vector<Eigen::Index> epoch(seq.begin() + 37 * e, seq.begin() + 37 * (e + 1));
    epochs.push_back(epoch);
    std::sort(epoch.begin(), epoch.end());
    CHECK(epoch == indices);
  }
  // Fresh permutations: no two epochs in the same order, and not the input order.
  for (int e = 0; e < 10; ++e) {
    CHECK(epochs[static_cast<std::size_t>(e)] != indices);
    for (int f = 0; f < e; ++f) CHECK(epochs[static_cast<std::size_t>(e)] != epochs[static_cast<std::size_t>(f)]);
  }
  // The batch that straddles epochs 0 and 1 (samples 35..39) completes from the next epoch.
  s.restore({7});
  CHECK(s.epoch() == 0);
  CHECK(s.offset() == 35);
  const auto straddle = s.next_indices();
  CHECK(std::equal(straddle.begin(), straddle.end(), seq.begin() + 35));
  CHECK(s.epoch() == 1);
  CHECK(s.offset() == 3);
}

TEST_CASE("with-replacement batches are uniform over the indices (chi-square)", "[data][sampler]") {
  const Eigen::Index k = 20;
  const std::vector<Eigen::Index> indices = spaced(k);
  Sampler s(indices, 20, SamplingMode::with_replacement, 12);
  std::vector<double> count(static_cast<std::size_t>(k), 0);
  const int batches = 5000;  // 100000 draws, 5000 expected per index
  for (int b = 0; b < batches; ++b)
    for (Eigen::Index index : s.next_indices()) {
      REQUIRE((index - 1) % 3 == 0);
      ++count[static_cast<std::size_t>((index - 1) / 3)];
    }
  const double expected = static_cast<double>(batches) * 20 / static_cast<double>(k);
  double chi2 = 0;
  for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
  // chi2 with 19 degrees of freedom: mean 19, sd 6.2; P(chi2 > 50) < 1e-4.
  CHECK(chi2 < 50);
  CHECK(chi2 > 3);  // too uniform would be suspicious as well (P(chi2 < 3) < 1e-4 too)
  // Repeats within a batch happen (20 draws from 20 indices: P(no repeat) = 20!/20^20).
  Sampler again(indices, 20, SamplingMode::with_replacement, 12);
  std::vector<Eigen::Index> first(again.next_indices().begin(), again.next_indices().end());
  std::sort(first.begin(), first.end());
  CHECK(std::adjacent_find(first.begin(), first.end()) != first.end());
}

TEST_CASE("samplers are deterministic by seed and restore from their state", "[data][sampler]") {
  for (const SamplingMode mode : {SamplingMode::shuffled_epochs, SamplingMode::with_replacement}) {
    Sampler a(spaced(50), 7, mode, 3);
    Sampler b(spaced(50), 7, mode, 3);
    Sampler c(spaced(50), 7, mode, 4);
    const std::vector<Eigen::Index> seq_a = draw(a, 30);
    CHECK(seq_a == draw(b, 30));
    CHECK(seq_a != draw(c, 30));

    // Save after 13 batches, continue, and replay the continuation in a fresh sampler.
    Sampler d(spaced(50), 7, mode, 3);
    draw(d, 13);
    const decent::SamplerState saved = d.state();
    CHECK(saved.batches == 13);
    const std::vector<Eigen::Index> rest = draw(d, 17);
    CHECK(rest == std::vector<Eigen::Index>(seq_a.begin() + 13 * 7, seq_a.end()));
    Sampler e(spaced(50), 7, mode, 3);
    draw(e, 29);  // restoring also works backwards
    e.restore(saved);
    CHECK(draw(e, 17) == rest);
    CHECK(e.state() == d.state());
  }
}

TEST_CASE("Sampler::next copies the batch's columns and labels into a reused Batch", "[data][sampler]") {
  const decent::Dataset data = decent::gaussian_mixture(3, 6, 200, 2.0, 5);
  const std::vector<Eigen::Index> part = spaced(60);  // indices up to 178
  Sampler s(part, 16, SamplingMode::shuffled_epochs, 9);
  Sampler twin(part, 16, SamplingMode::shuffled_epochs, 9);
  decent::Batch batch;
  s.next(data, batch);
  const float* x_storage = batch.x.data();
  const int* label_storage = batch.labels.data();
  for (int step = 0; step < 10; ++step) {
    if (step > 0) s.next(data, batch);
    const auto indices = twin.next_indices();
    REQUIRE(batch.size() == 16);
    REQUIRE(batch.x.rows() == 6);
    REQUIRE(batch.labels.size() == 16);
    CHECK(batch.targets.size() == 0);
    for (std::size_t j = 0; j < indices.size(); ++j) {
      CHECK(batch.x.col(static_cast<Eigen::Index>(j)) == data.features.col(indices[j]));
      CHECK(batch.labels[j] == data.labels[static_cast<std::size_t>(indices[j])]);
    }
  }
  CHECK(batch.x.data() == x_storage);  // no reallocation after the first call
  CHECK(batch.labels.data() == label_storage);
}

TEST_CASE("Sampler::next fills targets for regression data", "[data][sampler]") {
  const decent::Dataset data = decent::teacher_student(4, 30, 0.1, 2);
  std::vector<Eigen::Index> all(30);
  std::iota(all.begin(), all.end(), Eigen::Index{0});
  Sampler s(all, 8, SamplingMode::with_replacement, 1);
  Sampler twin(all, 8, SamplingMode::with_replacement, 1);
  decent::Batch batch;
  for (int step = 0; step < 3; ++step) {
    s.next(data, batch);
    const auto indices = twin.next_indices();
    CHECK(batch.labels.empty());
    REQUIRE(batch.targets.size() == 8);
    for (std::size_t j = 0; j < indices.size(); ++j) {
      CHECK(batch.x.col(static_cast<Eigen::Index>(j)) == data.features.col(indices[j]));
      CHECK(batch.targets(static_cast<Eigen::Index>(j)) == data.targets(indices[j]));
    }
  }
}

TEST_CASE("Sampler validates its arguments", "[data][sampler]") {
  CHECK_THROWS_WITH(Sampler(spaced(10), 11, SamplingMode::shuffled_epochs, 0),
                    Contains("batch = 11") && Contains("shard size 10"));
  CHECK_THROWS_AS(Sampler(spaced(10), 0, SamplingMode::with_replacement, 0), std::invalid_argument);
  CHECK_THROWS_AS(Sampler({}, 1, SamplingMode::shuffled_epochs, 0), std::invalid_argument);
  CHECK_THROWS_WITH(Sampler({0, -2}, 1, SamplingMode::shuffled_epochs, 0), Contains("indices[1] = -2"));
  CHECK_NOTHROW(Sampler(spaced(10), 10, SamplingMode::shuffled_epochs, 0));

  // An index outside the data set: out_of_range, and the batch is not consumed.
  const decent::Dataset data = decent::gaussian_mixture(2, 2, 20, 1.0, 0);
  Sampler s({3, 25}, 2, SamplingMode::shuffled_epochs, 0);
  decent::Batch batch;
  CHECK_THROWS_AS(s.next(data, batch), std::out_of_range);
  CHECK(s.state().batches == 0);
}
