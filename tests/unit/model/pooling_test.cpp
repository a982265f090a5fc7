#include "decent/model/pooling.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

Eigen::MatrixXd direct_pool(PoolKind kind, Eigen::Index k, Eigen::Index s, TensorShape in, const Eigen::MatrixXd& x) {
  const Eigen::Index oh = (in.height - k) / s + 1, ow = (in.width - k) / s + 1, c = in.channels;
  Eigen::MatrixXd y(c * oh * ow, x.cols());
  for (Eigen::Index b = 0; b < x.cols(); ++b)
    for (Eigen::Index oy = 0; oy < oh; ++oy)
      for (Eigen::Index ox = 0; ox < ow; ++ox)
        for (Eigen::Index ch = 0; ch < c; ++ch) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          for (Eigen::Index ky = 0; ky < k; ++ky)
            for (Eigen::Index kx = 0; kx < k; ++kx) {
              const double v = x(ch + c * (ox * s + kx + in.width * (oy * s + ky)), b);
              best = std::max(best, v);
              sum += v;
            }
          y(ch + c * (ox + ow * oy), b) = kind == PoolKind::max ? best : sum / static_cast<double>(k * k);
        }
  return y;
}

}  // namespace

TEST_CASE("pooling: forward equals the direct loop, gradients match central differences", "[model][pooling]") {
  struct Case {
    Eigen::Index k, s;
    TensorShape in;
  };
  for (const PoolKind kind : {PoolKind::max, PoolKind::average})
    for (const Case& c : {Case{2, 2, {3, 6, 6}}, Case{3, 2, {2, 7, 8}}, Case{2, 1, {4, 5, 5}}, Case{3, 3, {1, 9, 10}}}) {
      Pool2d<double> layer(kind, c.k, c.s);
      const TensorShape out = layer.bind(c.in, Gain::linear);
      INFO(layer.describe() << " on " << c.in.to_string());
      Rng rng(5);
      Eigen::MatrixXd x(c.in.size(), 3), y(out.size(), 3);
      test::fill_normal(x.data(), x.size(), rng);
      layer.forward(nullptr, Pool2d<double>::ConstMap(x.data(), x.rows(), 3), Pool2d<double>::MutableMap(y.data(), y.rows(), 3), {});
      CHECK((y - direct_pool(kind, c.k, c.s, c.in, x)).cwiseAbs().maxCoeff() < 1e-14);
      test::check_layer_gradients(layer, 3, 23);
    }
}

TEST_CASE("max pooling: the gradient goes to the first maximum, NaN propagates", "[model][pooling]") {
  Pool2d<float> layer(PoolKind::max, 2, 2);
  layer.bind({1, 2, 2}, Gain::linear);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float x[] = {1, 3, 3, 2, 0, nan, 5, 1};  // two samples; sample 0 has a tie at positions 1 and 2
  float y[2], dx[8];
  const float dy[] = {1, 1};
  layer.forward(nullptr, Pool2d<float>::ConstMap(x, 4, 2), Pool2d<float>::MutableMap(y, 1, 2), {});
  CHECK(y[0] == 3);
  CHECK(std::isnan(y[1]));
  Pool2d<float>::MutableMap d_in(dx, 4, 2);
  layer.backward(nullptr, Pool2d<float>::ConstMap(x, 4, 2), Pool2d<float>::ConstMap(y, 1, 2), Pool2d<float>::ConstMap(dy, 1, 2),
                 &d_in, nullptr, {});
  CHECK(dx[0] == 0);
  CHECK(dx[1] == 1);
  CHECK(dx[2] == 0);
  CHECK(dx[5] == 1);
}

TEST_CASE("global average pooling", "[model][pooling]") {
  GlobalAvgPool<double> layer;
  CHECK(layer.bind({3, 4, 5}, Gain::linear) == TensorShape{3, 1, 1});
  Rng rng(2);
  Eigen::MatrixXd x(60, 2), y(3, 2);
  test::fill_normal(x.data(), x.size(), rng);
  layer.forward(nullptr, GlobalAvgPool<double>::ConstMap(x.data(), 60, 2), GlobalAvgPool<double>::MutableMap(y.data(), 3, 2), {});
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      for (int p = 0; p < 20; ++p) sum += x(c + 3 * p, b);
      CHECK(y(c, b) == Approx(sum / 20));
    }
  test::check_layer_gradients(layer, 2, 3);
}

TEST_CASE("pooling: bad shapes and arguments", "[model][pooling]") {
  Pool2d<float> big(PoolKind::max, 3, 3);
  CHECK_THROWS_WITH(big.bind({4, 2, 2}, Gain::linear), Contains("smaller than the 3x3 window"));
  Pool2d<float> flat(PoolKind::average, 2, 2);
  CHECK_THROWS_WITH(flat.bind({10, 1, 1}, Gain::linear), Contains("needs an image input"));
  CHECK_THROWS_WITH(Pool2d<float>(PoolKind::max, 0, 1), Contains("maxpool: kernel must be >= 1"));
  CHECK(Pool2d<float>(PoolKind::average, 2, 1).describe() == "avgpool(2,stride=1)");
}
