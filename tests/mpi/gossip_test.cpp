// Gossip on real ranks, checked against dense products computed independently on every rank,
// and against the same run on a single rank (bitwise).
#include "decent/gossip/gossip.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "decent/core/random.hpp"
#include "decent/model/blocks.hpp"
#include "decent/model/factory.hpp"
#include "decent/topology/spectral.hpp"
#include "decent/topology/topology.hpp"

using namespace decent;

namespace {

/// Node j's initial parameters, the same on every rank: uniform in [-1, 1) from stream (seed, j).
Eigen::MatrixXd initial(int n, int dim, std::uint64_t seed = 17) {
  Eigen::MatrixXd x(dim, n);
  for (int j = 0; j < n; ++j) {
    Rng rng(derive_seed(seed, {static_cast<std::uint64_t>(j)}));
    for (int r = 0; r < dim; ++r) x(r, j) = 2 * rng.uniform() - 1;
  }
  return x;
}

/// The columns of `all` hosted by this gossip's rank, as floats.
Eigen::MatrixXf local_columns(const Gossip& g, const Eigen::MatrixXd& all) {
  return all.middleCols(g.first_node(), g.local_count()).cast<float>();
}

double global_max(const Comm& c, double v) { return c.allreduce(v, ReduceOp::max); }

/// ||X - mean||_F over all nodes, with the mean known in closed form.
double distance_to(const Comm& c, const Eigen::MatrixXf& x, const Eigen::VectorXd& mean) {
  double local = 0;
  for (Eigen::Index k = 0; k < x.cols(); ++k) local += (x.col(k).cast<double>() - mean).squaredNorm();
  return std::sqrt(c.allreduce(local, ReduceOp::sum));
}

const char* specs[] = {"ring", "torus", "exponential", "one-peer-exponential", "star", "erdos-renyi:0.4",
                       "random:0.7", "random:2.5", "base:1", "base:2", "complete"};

}  // namespace

TEST_CASE("a gossip round equals the dense product W X", "[gossip]") {
  const Comm world = Comm::world();
  const int dim = 37;
  for (int n : {4, 7, 13}) {  // >= 4 ranks, and not all multiples of the rank count
    for (const char* spec : specs) {
      INFO(spec << " on n = " << n);
      const auto topology = make_topology(spec, n);
      Gossip gossip(world, Placement(n, world.size()), dim);
      Eigen::MatrixXd expected = initial(n, dim);
      Eigen::MatrixXf x = local_columns(gossip, expected);
      double error = 0;
      for (std::int64_t round = 0; round < 3; ++round) {
        const MixingMatrix w = topology->mixing_matrix(round);
        expected = expected * w.dense().transpose();  // column i of X W^T is sum_j W_ij x_j
        gossip.round(w, x);
        error = std::max(error, (x.cast<double>() - expected.middleCols(gossip.first_node(), gossip.local_count()))
                                    .cwiseAbs()
                                    .maxCoeff());
      }
      CHECK(global_max(world, error) < 1e-5);
    }
  }
}

TEST_CASE("gossip results are bitwise identical on 1 rank and on all ranks", "[gossip]") {
  const Comm world = Comm::world();
  const Comm self = Comm::self();
  const int n = 13, dim = 4099;  // dim > one chunk, not a multiple of it
  for (const char* spec : specs) {
    INFO(spec);
    const auto topology = make_topology(spec, n);
    Gossip distributed(world, Placement(n, world.size()), dim);
    Gossip serial(self, Placement(n, 1), dim);
    const Eigen::MatrixXd x0 = initial(n, dim);
    Eigen::MatrixXf x = local_columns(distributed, x0);
    Eigen::MatrixXf all = x0.cast<float>();
    for (std::int64_t round = 0; round < 6; ++round) {
      const MixingMatrix w = topology->mixing_matrix(round);
      distributed.round(w, x);
      serial.round(w, all);
    }
    const Eigen::MatrixXf mine = all.middleCols(distributed.first_node(), distributed.local_count());
    const bool same = std::memcmp(mine.data(), x.data(), sizeof(float) * static_cast<std::size_t>(x.size())) == 0;
    CHECK(world.allreduce(same ? 0 : 1, ReduceOp::max) == 0);
  }
}

TEST_CASE("50 rounds on a ring converge to the mean at the rate the spectral gap predicts", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 16, dim = 64;
  const auto ring = make_topology("ring", n);
  const MixingMatrix w = ring->mixing_matrix(0);
  const double rho = 1 - spectral_gap(w);  // (1 + 2 cos(2 pi/16))/3 = 0.9492
  Gossip gossip(world, Placement(n, world.size()), dim);
  const Eigen::MatrixXd x0 = initial(n, dim);
  const Eigen::VectorXd mean = x0.rowwise().mean();
  Eigen::MatrixXf x = local_columns(gossip, x0);
  std::vector<double> distance{distance_to(world, x, mean)};
  for (int t = 1; t <= 50; ++t) {
    gossip.round(w, x);
    distance.push_back(distance_to(world, x, mean));
  }
  for (int t = 1; t <= 50; ++t) CHECK(distance[t] <= std::pow(rho, t) * distance[0] * (1 + 1e-5));
  // A generic start is dominated by the slowest mode, so the per-round factor approaches rho itself.
  const double late_rate = std::pow(distance[50] / distance[40], 0.1);
  CHECK(late_rate == Approx(rho).epsilon(0.01));
}

TEST_CASE("one period of the one-peer exponential graph averages exactly (n = 2^k)", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 16, dim = 10;
  const auto topology = make_topology("one-peer-exponential", n);
  Gossip gossip(world, Placement(n, world.size()), dim);
  const Eigen::MatrixXd x0 = initial(n, dim);
  Eigen::MatrixXf x = local_columns(gossip, x0);
  for (int t = 0; t < topology->period(); ++t) gossip.round(topology->mixing_matrix(t), x);
  const Eigen::VectorXd mean = x0.rowwise().mean();
  CHECK(global_max(world, (x.cast<double>().colwise() - mean).cwiseAbs().maxCoeff()) < 1e-6);
}

TEST_CASE("merge gives every node the mean, equal across rank counts to float rounding", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 11, dim = 5000;
  Gossip distributed(world, Placement(n, world.size()), dim);
  Gossip serial(Comm::self(), Placement(n, 1), dim);
  const Eigen::MatrixXd x0 = initial(n, dim) * 1000.0;
  Eigen::MatrixXf x = local_columns(distributed, x0);
  Eigen::MatrixXf all = x0.cast<float>();
  const RoundStats stats = distributed.merge(x);
  serial.merge(all);
  // Reference: the mean of the float inputs, in double.
  const Eigen::VectorXd mean = x0.cast<float>().cast<double>().rowwise().mean();
  double error = 0, across = 0;
  for (Eigen::Index k = 0; k < x.cols(); ++k) {
    error = std::max(error, ((x.col(k).cast<double>() - mean).array() / mean.array().abs().max(1.0)).abs().maxCoeff());
    across = std::max(across, static_cast<double>((x.col(k) - all.col(0)).cwiseAbs().maxCoeff() /
                                                  std::max(1.0f, all.col(0).cwiseAbs().maxCoeff())));
  }
  CHECK(global_max(world, error) < 1e-7);    // float rounding of the exact mean
  CHECK(global_max(world, across) < 2e-7);   // one float ulp at most
  CHECK((world.size() == 1) == (stats.bytes_sent == 0));
}

TEST_CASE("parameters with padded columns (outer stride > dim) gossip the same", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 9, dim = 21, stride = 32;
  const auto topology = make_topology("random:3", n);
  Gossip gossip(world, Placement(n, world.size()), dim);
  const Eigen::MatrixXd x0 = initial(n, dim);
  Eigen::MatrixXf packed = local_columns(gossip, x0);
  std::vector<float> buffer(static_cast<std::size_t>(stride) * gossip.local_count(), -7.0f);
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> padded(buffer.data(), dim, gossip.local_count(),
                                                               Eigen::OuterStride<>(stride));
  padded = packed;
  for (std::int64_t round = 0; round < 4; ++round) {
    gossip.round(topology->mixing_matrix(round), packed);
    gossip.round(topology->mixing_matrix(round), padded);
  }
  CHECK(world.allreduce(packed == Eigen::MatrixXf(padded) ? 0 : 1, ReduceOp::max) == 0);
  CHECK(buffer[static_cast<std::size_t>(dim)] == -7.0f);  // padding untouched
}

TEST_CASE("bytes sent count only what crosses ranks", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 8, dim = 100;
  Gossip gossip(world, Placement(n, world.size()), dim);
  Eigen::MatrixXf x = local_columns(gossip, initial(n, dim));
  const RoundStats stats = gossip.round(make_topology("ring", n)->mixing_matrix(0), x);
  // Block placement on a ring: each rank sends its two boundary nodes, in one message when a single
  // other rank holds both neighbours (p = 2), else one message to each side.
  const int p = world.size();
  const std::uint64_t expected = p == 1 ? 0 : 2 * dim * sizeof(float);
  CHECK(stats.bytes_sent == expected);
  CHECK(stats.messages_sent == (p == 1 ? 0 : (p == 2 ? 1 : 2)));
}

TEST_CASE("mismatched shapes are rejected before any communication", "[gossip]") {
  const Comm world = Comm::world();
  Gossip gossip(world, Placement(8, world.size()), 5);
  Eigen::MatrixXf wrong(6, gossip.local_count());
  CHECK_THROWS_WITH(gossip.round(make_topology("ring", 8)->mixing_matrix(0), wrong), Catch::Contains("expected dim"));
  Eigen::MatrixXf right(5, gossip.local_count());
  CHECK_THROWS_WITH(gossip.round(make_topology("ring", 9)->mixing_matrix(0), right), Catch::Contains("9 nodes"));
  CHECK_THROWS_AS(Gossip(world, Placement(8, world.size() + 1), 5), std::invalid_argument);
}

TEST_CASE("the traffic plan is built once per sparsity pattern and reused", "[gossip]") {
  const Comm world = Comm::world();
  const int n = 16, dim = 300;
  const Eigen::MatrixXd x0 = initial(n, dim);
  SECTION("a static graph plans once, whatever its weights") {
    Gossip gossip(world, Placement(n, world.size()), dim);
    Eigen::MatrixXf x = local_columns(gossip, x0);
    const auto ring = make_topology("ring", n);
    for (int t = 0; t < 5; ++t) gossip.round(ring->mixing_matrix(t), x);
    CHECK(gossip.plans_built() == 1);
    // The same pattern with other weights reuses the plan and mixes with the new weights.
    MixingMatrix::Triplets entries;
    for (int i = 0; i < n; ++i) {
      entries.emplace_back(i, i, 0.5);
      entries.emplace_back(i, (i + 1) % n, 0.25);
      entries.emplace_back(i, (i + n - 1) % n, 0.25);
    }
    const MixingMatrix lazy = MixingMatrix::from_triplets(n, entries);
    Eigen::MatrixXd expected = x.cast<double>();
    gossip.round(lazy, x);
    CHECK(gossip.plans_built() == 1);
    // Every node's own column: 0.5 x_i + 0.25 (x_{i-1} + x_{i+1}) up to float rounding.
    Eigen::MatrixXd all = Eigen::MatrixXd::Zero(dim, n);
    const std::vector<double> gathered =
        world.allgatherv(std::span<const double>(expected.data(), static_cast<std::size_t>(expected.size())));
    all = Eigen::Map<const Eigen::MatrixXd>(gathered.data(), dim, n);
    const Eigen::MatrixXd want = all * lazy.dense().transpose();
    const double error =
        (x.cast<double>() - want.middleCols(gossip.first_node(), gossip.local_count())).cwiseAbs().maxCoeff();
    CHECK(global_max(world, error) < 1e-5);
    // Another stride is another plan (its datatypes differ).
    std::vector<float> buffer(static_cast<std::size_t>(dim + 7) * gossip.local_count());
    Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>> padded(buffer.data(), dim, gossip.local_count(),
                                                               Eigen::OuterStride<>(dim + 7));
    padded = x;
    gossip.round(ring->mixing_matrix(0), padded);
    CHECK(gossip.plans_built() == 2);
  }
  SECTION("a cyclic graph plans once per round of its period") {
    Gossip gossip(world, Placement(n, world.size()), dim);
    Eigen::MatrixXf x = local_columns(gossip, x0);
    const auto topology = make_topology("one-peer-exponential", n);  // period log2(16) = 4
    for (int t = 0; t < 3 * topology->period(); ++t) gossip.round(topology->mixing_matrix(t), x);
    CHECK(gossip.plans_built() == topology->period());
  }
  SECTION("evicted and rebuilt plans give the same results as fresh ones") {
    // Random rounds: a new pattern nearly every round, more than the cache holds; then the first rounds'
    // patterns again. A fresh Gossip per round (no cache at all) must give bitwise the same results.
    Gossip cached(world, Placement(n, world.size()), dim);
    Eigen::MatrixXf x = local_columns(cached, x0), y = x;
    const auto topology = make_topology("random:1.5", n);
    std::vector<std::int64_t> rounds;
    for (std::int64_t t = 0; t < 40; ++t) rounds.push_back(t);
    for (std::int64_t t = 0; t < 20; ++t) rounds.push_back(t);
    for (std::int64_t t : rounds) {
      const MixingMatrix w = topology->mixing_matrix(t);
      const RoundStats a = cached.round(w, x);
      Gossip fresh(world, Placement(n, world.size()), dim);
      const RoundStats b = fresh.round(w, y);
      CHECK(a.bytes_sent == b.bytes_sent);
      CHECK(a.messages_sent == b.messages_sent);
    }
    const bool same = std::memcmp(x.data(), y.data(), sizeof(float) * static_cast<std::size_t>(x.size())) == 0;
    CHECK(world.allreduce(same ? 0 : 1, ReduceOp::max) == 0);
    CHECK(cached.plans_built() > 16);
  }
}

TEST_CASE("head-only averaging touches exactly the head's range", "[gossip][blocks]") {
  const Comm world = Comm::world();
  ModelOptions o;
  o.name = "cnn-small";
  o.input = {1, 28, 28};
  const auto model = make_model(o);
  const int n = 6;
  const int dim = static_cast<int>(model->parameter_count());
  const std::vector<IndexRange> head = block_ranges(select_blocks(model->blocks(), "head"));
  REQUIRE(head == std::vector<IndexRange>{{dim - (128 * 10 + 10), 128 * 10 + 10}});
  const Placement placement(n, world.size());
  Gossip gossip(world, placement, static_cast<std::size_t>(dim));
  const Eigen::MatrixXd all = initial(n, dim, 5);
  Eigen::MatrixXf x = local_columns(gossip, all);
  const Eigen::MatrixXf before = x;
  gossip.merge(x, head);
  const Eigen::VectorXd mean = all.rowwise().mean();
  const Eigen::Index start = head[0].offset, length = head[0].length;
  double head_error = 0;
  bool rest_untouched = true;
  for (Eigen::Index k = 0; k < x.cols(); ++k) {
    head_error = std::max(head_error, (x.col(k).segment(start, length).cast<double>() - mean.segment(start, length))
                                          .cwiseAbs().maxCoeff());
    rest_untouched = rest_untouched && x.col(k).head(start) == before.col(k).head(start);
  }
  CHECK(global_max(world, head_error) < 1e-7);
  CHECK(world.allreduce(rest_untouched ? 1 : 0, ReduceOp::min) == 1);
  const std::vector<IndexRange> overlapping = {{0, 10}, {5, 10}};
  CHECK_THROWS_WITH(gossip.merge(x, overlapping), Catch::Matchers::Contains("unsorted, overlaps"));
}
