#include "decent/core/random.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using decent::Rng;

TEST_CASE("derived seeds separate streams and are reproducible", "[random]") {
  CHECK(decent::derive_seed(1, {0}) == decent::derive_seed(1, {0}));
  CHECK(decent::derive_seed(1, {0}) != decent::derive_seed(1, {1}));
  CHECK(decent::derive_seed(1, {0}) != decent::derive_seed(2, {0}));
  CHECK(decent::derive_seed(1, {0, 1}) != decent::derive_seed(1, {1, 0}));
}

TEST_CASE("Rng repeats its stream for the same seed", "[random]") {
  Rng a(42), b(42), c(43);
  bool all_equal_c = true;
  for (int i = 0; i < 100; ++i) {
    const auto x = a();
    CHECK(x == b());
    all_equal_c = all_equal_c && x == c();
  }
  CHECK_FALSE(all_equal_c);
}

TEST_CASE("Rng::uniform lies in the unit interval with mean 1/2 and variance 1/12", "[random]") {
  Rng rng(7);
  const int samples = 200000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < samples; ++i) {
    const double u = rng.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum_sq += u * u;
  }
  const double mean = sum / samples;
  // Standard error of the mean is sqrt(1/12 / samples) ~ 6.5e-4; allow 5 of them.
  CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / samples));
  CHECK(std::abs(sum_sq / samples - mean * mean - 1.0 / 12) < 2e-3);
}

TEST_CASE("Rng::below is in range and uniform (chi-square)", "[random]") {
  Rng rng(11);
  const int bins = 7, samples = 70000;
  std::vector<int> counts(bins, 0);
  for (int i = 0; i < samples; ++i) {
    const auto v = rng.below(bins);
    REQUIRE(v < static_cast<std::uint64_t>(bins));
    ++counts[v];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(samples) / bins;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 22.46);  // 99.9% quantile of chi-square with 6 degrees of freedom
}

TEST_CASE("Rng::normal has mean 0, variance 1 and normal tails", "[random]") {
  Rng rng(5);
  const int samples = 200000;
  double sum = 0, sum_sq = 0;
  int beyond_two = 0;
  for (int i = 0; i < samples; ++i) {
    const double z = rng.normal();
    sum += z;
    sum_sq += z * z;
    beyond_two += std::abs(z) > 2;
  }
  CHECK(std::abs(sum / samples) < 5 / std::sqrt(samples));
  CHECK(sum_sq / samples == Approx(1.0).margin(0.016));  // sd of the sample variance is sqrt(2/samples)
  // P(|Z| > 2) = 0.0455; binomial sd over 200000 samples is 0.00047.
  CHECK(static_cast<double>(beyond_two) / samples == Approx(0.0455).margin(0.0024));
}

TEST_CASE("Rng::restore continues the stream exactly, spare normal included", "[random]") {
  Rng a(2024);
  for (int i = 0; i < 5; ++i) (void)a();
  (void)a.normal();  // leaves a spare normal deviate inside the state
  const auto saved = a.state();
  CHECK(saved[5] == 1);
  std::vector<double> expected;
  for (int i = 0; i < 7; ++i) expected.push_back(i % 2 ? a.normal() : a.uniform());
  Rng b(1);  // another stream entirely, then restored
  b.restore(saved);
  for (int i = 0; i < 7; ++i) CHECK((i % 2 ? b.normal() : b.uniform()) == expected[static_cast<std::size_t>(i)]);
  CHECK(b.state() == a.state());
}
