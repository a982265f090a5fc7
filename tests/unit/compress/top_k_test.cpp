// Top-k keeps exactly the k largest magnitudes (checked against a full sort), ties to the smaller index.
#include "decent/compress/top_k.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

namespace {

/// The reference: sort all indices by (|x| descending, index ascending), keep k, return them ascending.
std::vector<std::uint32_t> reference_top_k(const Eigen::VectorXf& x, Eigen::Index k) {
  std::vector<std::uint32_t> order(static_cast<std::size_t>(x.size()));
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return std::fabs(x[a]) > std::fabs(x[b]); });
  order.resize(static_cast<std::size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

Eigen::VectorXf random_input(Eigen::Index d, Rng& rng, bool with_ties) {
  Eigen::VectorXf x(d);
  for (auto& v : x) {
    // Small integers give many equal magnitudes (and +-equal pairs, and zeros); normals give none.
    v = with_ties ? static_cast<float>(static_cast<int>(rng.below(7)) - 3) : static_cast<float>(rng.normal());
  }
  return x;
}

std::size_t layout_bytes(std::size_t d, std::size_t k) {
  return 4 + 4 * k + (k * static_cast<std::size_t>(ceil_log2(d)) + 7) / 8;
}

}  // namespace

TEST_CASE("top_k_indices equals a full sort, ties going to the smaller index", "[compress][top_k]") {
  Rng rng(2024);
  std::vector<std::uint32_t> indices;
  std::vector<float> scratch;
  for (const bool ties : {false, true}) {
    for (const Eigen::Index d : {1, 2, 3, 10, 100, 1000, 4097}) {
      const Eigen::VectorXf x = random_input(d, rng, ties);
      for (const Eigen::Index k : {Eigen::Index{1}, Eigen::Index{2}, d / 3, d / 2, d - 1, d}) {
        if (k < 1 || k > d) continue;
        INFO("d = " << d << ", k = " << k << ", ties = " << ties);
        top_k_indices(x, k, indices, scratch);
        CHECK(indices == reference_top_k(x, k));
      }
    }
  }
}

TEST_CASE("top_k_indices for large d: the sampled prefilter, its fallback and ties agree with a full sort",
          "[compress][top_k]") {
  // d >= 2^18 takes the prefilter (a threshold from every (d / 2^16)-th magnitude).
  Rng rng(99);
  std::vector<std::uint32_t> indices;
  std::vector<float> scratch;
  const Eigen::Index d = Eigen::Index{1} << 18;  // stride 4
  std::vector<Eigen::VectorXf> xs;
  xs.push_back(random_input(d, rng, false));      // the prefilter decides
  xs.push_back(random_input(d, rng, true));       // 7 distinct magnitudes: thousands of ties at the threshold
  Eigen::VectorXf misleading = random_input(d, rng, false);
  for (Eigen::Index i = 0; i < d; i += 4) misleading[i] = 100.0f + static_cast<float>(i % 1000);
  xs.push_back(misleading);                        // sampled entries are all large: too few candidates, fallback
  Eigen::VectorXf hidden = random_input(d, rng, false);
  for (Eigen::Index i = 0; i < d; i += 4) hidden[i] = 0.0f;
  xs.push_back(hidden);                            // sampled entries are all 0: every coordinate is a candidate
  int which = 0;
  for (const Eigen::VectorXf& x : xs) {
    for (const Eigen::Index k : {Eigen::Index{1}, Eigen::Index{10}, d / 100, d / 10, d / 3}) {
      INFO("input " << which << ", k = " << k);
      top_k_indices(x, k, indices, scratch);
      CHECK(indices == reference_top_k(x, k));
    }
    ++which;
  }
  Eigen::VectorXf bad = xs[0];
  bad[5] = std::numeric_limits<float>::quiet_NaN();  // not sampled
  CHECK_THROWS_AS(top_k_indices(bad, 100, indices, scratch), std::invalid_argument);
  bad[4] = std::numeric_limits<float>::infinity();   // sampled
  CHECK_THROWS_AS(top_k_indices(bad, 100, indices, scratch), std::invalid_argument);
}

TEST_CASE("top_k_indices: all-equal magnitudes keep the first k, -0 and +0 tie", "[compress][top_k]") {
  std::vector<std::uint32_t> indices;
  std::vector<float> scratch;
  Eigen::VectorXf x(6);
  x << 2, -2, 2, -2, 2, -2;
  top_k_indices(x, 3, indices, scratch);
  CHECK(indices == std::vector<std::uint32_t>{0, 1, 2});
  x << 0, -0.0f, 5, 0, -0.0f, 0;
  top_k_indices(x, 3, indices, scratch);
  CHECK(indices == std::vector<std::uint32_t>{0, 1, 2});
  x << 1, 3, 2, 3, 1, 2;
  top_k_indices(x, 3, indices, scratch);
  CHECK(indices == std::vector<std::uint32_t>{1, 2, 3});
  CHECK_THROWS_AS(top_k_indices(x, 0, indices, scratch), std::invalid_argument);
  CHECK_THROWS_AS(top_k_indices(x, 7, indices, scratch), std::invalid_argument);
}

TEST_CASE("top-k decodes to x on the k largest magnitudes and 0 elsewhere", "[compress][top_k]") {
  Rng rng(5);
  TopK c(Sparsity::fraction(0.05));
  Message m;
  for (const Eigen::Index d : {1, 20, 1000, 1025}) {
    const Eigen::VectorXf x = random_input(d, rng, d == 20);
    c.encode(x, rng, m);
    const Eigen::VectorXf y = c.decode(m);
    const auto kept = reference_top_k(x, c.sparsity().k(d));
    Eigen::VectorXf expected = Eigen::VectorXf::Zero(d);
    for (const auto i : kept) expected[i] = x[i];
    CHECK(y == expected);
    CHECK(((y - x).squaredNorm() <= (1 - c.delta(d)) * x.squaredNorm() * (1 + 1e-6)));
  }
}

TEST_CASE("top-k message: [d][k floats][k indices of ceil(log2 d) bits]", "[compress][top_k]") {
  Rng rng(6);
  Message m;
  for (const Eigen::Index d : {1, 2, 3, 8, 9, 1000, 1024, 1025, 100000}) {
    for (const double f : {0.001, 0.01, 0.3, 1.0}) {
      TopK c(Sparsity::fraction(f));
      const auto k = static_cast<std::size_t>(c.sparsity().k(d));
      INFO("d = " << d << ", k = " << k);
      c.encode(random_input(d, rng, false), rng, m);
      CHECK(m.bytes_on_wire() == layout_bytes(static_cast<std::size_t>(d), k));
      CHECK(c.message_bytes(d) == layout_bytes(static_cast<std::size_t>(d), k));
    }
  }
  // d = 10^7, k = 1%: 4 + 400000 + 300000 bytes (24-bit indices).
  CHECK(TopK(Sparsity::fraction(0.01)).message_bytes(10'000'000) == 700'004);

  // The exact bytes for a small case: d = 5 (3-bit indices), k = 2 keeps x[1] = -4 and x[3] = 3.
  Eigen::VectorXf x(5);
  x << 1, -4, 0.5f, 3, 2;
  TopK c(Sparsity::count(2));
  c.encode(x, rng, m);
  REQUIRE(m.bytes.size() == 4 + 8 + 1);
  CHECK(load_u32(m.bytes.data()) == 5);
  CHECK(load_f32(m.bytes.data() + 4) == -4.0f);
  CHECK(load_f32(m.bytes.data() + 8) == 3.0f);
  CHECK(m.bytes[12] == (1 | 3 << 3));
}

TEST_CASE("top-k rejects corrupt indices: out of order, repeated, out of range, padding", "[compress][top_k]") {
  Rng rng(7);
  Eigen::VectorXf x(5);
  x << 1, -4, 0.5f, 3, 2;
  TopK c(Sparsity::count(2));
  Message m;
  c.encode(x, rng, m);
  Eigen::VectorXf y(5);
  CHECK_NOTHROW(c.decode(m, y));
  auto with_indices = [&](unsigned a, unsigned b) {
    Message bad = m;
    bad.bytes[12] = static_cast<std::uint8_t>(a | b << 3);
    return bad;
  };
  CHECK_NOTHROW(c.decode(with_indices(0, 4), y));
  CHECK_THROWS_AS(c.decode(with_indices(3, 1), y), std::invalid_argument);  // out of order
  CHECK_THROWS_AS(c.decode(with_indices(2, 2), y), std::invalid_argument);  // repeated
  CHECK_THROWS_AS(c.decode(with_indices(1, 5), y), std::invalid_argument);  // >= d
  Message padded = m;
  padded.bytes[12] |= 0x80;
  CHECK_THROWS_AS(c.decode(padded, y), std::invalid_argument);
}

TEST_CASE("top-k is deterministic and takes no randomness", "[compress][top_k]") {
  Rng rng(8), a(1), b(2);
  const Eigen::VectorXf x = random_input(500, rng, true);
  TopK c(Sparsity::fraction(0.1));
  Message ma, mb;
  c.encode(x, a, ma);
  c.encode(x, b, mb);
  CHECK(ma.bytes == mb.bytes);
}
