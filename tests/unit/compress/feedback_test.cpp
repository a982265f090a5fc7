// Error feedback rules on one node, checked against hand-written dense references of the equations.
#include "decent/compress/feedback.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "support/error_of.hpp"
#include "support/dense_top_k.hpp"

using namespace decent;
using decent::test::dense_top_k;
using decent::test::error_of;

namespace {

/// Gradient of step t: a fixed vector plus a step-dependent part, so the sequence is not constant.
Eigen::VectorXf gradient(int t, Eigen::Index d) {
  Eigen::VectorXf g(d);
  for (Eigen::Index i = 0; i < d; ++i) g(i) = std::sin(0.7f * static_cast<float>(i) + 0.3f * static_cast<float>(t)) + 0.01f * static_cast<float>(i % 5);
  return g;
}

struct Runner {
  std::unique_ptr<Compressor> compressor;
  FeedbackNode node;
  FeedbackState state;
  Rng rng{5};
  Message message;
  Eigen::VectorXf decoded;
  Runner(const char* spec, FeedbackOptions options)
      : compressor(make_compressor(spec)), node(options, *compressor) {}
  const Eigen::VectorXf& step(const Eigen::VectorXf& g) {
    decoded.resize(g.size());
    node.compressed_step(g, state, rng, message, decoded);
    return decoded;
  }
};

FeedbackOptions rule(ErrorFeedback r, float eta = 0.1f) {
  FeedbackOptions o;
  o.rule = r;
  o.econtrol_eta = eta;
  o.sgdm_eta = eta;
  return o;
}

}  // namespace

TEST_CASE("error feedback names parse and print", "[feedback]") {
  for (const std::string& name : error_feedback_names()) CHECK(to_string(parse_error_feedback(name)) == name);
  CHECK_THAT(error_of<std::invalid_argument>([] { parse_error_feedback("ef22"); }),
             Catch::Contains("ef22") && Catch::Contains("econtrol"));
  const auto top = make_compressor("topk:2");
  CHECK_THROWS_AS(FeedbackNode(rule(ErrorFeedback::econtrol, -1.0f), *top), std::invalid_argument);
  CHECK_THROWS_AS(FeedbackNode(rule(ErrorFeedback::ef21_sgdm, 0.0f), *top), std::invalid_argument);
  CHECK_THROWS_AS(FeedbackNode(rule(ErrorFeedback::ef21_sgdm, 1.5f), *top), std::invalid_argument);
}

TEST_CASE("each rule matches its equations with top-k", "[feedback]") {
  const Eigen::Index d = 40, k = 4;
  const std::string spec = "topk:" + std::to_string(k);
  SECTION("none sends C(g)") {
    Runner r(spec.c_str(), rule(ErrorFeedback::none));
    for (int t = 0; t < 5; ++t) CHECK(r.step(gradient(t, d)) == dense_top_k(gradient(t, d), k));
  }
  SECTION("ef: Delta = C(g + e), e = g + e - Delta") {
    Runner r(spec.c_str(), rule(ErrorFeedback::ef));
    Eigen::VectorXf e = Eigen::VectorXf::Zero(d);
    for (int t = 0; t < 8; ++t) {
      const Eigen::VectorXf p = gradient(t, d) + e;
      const Eigen::VectorXf delta = dense_top_k(p, k);
      e = p - delta;
      CHECK(r.step(gradient(t, d)) == delta);
      CHECK(r.state.error == e);
    }
  }
  SECTION("ef21: Delta = C(g - h), h += Delta; the first step sends C(g)") {
    Runner r(spec.c_str(), rule(ErrorFeedback::ef21));
    Eigen::VectorXf h = Eigen::VectorXf::Zero(d);
    for (int t = 0; t < 8; ++t) {
      const Eigen::VectorXf delta = dense_top_k(gradient(t, d) - h, k);
      if (t == 0) CHECK(delta == dense_top_k(gradient(0, d), k));
      h += delta;
      CHECK(r.step(gradient(t, d)) == delta);
      CHECK(r.state.estimate == h);
    }
  }
  SECTION("ef21-sgdm: v = (1 - eta) v + eta g (v = g first), then EF21 on v") {
    const float eta = 0.3f;
    Runner r(spec.c_str(), rule(ErrorFeedback::ef21_sgdm, eta));
    Eigen::VectorXf h = Eigen::VectorXf::Zero(d), v;
    for (int t = 0; t < 8; ++t) {
      v = t == 0 ? gradient(0, d) : Eigen::VectorXf((1 - eta) * v + eta * gradient(t, d));
      const Eigen::VectorXf delta = dense_top_k(v - h, k);
      h += delta;
      CHECK(r.step(gradient(t, d)) == delta);
      CHECK(r.state.momentum == v);
      CHECK(r.state.estimate == h);
    }
  }
  SECTION("econtrol: Delta = C(eta e + g - h), e += g - h - Delta, h += Delta") {
    const float eta = 0.25f;
    Runner r(spec.c_str(), rule(ErrorFeedback::econtrol, eta));
    Eigen::VectorXf h = Eigen::VectorXf::Zero(d), e = Eigen::VectorXf::Zero(d);
    for (int t = 0; t < 8; ++t) {
      const Eigen::VectorXf diff = gradient(t, d) - h;
      const Eigen::VectorXf delta = dense_top_k(Eigen::VectorXf(diff + eta * e), k);
      e += diff - delta;
      h += delta;
      CHECK(r.step(gradient(t, d)) == delta);
      CHECK(r.state.error == e);
      CHECK(r.state.estimate == h);
    }
  }
}

TEST_CASE("econtrol with eta = 0 is EF21 bit for bit, also with a stochastic compressor", "[feedback]") {
  for (const char* spec : {"topk:0.1", "randk:0.1", "qsgd:4", "sign"}) {
    INFO(spec);
    Runner ef21(spec, rule(ErrorFeedback::ef21)), econtrol(spec, rule(ErrorFeedback::econtrol, 0.0f));
    for (int t = 0; t < 20; ++t) {
      REQUIRE(ef21.step(gradient(t, 64)) == econtrol.step(gradient(t, 64)));
      REQUIRE(ef21.message.bytes == econtrol.message.bytes);
    }
    CHECK(ef21.state.estimate == econtrol.state.estimate);
  }
}

TEST_CASE("ef21-sgdm with eta = 1 is EF21", "[feedback]") {
  Runner ef21("topk:3", rule(ErrorFeedback::ef21)), sgdm("topk:3", rule(ErrorFeedback::ef21_sgdm, 1.0f));
  for (int t = 0; t < 10; ++t) CHECK(ef21.step(gradient(t, 30)) == sgdm.step(gradient(t, 30)));
}

TEST_CASE("EF21's estimate tracks a constant gradient, plain compression does not", "[feedback]") {
  // With g fixed, h_t -> g geometrically for a contractive C (||g - h_t||^2 <= (1 - delta)^t ||g||^2).
  const Eigen::VectorXf g = gradient(0, 100);
  Runner ef21("topk:0.1", rule(ErrorFeedback::ef21));
  double bound = g.squaredNorm();
  for (int t = 0; t < 60; ++t) {
    ef21.step(g);
    bound *= 1 - 0.1;
    CHECK((g - ef21.state.estimate).squaredNorm() <= bound * (1 + 1e-4) + 1e-12);
  }
  CHECK((g - ef21.state.estimate).norm() < 0.05 * g.norm());
  Runner plain("topk:0.1", rule(ErrorFeedback::none));
  CHECK((g - plain.step(g)).norm() > 0.5 * g.norm());
}

TEST_CASE("an exact warm-up step leaves the memory an exact message would", "[feedback]") {
  const auto top = make_compressor("topk:2");
  for (ErrorFeedback r : {ErrorFeedback::ef, ErrorFeedback::ef21, ErrorFeedback::ef21_sgdm, ErrorFeedback::econtrol}) {
    FeedbackNode node(rule(r), *top);
    FeedbackState state;
    const Eigen::VectorXf g = gradient(3, 20);
    node.exact_step(g, state);
    if (state.error.size()) CHECK(state.error.isZero(0));
    if (state.estimate.size()) CHECK(state.estimate == g);
    if (state.momentum.size()) CHECK(state.momentum == g);
    CHECK(state.steps == 1);
    // Then EF21-family steps compress only the change of the gradient.
    if (r == ErrorFeedback::ef21) {
      Message m;
      Eigen::VectorXf decoded(20);
      Rng rng(1);
      node.compressed_step(g, state, rng, m, decoded);
      CHECK(decoded.isZero(0));
    }
  }
}

TEST_CASE("feedback state of another dimension is refused", "[feedback]") {
  const auto top = make_compressor("topk:2");
  FeedbackNode node(rule(ErrorFeedback::ef21), *top);
  FeedbackState state;
  state.estimate = Eigen::VectorXf::Zero(5);
  Message m;
  Eigen::VectorXf decoded(6);
  Rng rng(1);
  CHECK_THAT(error_of<std::invalid_argument>([&] { node.compressed_step(gradient(0, 6), state, rng, m, decoded); }),
             Catch::Contains("dimension 5"));
}
