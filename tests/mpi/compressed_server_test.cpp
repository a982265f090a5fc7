// The compressed server on real ranks: its direction against a dense reference of the feedback rules
// computed on every rank, the same steps on one rank (bitwise), and its byte accounting.
#include "decent/gossip/compressed_server.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "decent/core/random.hpp"
#include "support/dense_top_k.hpp"

using namespace decent;
using decent::test::dense_top_k;

namespace {

/// Node j's gradient at step t, the same on every rank.
Eigen::MatrixXf gradients(int n, int dim, int t) {
  Eigen::MatrixXf g(dim, n);
  for (int j = 0; j < n; ++j) {
    Rng rng(derive_seed(41, {static_cast<std::uint64_t>(j), static_cast<std::uint64_t>(t)}));
    for (int r = 0; r < dim; ++r) g(r, j) = static_cast<float>(rng.normal() + 0.5 * j);  // heterogeneous means
  }
  return g;
}

FeedbackOptions rule(ErrorFeedback r, float eta = 0.2f) {
  FeedbackOptions o;
  o.rule = r;
  o.econtrol_eta = eta;
  return o;
}

}  // namespace

TEST_CASE("the compressed server's direction follows the feedback equations", "[server]") {
  const Comm world = Comm::world();
  const int n = 6, dim = 40, k = 4;
  for (ErrorFeedback r : {ErrorFeedback::none, ErrorFeedback::ef, ErrorFeedback::ef21, ErrorFeedback::econtrol}) {
    INFO(to_string(r));
    const Placement placement(n, world.size());
    CompressedServer server(world, placement, dim, make_compressor("topk:" + std::to_string(k)), rule(r), 5);
    Eigen::MatrixXf e = Eigen::MatrixXf::Zero(dim, n), h = Eigen::MatrixXf::Zero(dim, n);
    Eigen::VectorXf direction(dim);
    double error = 0;
    for (int t = 0; t < 6; ++t) {
      const Eigen::MatrixXf g = gradients(n, dim, t);
      Eigen::VectorXd sum = Eigen::VectorXd::Zero(dim);
      for (int j = 0; j < n; ++j) {
        Eigen::VectorXf delta;
        switch (r) {
          case ErrorFeedback::none: delta = dense_top_k(g.col(j), k); break;
          case ErrorFeedback::ef:
            delta = dense_top_k(g.col(j) + e.col(j), k);
            e.col(j) += g.col(j) - delta;
            break;
          case ErrorFeedback::ef21:
            delta = dense_top_k(g.col(j) - h.col(j), k);
            h.col(j) += delta;
            break;
          default:
            delta = dense_top_k(0.2f * e.col(j) + g.col(j) - h.col(j), k);
            e.col(j) += g.col(j) - h.col(j) - delta;
            h.col(j) += delta;
        }
        sum += (r == ErrorFeedback::none || r == ErrorFeedback::ef ? delta : Eigen::VectorXf(h.col(j))).cast<double>();
      }
      const Eigen::VectorXf expected = (sum / n).cast<float>();
      CHECK(server.step(g.middleCols(placement.first(world.rank()), placement.count(world.rank())), direction) ==
            static_cast<std::uint64_t>(n * (n - 1)) * server.message_bytes());
      error = std::max(error, static_cast<double>((direction - expected).cwiseAbs().maxCoeff()));
    }
    CHECK(world.allreduce(error, ReduceOp::max) < 1e-5);
  }
}

TEST_CASE("compressed server steps are bitwise identical on 1 rank and on all ranks", "[server]") {
  const Comm world = Comm::world(), self = Comm::self();
  const int n = 7, dim = 301;
  for (const char* compressor : {"topk:0.05", "randk:0.1", "qsgd:4", "sign"}) {
    for (ErrorFeedback r : {ErrorFeedback::ef, ErrorFeedback::ef21_sgdm, ErrorFeedback::econtrol}) {
      INFO(compressor << " with " << to_string(r));
      const Placement placement(n, world.size());
      CompressedServer distributed(world, placement, dim, make_compressor(compressor), rule(r), 8);
      CompressedServer serial(self, Placement(n, 1), dim, make_compressor(compressor), rule(r), 8);
      Eigen::VectorXf a(dim), b(dim);
      int same = 1;
      for (int t = 0; t < 5; ++t) {
        const Eigen::MatrixXf g = gradients(n, dim, t);
        distributed.step(g.middleCols(placement.first(world.rank()), placement.count(world.rank())), a);
        serial.step(g, b);
        same &= a == b ? 1 : 0;
      }
      CHECK(world.allreduce(same, ReduceOp::min) == 1);
    }
  }
}

TEST_CASE("an exact server step is the mean gradient and resets the memory", "[server]") {
  const Comm world = Comm::world();
  const int n = 5, dim = 20;
  const Placement placement(n, world.size());
  CompressedServer server(world, placement, dim, make_compressor("topk:3"), rule(ErrorFeedback::econtrol), 2);
  const Eigen::MatrixXf g = gradients(n, dim, 0);
  const Eigen::MatrixXf mine = g.middleCols(placement.first(world.rank()), placement.count(world.rank()));
  Eigen::VectorXf direction(dim);
  CHECK(server.exact_step(mine, direction) == static_cast<std::uint64_t>(2 * (n - 1) * dim * 4));
  CHECK((direction - g.rowwise().mean()).cwiseAbs().maxCoeff() < 1e-5);
  for (int k = 0; k < placement.count(world.rank()); ++k) {
    CHECK(server.state(k).estimate == mine.col(k));
    CHECK(server.state(k).error.isZero(0));
  }
  // With unchanged gradients the next compressed step sends nothing new and keeps the direction.
  const Eigen::VectorXf before = direction;
  server.step(mine, direction);
  CHECK((direction - before).cwiseAbs().maxCoeff() < 1e-5);
  Eigen::VectorXf wrong(dim + 1);
  CHECK_THROWS_AS(server.step(mine, wrong), std::invalid_argument);
}
