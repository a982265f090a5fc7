#include "decent/model/conv2d.hpp"

#include <catch2/catch.hpp>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {

// The documented definition, one output value at a time: channels-last samples, weight (o, ci, kx, ky) at
// o + out (ci + in (kx + k ky)), zero outside the image.
Eigen::MatrixXd direct_conv(const Conv2dOptions& o, TensorShape in, const double* p, const Eigen::MatrixXd& x) {
  const Eigen::Index k = o.kernel, s = o.stride, pad = o.pad, oc = o.out_channels, ic = in.channels;
  const Eigen::Index oh = (in.height + 2 * pad - k) / s + 1, ow = (in.width + 2 * pad - k) / s + 1;
  Eigen::MatrixXd y(oc * oh * ow, x.cols());
  for (Eigen::Index b = 0; b < x.cols(); ++b)
    for (Eigen::Index oy = 0; oy < oh; ++oy)
      for (Eigen::Index ox = 0; ox < ow; ++ox)
        for (Eigen::Index c = 0; c < oc; ++c) {
          double sum = o.bias ? p[oc * ic * k * k + c] : 0;
          for (Eigen::Index ky = 0; ky < k; ++ky)
            for (Eigen::Index kx = 0; kx < k; ++kx)
              for (Eigen::Index ci = 0; ci < ic; ++ci) {
                const Eigen::Index iy = oy * s - pad + ky, ix = ox * s - pad + kx;
                if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width) continue;
                sum += p[c + oc * (ci + ic * (kx + k * ky))] * x(ci + ic * (ix + in.width * iy), b);
              }
          y(c + oc * (ox + ow * oy), b) = sum;
        }
  return y;
}

struct Case {
  Conv2dOptions options;
  TensorShape input;
};

const Case cases[] = {
    {{4, 3, 1, 0, true}, {2, 6, 5}},   {{3, 5, 1, 2, true}, {1, 7, 7}},  {{5, 3, 2, 1, false}, {3, 8, 9}},
    {{2, 1, 1, 0, true}, {6, 4, 4}},   {{3, 1, 2, 0, false}, {4, 5, 5}}, {{2, 4, 3, 3, true}, {2, 5, 6}},
    {{6, 7, 1, 0, true}, {1, 7, 7}},   {{3, 3, 2, 1, true}, {1, 9, 8}},  {{2, 4, 3, 3, false}, {1, 5, 7}},
    {{40, 3, 1, 1, true}, {3, 30, 30}},  // more patch values than an inference pass unfolds at once
};

}  // namespace

TEST_CASE("conv2d: forward equals the direct loop of its definition", "[model][conv2d]") {
  for (const Case& c : cases) {
    Conv2d<double> layer(c.options);
    const TensorShape out = layer.bind(c.input, Gain::relu);
    INFO(layer.describe() << " on " << c.input.to_string());
    Rng rng(7);
    Eigen::VectorXd p(layer.parameter_count());
    test::fill_normal(p.data(), p.size(), rng);
    Eigen::MatrixXd x(c.input.size(), 3), y(out.size(), 3);
    test::fill_normal(x.data(), x.size(), rng);
    layer.forward(p.data(), Conv2d<double>::ConstMap(x.data(), x.rows(), 3), Conv2d<double>::MutableMap(y.data(), y.rows(), 3), {});
    const Eigen::MatrixXd expected = direct_conv(c.options, c.input, p.data(), x);
    REQUIRE(expected.rows() == y.rows());
    CHECK((y - expected).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("conv2d: gradients match central differences in double", "[model][conv2d]") {
  for (const Case& c : cases) {
    Conv2d<double> layer(c.options);
    layer.bind(c.input, Gain::linear);
    INFO(layer.describe() << " on " << c.input.to_string());
    if (c.input.size() > 1000) continue;  // the large case checks the chunked forward only
    for (const bool training : {false, true}) test::check_layer_gradients(layer, 2, 19, {training, nullptr});
  }
}

TEST_CASE("conv2d: training and inference passes compute the same output", "[model][conv2d]") {
  for (const Case& c : cases) {
    Conv2d<float> layer(c.options);
    const TensorShape out = layer.bind(c.input, Gain::relu);
    Rng rng(2);
    Eigen::VectorXf p(layer.parameter_count());
    for (Eigen::Index k = 0; k < p.size(); ++k) p[k] = static_cast<float>(rng.normal());
    Eigen::MatrixXf x = Eigen::MatrixXf::Random(c.input.size(), 9), a(out.size(), 9), b(out.size(), 9);
    layer.forward(p.data(), Conv2d<float>::ConstMap(x.data(), x.rows(), 9), Conv2d<float>::MutableMap(a.data(), a.rows(), 9), {true, nullptr});
    layer.forward(p.data(), Conv2d<float>::ConstMap(x.data(), x.rows(), 9), Conv2d<float>::MutableMap(b.data(), b.rows(), 9), {});
    CHECK((a - b).cwiseAbs().maxCoeff() <= 1e-5f * std::max(1.0f, a.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("conv2d: float agrees with double", "[model][conv2d]") {
  const Conv2dOptions o{8, 3, 1, 1, true};
  Conv2d<float> f(o);
  Conv2d<double> d(o);
  const TensorShape out = f.bind({4, 10, 10}, Gain::relu);
  d.bind({4, 10, 10}, Gain::relu);
  Rng rng(1);
  Eigen::VectorXd p(f.parameter_count());
  test::fill_normal(p.data(), p.size(), rng, 0.3);
  Eigen::MatrixXd x(400, 5), yd(out.size(), 5);
  test::fill_normal(x.data(), x.size(), rng);
  const Eigen::VectorXf pf = p.cast<float>();
  const Eigen::MatrixXf xf = x.cast<float>();
  Eigen::MatrixXf yf(out.size(), 5);
  f.forward(pf.data(), Conv2d<float>::ConstMap(xf.data(), 400, 5), Conv2d<float>::MutableMap(yf.data(), yf.rows(), 5), {});
  d.forward(p.data(), Conv2d<double>::ConstMap(x.data(), 400, 5), Conv2d<double>::MutableMap(yd.data(), yd.rows(), 5), {});
  CHECK((yf.cast<double>() - yd).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("conv2d: output sizes, blocks and bad shapes", "[model][conv2d]") {
  Conv2d<float> layer({16, 5, 1, 0, true});
  CHECK(layer.bind({1, 28, 28}, Gain::relu) == TensorShape{16, 24, 24});
  CHECK(layer.parameter_count() == 16 * 25 + 16);
  CHECK(layer.parameters()[0].shape == std::vector<Eigen::Index>{16, 1, 5, 5});
  CHECK(layer.describe() == "conv(16,5,stride=1,pad=0,bias=1)");
  Conv2d<float> strided({8, 3, 2, 1, false});
  CHECK(strided.bind({4, 7, 7}, Gain::relu) == TensorShape{8, 4, 4});
  CHECK(strided.parameters().size() == 1);
  Conv2d<float> big({4, 5, 1, 0, true});
  CHECK_THROWS_WITH(big.bind({16, 4, 4}, Gain::linear), Contains("input 16x4x4 (padded by 0) is smaller than the 5x5 kernel"));
  Conv2d<float> flat({4, 1, 1, 0, true});
  CHECK_THROWS_WITH(flat.bind({784, 1, 1}, Gain::linear), Contains("needs an image input") && Contains("784 values"));
  CHECK_THROWS_WITH(Conv2d<float>({0, 3, 1, 0, true}), Contains("channels must be >= 1"));
  CHECK_THROWS_WITH(Conv2d<float>({4, 3, 0, 0, true}), Contains("stride must be >= 1"));
  CHECK_THROWS_WITH(Conv2d<float>({4, 3, 1, -1, true}), Contains("pad must be >= 0"));
}
