// CHOCO-Gossip on real ranks: against a dense reference of its equations computed on every rank, the
// same run on one rank (bitwise), and its byte accounting.
#include "decent/gossip/choco.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "decent/core/random.hpp"
#include "decent/topology/topology.hpp"
#include "support/dense_top_k.hpp"

using namespace decent;
using decent::test::dense_top_k;

namespace {

/// Node j's parameters, the same on every rank: uniform in [-1, 1) from stream (seed, j).
Eigen::MatrixXf initial(int n, int dim, std::uint64_t seed = 23) {
  Eigen::MatrixXf x(dim, n);
  for (int j = 0; j < n; ++j) {
    Rng rng(derive_seed(seed, {static_cast<std::uint64_t>(j)}));
    for (int r = 0; r < dim; ++r) x(r, j) = static_cast<float>(2 * rng.uniform() - 1);
  }
  return x;
}

/// Padded storage as the training loop uses it (64-byte aligned columns), viewed as dim x count.
struct Columns {
  Eigen::MatrixXf storage;
  int dim;
  Columns(const Eigen::MatrixXf& x) : storage(Eigen::MatrixXf::Zero((x.rows() + 15) / 16 * 16, x.cols())), dim(static_cast<int>(x.rows())) {
    storage.topRows(dim) = x;
  }
  Eigen::Block<Eigen::MatrixXf> view() { return storage.topRows(dim); }
};

double global_max(const Comm& c, double v) { return c.allreduce(v, ReduceOp::max); }

const char* specs[] = {"ring", "torus", "exponential", "one-peer-exponential", "base:2", "random:0.7", "star"};

}  // namespace

TEST_CASE("choco readers are the union of every round's in-neighbours", "[choco]") {
  const auto ring = make_topology("ring", 6);
  const auto readers = choco_readers(*ring);
  CHECK(readers[0] == std::vector<int>{1, 5});
  CHECK(readers[3] == std::vector<int>{2, 4});
  // One-peer exponential on 8 nodes: over its period node 0 is read by 8-1, 8-2, 8-4 (it sends to i - 2^k).
  const auto one_peer = make_topology("one-peer-exponential", 8);
  std::vector<int> expected;
  for (std::int64_t round = 0; round < one_peer->period(); ++round) {
    const MixingMatrix w = one_peer->mixing_matrix(round);
    for (int i = 1; i < 8; ++i)
      if (w.weight(i, 0) != 0) expected.push_back(i);
  }
  std::sort(expected.begin(), expected.end());
  CHECK(choco_readers(*one_peer)[0] == expected);
  CHECK(choco_readers(*make_topology("random:0.5", 5))[2] == std::vector<int>{0, 1, 3, 4});
}

TEST_CASE("choco rounds follow the equations with top-k, on every topology", "[choco]") {
  const Comm world = Comm::world();
  const int n = 7, dim = 50, k = 5;
  const float gamma = 0.4f;
  for (const char* spec : specs) {
    INFO(spec);
    const auto topology = make_topology(spec, n);
    const Placement placement(n, world.size());
    ChocoGossip choco(world, placement, dim, choco_readers(*topology), make_compressor("topk:" + std::to_string(k)), 3);
    Eigen::MatrixXf x = initial(n, dim);  // reference, every node on every rank
    Eigen::MatrixXf copies = Eigen::MatrixXf::Zero(dim, n);
    Columns mine(x.middleCols(placement.first(world.rank()), placement.count(world.rank())));
    double error = 0;
    for (std::int64_t round = 0; round < 6; ++round) {
      const MixingMatrix w = topology->mixing_matrix(round);
      for (int j = 0; j < n; ++j) copies.col(j) += dense_top_k(x.col(j) - copies.col(j), k);
      const Eigen::MatrixXd wd = w.dense();
      Eigen::MatrixXf next = x;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          if (j != i && wd(i, j) != 0) next.col(i) += gamma * static_cast<float>(wd(i, j)) * (copies.col(j) - copies.col(i));
      x = next;
      choco.round(w, mine.view(), gamma);
      error = std::max(error, static_cast<double>((mine.view() - x.middleCols(placement.first(world.rank()),
                                                                              placement.count(world.rank())))
                                                      .cwiseAbs()
                                                      .maxCoeff()));
      for (int kk = 0; kk < placement.count(world.rank()); ++kk)
        error = std::max(error, static_cast<double>((choco.public_copy(placement.first(world.rank()) + kk) -
                                                     copies.col(placement.first(world.rank()) + kk))
                                                        .cwiseAbs()
                                                        .maxCoeff()));
    }
    CHECK(global_max(world, error) < 1e-5);
  }
}

TEST_CASE("choco with the identity compressor and gamma = 1 is a gossip round W X", "[choco]") {
  const Comm world = Comm::world();
  const int n = 9, dim = 33;
  for (const char* spec : specs) {
    INFO(spec);
    const auto topology = make_topology(spec, n);
    const Placement placement(n, world.size());
    ChocoGossip choco(world, placement, dim, choco_readers(*topology), make_compressor("none"), 3);
    Eigen::MatrixXd expected = initial(n, dim).cast<double>();
    Columns mine(expected.middleCols(placement.first(world.rank()), placement.count(world.rank())).cast<float>());
    double error = 0;
    for (std::int64_t round = 0; round < 4; ++round) {
      const MixingMatrix w = topology->mixing_matrix(round);
      expected = expected * w.dense().transpose();
      choco.round(w, mine.view(), 1.0f);
      error = std::max(error, (mine.view().cast<double>() - expected.middleCols(placement.first(world.rank()),
                                                                                placement.count(world.rank())))
                                  .cwiseAbs()
                                  .maxCoeff());
    }
    CHECK(global_max(world, error) < 1e-5);
  }
}

TEST_CASE("choco results are bitwise identical on 1 rank and on all ranks", "[choco]") {
  const Comm world = Comm::world(), self = Comm::self();
  const int n = 11, dim = 2053;
  for (const char* compressor : {"topk:0.05", "randk:0.1", "qsgd:8", "sign"}) {
    for (const char* spec : {"ring", "one-peer-exponential", "random:0.5"}) {
      INFO(compressor << " on " << spec);
      const auto topology = make_topology(spec, n);
      const Placement placement(n, world.size());
      ChocoGossip distributed(world, placement, dim, choco_readers(*topology), make_compressor(compressor), 9);
      ChocoGossip serial(self, Placement(n, 1), dim, choco_readers(*topology), make_compressor(compressor), 9);
      const Eigen::MatrixXf x0 = initial(n, dim);
      Columns all(x0), mine(x0.middleCols(placement.first(world.rank()), placement.count(world.rank())));
      for (std::int64_t round = 0; round < 5; ++round) {
        const MixingMatrix w = topology->mixing_matrix(round);
        const RoundStats stats = distributed.round(w, mine.view(), 0.3f, round == 0);
        serial.round(w, all.view(), 0.3f, round == 0);
        if (world.size() == 1) CHECK(stats.bytes_sent == 0);
      }
      const Eigen::MatrixXf expected = all.view().middleCols(placement.first(world.rank()), placement.count(world.rank()));
      const int same = mine.view() == expected ? 1 : 0;
      CHECK(world.allreduce(same, ReduceOp::min) == 1);
    }
  }
}

TEST_CASE("choco preserves the mean on symmetric graphs and reaches consensus with top-k", "[choco]") {
  const Comm world = Comm::world();
  const int n = 8, dim = 200;
  const auto topology = make_topology("ring", n);
  const Placement placement(n, world.size());
  ChocoGossip choco(world, placement, dim, choco_readers(*topology), make_compressor("topk:0.1"), 4);
  const Eigen::MatrixXf x0 = initial(n, dim);
  const Eigen::VectorXd mean = x0.cast<double>().rowwise().mean();
  Columns mine(x0.middleCols(placement.first(world.rank()), placement.count(world.rank())));
  const auto distance = [&] {
    double local = 0;
    for (Eigen::Index c = 0; c < mine.view().cols(); ++c) local += (mine.view().col(c).cast<double>() - mean).squaredNorm();
    return std::sqrt(world.allreduce(local, ReduceOp::sum));
  };
  const double start = distance();
  const MixingMatrix w = topology->mixing_matrix(0);
  for (int round = 0; round < 400; ++round) choco.round(w, mine.view(), 0.2f);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(dim);
  for (Eigen::Index c = 0; c < mine.view().cols(); ++c) sum += mine.view().col(c).cast<double>();
  world.allreduce(std::span<double>(sum.data(), dim), ReduceOp::sum);
  CHECK((sum / n - mean).cwiseAbs().maxCoeff() < 1e-4);
  CHECK(distance() < 1e-3 * start);
}

TEST_CASE("choco counts every message once per reader, and refuses edges it keeps no copies for", "[choco]") {
  const Comm world = Comm::world();
  const int n = 6, dim = 1000;
  const auto ring = make_topology("ring", n);
  ChocoGossip choco(world, Placement(n, world.size()), dim, choco_readers(*ring), make_compressor("topk:10"), 1);
  const std::size_t message = make_compressor("topk:10")->message_bytes(dim);
  CHECK(choco.message_bytes() == message);
  CHECK(choco.round_bytes() == 2 * n * message);
  CHECK(choco.round_bytes(true) == 2 * n * (4 + 4 * dim));
  Eigen::MatrixXf x = Eigen::MatrixXf::Zero(dim, choco.local_count());
  const MixingMatrix complete = make_topology("complete", n)->mixing_matrix(0);
  CHECK_THROWS_AS(choco.round(complete, x, 0.5f), std::invalid_argument);
  CHECK_THROWS_AS(ChocoGossip(world, Placement(n + 1, world.size()), dim, choco_readers(*ring), make_compressor("sign"), 1),
                  std::invalid_argument);
}

TEST_CASE("after a merge, synchronized copies keep the merged models together", "[choco]") {
  const Comm world = Comm::world();
  const int n = 6, dim = 64;
  const auto ring = make_topology("ring", n);
  const Placement placement(n, world.size());
  const Eigen::MatrixXf x0 = initial(n, dim).middleCols(placement.first(world.rank()), placement.count(world.rank()));
  ChocoGossip synced(world, placement, dim, choco_readers(*ring), make_compressor("topk:0.1"), 2);
  ChocoGossip stale(world, placement, dim, choco_readers(*ring), make_compressor("topk:0.1"), 2);
  Columns a(x0), b(x0);
  for (int round = 0; round < 5; ++round) {
    synced.round(ring->mixing_matrix(round), a.view(), 0.3f);
    stale.round(ring->mixing_matrix(round), b.view(), 0.3f);
  }
  // An exact merge: every column becomes the same vector; only `synced` is told.
  const Eigen::VectorXf merged = initial(n, dim, 99).col(0);
  a.view().colwise() = merged;
  b.view().colwise() = merged;
  synced.synchronize(merged);
  synced.round(ring->mixing_matrix(5), a.view(), 0.3f);
  stale.round(ring->mixing_matrix(5), b.view(), 0.3f);
  for (Eigen::Index k = 0; k < a.view().cols(); ++k) {
    CHECK(a.view().col(k) == merged);
    CHECK(synced.public_copy(placement.first(world.rank()) + static_cast<int>(k)) == merged);
  }
  // Without synchronizing, the copies from before the merge pull the merged models apart again.
  const double moved = (b.view().colwise() - merged).cwiseAbs().maxCoeff();
  CHECK(world.allreduce(moved, ReduceOp::max) > 1e-3);
  CHECK_THROWS_AS(synced.synchronize(Eigen::VectorXf(dim + 1)), std::invalid_argument);
}
