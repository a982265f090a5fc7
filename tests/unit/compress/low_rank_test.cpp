// Low-rank compression: the message layout, exact reconstruction of low-rank blocks, the claimed contraction
// (and its tightness), exact pass-through of the coordinates in no block, layout and spec errors.
#include "decent/compress/low_rank.hpp"

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"
#include "decent/model/mlp.hpp"

using namespace decent;

namespace {

using Catch::Matchers::Contains;

Eigen::VectorXf gaussian(Eigen::Index d, Rng& rng) {
  Eigen::VectorXf x(d);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  return x;
}

/// A rows x cols matrix of rank min(rank, rows, cols) (0 for rank 0): a product of two Gaussian factors. The
/// product is rounded to float, so its rank is only numerically `rank`.
Eigen::MatrixXf low_rank_matrix(Eigen::Index rows, Eigen::Index cols, Eigen::Index rank, Rng& rng) {
  const Eigen::VectorXf a = gaussian(rows * rank, rng), b = gaussian(rank * cols, rng);
  return Eigen::Map<const Eigen::MatrixXf>(a.data(), rows, rank) * Eigen::Map<const Eigen::MatrixXf>(b.data(), rank, cols);
}

/// The same with factors of small integers, whose product is exact in float: a matrix of exactly that rank.
Eigen::MatrixXf exact_low_rank_matrix(Eigen::Index rows, Eigen::Index cols, Eigen::Index rank, Rng& rng) {
  Eigen::MatrixXf a(rows, rank), b(rank, cols);
  for (auto& v : a.reshaped()) v = static_cast<float>(static_cast<int>(rng.below(15)) - 7);
  for (auto& v : b.reshaped()) v = static_cast<float>(static_cast<int>(rng.below(15)) - 7);
  return a * b;
}

Eigen::Map<Eigen::MatrixXf> block_of(Eigen::VectorXf& x, const MatrixBlock& b) {
  return {x.data() + b.offset, b.rows, b.cols};
}

bool in_a_block(const std::vector<MatrixBlock>& layout, Eigen::Index i) {
  return std::any_of(layout.begin(), layout.end(),
                     [i](const MatrixBlock& b) { return i >= b.offset && i < b.offset + b.rows * b.cols; });
}

/// Three blocks out of index order, with gaps before, between and after them: d >= 80.
const std::vector<MatrixBlock> gapped = {{40, 7, 3}, {5, 4, 6}, {62, 1, 5}};

/// 4 + 4 sum_b r_b (rows_b + cols_b) + 4 (d - covered), r_b = min(R, rows_b, cols_b).
std::size_t expected_bytes(const std::vector<MatrixBlock>& layout, Eigen::Index rank, Eigen::Index d) {
  Eigen::Index floats = d;
  for (const MatrixBlock& b : layout) floats += std::min({rank, b.rows, b.cols}) * (b.rows + b.cols) - b.rows * b.cols;
  return 4 + 4 * static_cast<std::size_t>(floats);
}

}  // namespace

TEST_CASE("lowrank message bytes are 4 plus the factors plus the coordinates in no block", "[compress][lowrank]") {
  Rng rng(1);
  Message m;
  for (const Eigen::Index rank : {1, 2, 3, 4, 100}) {
    LowRank c(rank, gapped);
    for (const Eigen::Index d : {67, 68, 80, 1000}) {
      INFO("R = " << rank << ", d = " << d);
      CHECK(c.message_bytes(d) == expected_bytes(gapped, rank, d));
      c.encode(gaussian(d, rng), rng, m);
      CHECK(m.bytes_on_wire() == expected_bytes(gapped, rank, d));
      CHECK(message_dimension(m) == d);
    }
  }
  // The 784-256-10 MLP with R = 4: W_1 256 x 784 -> 4 (256 + 784) floats, W_2 10 x 256 -> 4 (10 + 256) floats,
  // the 256 + 10 biases as they are: 4 + 4 (4160 + 1064 + 266) = 21964 bytes instead of 814124.
  const Mlp mlp(784, {256}, 10);
  LowRank c(4, mlp.matrix_blocks());
  CHECK(c.message_bytes(mlp.parameter_count()) == 21964);
  CHECK(mlp.parameter_count() == 203530);
  Eigen::VectorXf params(mlp.parameter_count());
  mlp.initialize(params, rng);
  c.encode(params, rng, m);
  CHECK(m.bytes_on_wire() == 21964);
  CHECK((c.decode(m) - params).squaredNorm() <= params.squaredNorm());
}

TEST_CASE("lowrank message: the factors of each block in layout order, then the other coordinates",
          "[compress][lowrank]") {
  // d = 7, one 2 x 2 block at offset 1 holding the rank-1 matrix ((1, 2), (2, 4)); R = 1.
  Eigen::VectorXf x(7);
  x << 0.5f, 1, 2, 2, 4, -3, 1e-40f;
  LowRank c(1, {{1, 2, 2}});
  Rng rng(2);
  Message m;
  c.encode(x, rng, m);
  REQUIRE(m.bytes.size() == 4 + 4 * (2 + 2) + 4 * 3);
  CHECK(load_u32(m.bytes.data()) == 7);
  Eigen::Vector2f p, q;
  p << load_f32(m.bytes.data() + 4), load_f32(m.bytes.data() + 8);
  q << load_f32(m.bytes.data() + 12), load_f32(m.bytes.data() + 16);
  // P spans (1, 2) with unit norm, Q' = M^T P = sqrt(5) (1, 2) up to the common sign.
  CHECK(p.norm() == Approx(1).epsilon(1e-6));
  CHECK(std::abs(p[1] - 2 * p[0]) < 1e-6f);
  CHECK(q[0] * p[0] > 0);
  CHECK(q.norm() == Approx(5).epsilon(1e-6));
  CHECK(load_f32(m.bytes.data() + 20) == 0.5f);
  CHECK(load_f32(m.bytes.data() + 24) == -3.0f);
  CHECK(load_f32(m.bytes.data() + 28) == 1e-40f);  // subnormal, sent as it is
  const Eigen::VectorXf y = c.decode(m);
  CHECK(y[0] == 0.5f);
  CHECK(y[5] == -3.0f);
  CHECK(y[6] == 1e-40f);
  CHECK((y.segment(1, 4) - x.segment(1, 4)).norm() <= 1e-5f * x.segment(1, 4).norm());
}

TEST_CASE("lowrank reproduces a block of rank at most r up to float rounding", "[compress][lowrank]") {
  Rng rng(3);
  Message m;
  struct Case {
    Eigen::Index rows, cols, matrix_rank, rank;
  };
  for (const Case k : {Case{10, 8, 1, 1}, Case{10, 8, 2, 4}, Case{8, 10, 3, 3}, Case{50, 40, 4, 4},
                       Case{300, 200, 2, 8}, Case{5, 5, 5, 7}, Case{1, 9, 1, 2}, Case{9, 1, 1, 1}, Case{6, 7, 0, 2}}) {
    INFO(k.rows << " x " << k.cols << " of rank " << k.matrix_rank << ", R = " << k.rank);
    const MatrixBlock b{3, k.rows, k.cols};
    const Eigen::Index d = 3 + k.rows * k.cols + 2;
    Eigen::VectorXf x = gaussian(d, rng);
    block_of(x, b) = exact_low_rank_matrix(k.rows, k.cols, k.matrix_rank, rng);
    LowRank c(k.rank, {b});
    for (int t = 0; t < 20; ++t) {  // any draw of Q
      c.encode(x, rng, m);
      const Eigen::VectorXf y = c.decode(m);
      CHECK((y - x).norm() <= 1e-6f * x.segment(b.offset, k.rows * k.cols).norm());
      if (k.matrix_rank == 0) CHECK(y == x);
    }
  }
  // Magnitudes near both ends of the float range: the products run in double, so nothing overflows.
  for (const float scale : {1e37f, 1e-30f}) {
    INFO("scale " << scale);
    const MatrixBlock b{0, 6, 4};
    Eigen::VectorXf x(24);
    Eigen::VectorXf u = Eigen::VectorXf::Random(6), v = Eigen::VectorXf::Random(4);
    block_of(x, b) = scale * u * v.transpose();
    LowRank c(1, {b});
    c.encode(x, rng, m);
    const Eigen::VectorXf y = c.decode(m);
    CHECK(y.allFinite());
    CHECK((y - x).cast<double>().norm() <= 1e-5 * x.cast<double>().norm());
  }
}

TEST_CASE("lowrank contracts: E||C(x) - x||^2 <= (1 - delta)||x||^2, and every draw is a projection",
          "[compress][lowrank][statistics]") {
  // Blocks 20 x 30 and 8 x 8, 10 coordinates in no block: delta = min(r/20, r/8) = r/20.
  const std::vector<MatrixBlock> layout = {{0, 20, 30}, {600, 8, 8}};
  const Eigen::Index d = 674;
  Rng input_rng(4);
  std::vector<Eigen::VectorXf> inputs;
  inputs.push_back(gaussian(d, input_rng));
  Eigen::VectorXf noisy_low_rank = 0.01f * gaussian(d, input_rng);  // rank 2 plus a little noise
  block_of(noisy_low_rank, layout[0]) += low_rank_matrix(20, 30, 2, input_rng);
  block_of(noisy_low_rank, layout[1]) += low_rank_matrix(8, 8, 2, input_rng);
  inputs.push_back(noisy_low_rank);
  Eigen::VectorXf orthonormal_rows = Eigen::VectorXf::Zero(d);  // the worst case: flat spectra
  block_of(orthonormal_rows, layout[0]).leftCols(20).setIdentity();
  block_of(orthonormal_rows, layout[1]).setIdentity();
  inputs.push_back(orthonormal_rows);
  Eigen::VectorXf decaying = gaussian(d, input_rng);  // a spectrum like a trained layer's
  for (Eigen::Index j = 0; j < 30; ++j) block_of(decaying, layout[0]).col(j) *= std::pow(0.8f, static_cast<float>(j));
  inputs.push_back(decaying);

  for (const Eigen::Index rank : {1, 3}) {
    LowRank c(rank, layout);
    const double delta = c.delta(d);
    CHECK(delta == Approx(static_cast<double>(rank) / 20));
    Rng rng(5);
    Message m;
    Eigen::VectorXf y(d);
    int which = 0;
    for (const Eigen::VectorXf& input : inputs) {
      INFO("R = " << rank << ", input " << which++);
      const Eigen::VectorXd xd = input.cast<double>();
      const int draws = 400;
      double sum = 0, sum_sq = 0, worst = 0;
      for (int t = 0; t < draws; ++t) {
        c.encode(input, rng, m);
        c.decode(m, y);
        const double e = (y.cast<double>() - xd).squaredNorm();
        sum += e;
        sum_sq += e * e;
        worst = std::max(worst, e);
      }
      const double mean = sum / draws;
      const double se = std::sqrt(std::max(0.0, (sum_sq - draws * mean * mean) / (draws - 1)) / draws);
      CHECK(mean <= (1 - delta) * xd.squaredNorm() + 5 * se + 1e-5 * xd.squaredNorm());
      CHECK(worst <= xd.squaredNorm() * (1 + 1e-5));
    }
  }
}

TEST_CASE("lowrank delta is tight: a block with orthonormal rows keeps exactly r / min(rows, cols) of its energy",
          "[compress][lowrank]") {
  Rng rng(6);
  Message m;
  for (const Eigen::Index rank : {1, 2, 5}) {
    const MatrixBlock b{0, 6, 9};
    Eigen::VectorXf x = Eigen::VectorXf::Zero(54);
    // Orthonormal rows from the QR of a Gaussian matrix.
    const Eigen::MatrixXf g = low_rank_matrix(9, 6, 6, rng);
    const Eigen::MatrixXf basis = Eigen::HouseholderQR<Eigen::MatrixXf>(g).householderQ() * Eigen::MatrixXf::Identity(9, 6);
    block_of(x, b) = 2.0f * basis.transpose();
    LowRank c(rank, {b});
    CHECK(c.delta(54) == Approx(static_cast<double>(rank) / 6));
    for (int t = 0; t < 20; ++t) {
      c.encode(x, rng, m);
      const double error = (c.decode(m) - x).cast<double>().squaredNorm();
      CHECK(error == Approx((1 - c.delta(54)) * x.cast<double>().squaredNorm()).epsilon(1e-5));
    }
  }
}

TEST_CASE("lowrank sends the coordinates in no block exactly", "[compress][lowrank]") {
  Rng rng(7);
  Eigen::VectorXf x = gaussian(90, rng);
  const float extremes[] = {std::numeric_limits<float>::max(), -std::numeric_limits<float>::denorm_min(), -0.0f,
                            std::numeric_limits<float>::min(), 1e-45f, -3.0e38f};
  std::size_t next = 0;
  for (Eigen::Index i = 0; i < x.size() && next < std::size(extremes); i += 5)
    if (!in_a_block(gapped, i)) x[i] = extremes[next++];
  REQUIRE(next == std::size(extremes));
  for (const Eigen::Index rank : {1, 2}) {
    LowRank c(rank, gapped);
    Message m;
    c.encode(x, rng, m);
    const Eigen::VectorXf y = c.decode(m);
    int uncovered = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      if (in_a_block(gapped, i)) continue;
      ++uncovered;
      INFO("coordinate " << i);
      CHECK(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(x[i]));
    }
    CHECK(uncovered == 90 - (21 + 24 + 5));
  }
}

TEST_CASE("matrix layouts: validate_layout and the lowrank constructor reject bad blocks", "[compress][lowrank]") {
  CHECK_NOTHROW(validate_layout(gapped, 67));
  CHECK_NOTHROW(validate_layout(std::vector<MatrixBlock>{}, 1));
  CHECK_NOTHROW(validate_layout(std::vector<MatrixBlock>{{0, 2, 3}, {6, 3, 1}}, 9));  // adjacent
  CHECK(layout_end(gapped) == 67);
  CHECK(layout_end(std::vector<MatrixBlock>{}) == 0);
  CHECK_THROWS_WITH(validate_layout(gapped, 66), Contains("block 2 (offset 62, 1 x 5) does not fit") &&
                                                     Contains("dimension 66"));
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{0, 0, 3}}, 10), Contains("rows and cols >= 1"));
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{0, 3, -1}}, 10), Contains("rows and cols >= 1"));
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{-1, 2, 2}}, 10), Contains("does not fit"));
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{0, Eigen::Index{1} << 40, Eigen::Index{1} << 40}}, 100),
                    Contains("does not fit"));  // rows * cols would overflow
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{10, 2, 2}, {0, 3, 4}}, 20),
                    Contains("block 0 (offset 10, 2 x 2) overlaps block 1 (offset 0, 3 x 4)"));
  CHECK_THROWS_WITH(validate_layout(std::vector<MatrixBlock>{{0, 2, 2}, {0, 2, 2}}, 20), Contains("overlaps"));

  CHECK_THROWS_WITH(LowRank(2, {}), Contains("no blocks"));
  CHECK_THROWS_WITH(LowRank(0, gapped), Contains("rank must be >= 1"));
  CHECK_THROWS_WITH(LowRank(2, {{0, 2, 2}, {3, 2, 2}}), Contains("overlaps"));
  CHECK_THROWS_WITH(LowRank(2, {{0, Eigen::Index{1} << 16, Eigen::Index{1} << 16}}), Contains("does not fit"));

  // d below the end of the layout: every entry point that takes d refuses it.
  LowRank c(2, gapped);
  Rng rng(8);
  Message m;
  CHECK_THROWS_WITH(c.encode(gaussian(66, rng), rng, m), Contains("smaller than the end of its matrix layout, 67"));
  CHECK_THROWS_AS(c.message_bytes(66), std::invalid_argument);
  CHECK_THROWS_AS(c.delta(66), std::invalid_argument);
  CHECK_NOTHROW(c.message_bytes(67));
}

TEST_CASE("lowrank is deterministic for a seed and draws cols * r normals per block", "[compress][lowrank]") {
  Rng input_rng(9);
  const Eigen::VectorXf x = gaussian(80, input_rng);
  LowRank c(2, gapped);
  Message a, b, other;
  Rng ra(42), rb(42), rc(43);
  c.encode(x, ra, a);
  c.encode(x, rb, b);
  c.encode(x, rc, other);
  CHECK(a.bytes == b.bytes);
  CHECK(a.bytes != other.bytes);
  // Blocks 7 x 3, 4 x 6 and 1 x 5 with r = 2, 2, 1: 3 * 2 + 6 * 2 + 5 * 1 = 23 normals.
  Rng expected(42);
  for (int i = 0; i < 23; ++i) expected.normal();
  CHECK(ra.normal() == expected.normal());
  CHECK(ra() == expected());
}

TEST_CASE("lowrank rejects non-finite input and corrupt messages", "[compress][lowrank]") {
  Rng rng(10);
  LowRank c(2, gapped);
  Message m;
  for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    for (const Eigen::Index i : {0, 6, 45, 79}) {  // a gap, two blocks, the tail
      Eigen::VectorXf x = gaussian(80, rng);
      x[i] = bad;
      INFO("coordinate " << i << " = " << bad);
      CHECK_THROWS_WITH(c.encode(x, rng, m), Contains("finite input"));
    }
  }
  // A block whose M^T P overflows a float although every entry is finite.
  Eigen::VectorXf huge = Eigen::VectorXf::Zero(80);
  block_of(huge, gapped[0]).setConstant(3e38f);
  CHECK_THROWS_WITH(c.encode(huge, rng, m), Contains("overflows a float"));

  const Eigen::VectorXf x = gaussian(80, rng);
  c.encode(x, rng, m);
  Eigen::VectorXf y(80);
  CHECK_NOTHROW(c.decode(m, y));
  const auto with_float = [&](std::size_t at, float value) {
    Message bad = m;
    store_f32(bad.bytes.data() + at, value);
    return bad;
  };
  // The first block (7 x 3, r = 2): P at bytes 4 .. 60, Q' at 60 .. 84.
  CHECK_THROWS_WITH(c.decode(with_float(4, std::numeric_limits<float>::quiet_NaN()), y), Contains("column 0 of P"));
  CHECK_THROWS_WITH(c.decode(with_float(4 + 4 * 7, 5.0f), y),
                    Contains("column 1 of P"));
  CHECK_THROWS_WITH(c.decode(with_float(60, std::numeric_limits<float>::infinity()), y), Contains("Q'"));
  CHECK_THROWS_WITH(c.decode(with_float(m.bytes.size() - 4, std::numeric_limits<float>::quiet_NaN()), y),
                    Contains("outside the matrix blocks"));
  Message truncated = m;
  truncated.bytes.pop_back();
  CHECK_THROWS_AS(c.decode(truncated, y), std::invalid_argument);
  Message extended = m;
  extended.bytes.push_back(0);
  CHECK_THROWS_AS(c.decode(extended, y), std::invalid_argument);
  Eigen::VectorXf short_out(66);
  Message short_message = m;
  short_message.bytes[0] = 66;
  CHECK_THROWS_AS(c.decode(short_message, short_out), std::invalid_argument);
}

TEST_CASE("make_compressor builds lowrank:R from a layout and rejects bad lowrank specs",
          "[compress][lowrank][factory]") {
  auto c = make_compressor("lowrank:4", gapped);
  CHECK(c->name() == "lowrank:4");
  CHECK_FALSE(c->unbiased());
  CHECK(c->delta(80) == 1);  // r = min(4, rows, cols) is the full rank of all three blocks
  CHECK(make_compressor("lowrank:2", gapped)->delta(80) == Approx(0.5));  // 2/3, 2/4 and 1/1
  CHECK(c->message_bytes(80) == expected_bytes(gapped, 4, 80));
  CHECK(make_compressor(c->name(), gapped)->name() == "lowrank:4");
  CHECK(make_compressor("lowrank:007", gapped)->name() == "lowrank:7");
  CHECK(make_compressor("topk:0.1", gapped)->name() == "topk:0.1");  // other specs ignore the layout
  CHECK(make_compressor("none", std::vector<MatrixBlock>{})->name() == "none");
  const std::vector<std::string> names = compressor_names();
  CHECK(std::find(names.begin(), names.end(), "lowrank:R") != names.end());

  for (const char* spec : {"lowrank", "lowrank:", "lowrank:0", "lowrank:-2", "lowrank:x", "lowrank:2.5", "lowrank:4x",
                           "LOWRANK:4"}) {
    INFO(spec);
    CHECK_THROWS_WITH(make_compressor(spec, gapped), Contains("'" + std::string(spec) + "'") && Contains("lowrank:R"));
  }
  CHECK_THROWS_WITH(make_compressor("lowrank:0", gapped), Contains("rank R must be >= 1"));
  CHECK_THROWS_WITH(make_compressor("lowrank:x", gapped), Contains("not a number"));
  CHECK_THROWS_WITH(make_compressor("lowrank:4"), Contains("'lowrank:4'") && Contains("matrix layout"));
  CHECK_THROWS_WITH(make_compressor("lowrank:4", std::vector<MatrixBlock>{}),
                    Contains("'lowrank:4'") && Contains("no blocks"));
  CHECK_THROWS_WITH(make_compressor("lowrank:4", std::vector<MatrixBlock>{{0, 2, 2}, {1, 2, 2}}),
                    Contains("overlaps"));
}
