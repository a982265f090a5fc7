// Random-k: a uniform k-subset from a seed carried in the message; scaled (x as is) or unbiased (d/k x).
#include "decent/compress/random_k.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("random_k_indices: k distinct ascending indices in range, fixed by the seed", "[compress][random_k]") {
  std::vector<std::uint32_t> a, b;
  std::vector<std::uint64_t> bitmap;
  for (const std::uint64_t d : {1, 2, 63, 64, 65, 1000}) {
    for (const std::uint64_t k : {std::uint64_t{1}, d / 2, d}) {
      if (k < 1) continue;
      INFO("d = " << d << ", k = " << k);
      random_k_indices(d, k, 42, a, bitmap);
      REQUIRE(a.size() == k);
      CHECK(std::is_sorted(a.begin(), a.end()));
      CHECK(std::adjacent_find(a.begin(), a.end()) == a.end());
      CHECK(a.back() < d);
      random_k_indices(d, k, 42, b, bitmap);
      CHECK(a == b);
    }
  }
  random_k_indices(1000, 10, 1, a, bitmap);
  random_k_indices(1000, 10, 2, b, bitmap);
  CHECK(a != b);
  CHECK_THROWS_AS(random_k_indices(10, 0, 1, a, bitmap), std::invalid_argument);
  CHECK_THROWS_AS(random_k_indices(10, 11, 1, a, bitmap), std::invalid_argument);
}

TEST_CASE("random_k_indices is uniform: each index is kept with probability k/d", "[compress][random_k]") {
  const std::uint64_t d = 50, k = 7;
  const int trials = 20000;
  std::vector<int> counts(d, 0);
  std::vector<std::uint32_t> indices;
  std::vector<std::uint64_t> bitmap;
  Rng seeds(3);
  std::set<std::vector<std::uint32_t>> distinct;
  for (int t = 0; t < trials; ++t) {
    random_k_indices(d, k, seeds(), indices, bitmap);
    for (const auto i : indices) ++counts[i];
    if (t < 200) distinct.insert(indices);
  }
  const double p = static_cast<double>(k) / d;
  const double se = std::sqrt(p * (1 - p) / trials);
  for (std::uint64_t i = 0; i < d; ++i) {
    INFO("index " << i);
    CHECK(std::abs(counts[i] / static_cast<double>(trials) - p) < 5 * se);
  }
  CHECK(distinct.size() == 200);
}

TEST_CASE("random-k decodes to x (or d/k x) on the seeded indices and 0 elsewhere", "[compress][random_k]") {
  Rng rng(4);
  Eigen::VectorXf x(300);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  for (const bool unbiased : {false, true}) {
    RandomK c(Sparsity::fraction(0.1), unbiased);
    CHECK(c.unbiased() == unbiased);
    Message m;
    c.encode(x, rng, m);
    const Eigen::VectorXf y = c.decode(m);
    std::vector<std::uint32_t> indices;
    std::vector<std::uint64_t> bitmap;
    random_k_indices(300, 30, load_u64(m.bytes.data() + 4), indices, bitmap);
    Eigen::VectorXf expected = Eigen::VectorXf::Zero(300);
    for (const auto i : indices) expected[i] = unbiased ? 10.0f * x[i] : x[i];
    CHECK(y == expected);
    CHECK((y.array() != 0).count() == 30);
  }
}

TEST_CASE("random-k message: [d][u64 seed][k floats], seed drawn as one rng value", "[compress][random_k]") {
  Rng rng(5);
  Message m;
  for (const Eigen::Index d : {1, 10, 999, 100000}) {
    for (const auto& s : {Sparsity::fraction(0.01), Sparsity::count(5)}) {
      RandomK c(s, false);
      const auto k = static_cast<std::size_t>(s.k(d));
      INFO("d = " << d << ", k = " << k);
      Rng before = rng;
      c.encode(Eigen::VectorXf::Ones(d), rng, m);
      CHECK(m.bytes_on_wire() == 12 + 4 * k);
      CHECK(c.message_bytes(d) == 12 + 4 * k);
      CHECK(load_u64(m.bytes.data() + 4) == before());
      CHECK(rng() == before());  // exactly one value drawn
    }
  }
  CHECK(RandomK(Sparsity::fraction(0.01), true).message_bytes(10'000'000) == 400'012);
}
