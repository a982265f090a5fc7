#include "decent/model/group_norm.hpp"

#include <catch2/catch.hpp>

#include "support/gradient_check.hpp"

using namespace decent;
using Catch::Matchers::Contains;

TEST_CASE("groupnorm: each group of each sample has mean 0 and variance 1 at unit scale", "[model][group_norm]") {
  GroupNorm<double> layer(2, 1e-12);
  layer.bind({6, 3, 4}, Gain::linear);
  REQUIRE(layer.parameter_count() == 12);
  CHECK(layer.parameters()[0].name == "scale");
  CHECK(layer.parameters()[1].name == "shift");
  Eigen::VectorXd p(12);
  Rng rng(4);
  layer.initialize(p.data(), rng);
  CHECK(p.head(6) == Eigen::VectorXd::Ones(6));
  CHECK(p.tail(6) == Eigen::VectorXd::Zero(6));
  Eigen::MatrixXd x(72, 2), y(72, 2);
  test::fill_normal(x.data(), x.size(), rng, 3);
  x.array() += 5;
  layer.forward(p.data(), GroupNorm<double>::ConstMap(x.data(), 72, 2), GroupNorm<double>::MutableMap(y.data(), 72, 2), {});
  for (int b = 0; b < 2; ++b)
    for (int g = 0; g < 2; ++g) {
      double sum = 0, squares = 0;
      for (int pos = 0; pos < 12; ++pos)
        for (int c = 3 * g; c < 3 * g + 3; ++c) {
          sum += y(c + 6 * pos, b);
          squares += y(c + 6 * pos, b) * y(c + 6 * pos, b);
        }
      CHECK(sum / 36 == Approx(0).margin(1e-12));
      CHECK(squares / 36 == Approx(1).epsilon(1e-9));
    }
}

TEST_CASE("groupnorm: gradients match central differences in double", "[model][group_norm]") {
  for (const Eigen::Index groups : {1, 2, 4}) {
    GroupNorm<double> image(groups);
    image.bind({4, 3, 3}, Gain::linear);
    test::check_layer_gradients(image, 3, 13);
  }
  GroupNorm<double> flat(1);  // layer normalization of a flat vector
  flat.bind({10, 1, 1}, Gain::linear);
  test::check_layer_gradients(flat, 4, 17);
}

TEST_CASE("groupnorm: bad arguments and shapes", "[model][group_norm]") {
  GroupNorm<float> layer(8);
  CHECK_THROWS_WITH(layer.bind({12, 4, 4}, Gain::linear), Contains("the 12 channels of input 12x4x4 do not split into 8 equal groups"));
  CHECK_THROWS_WITH(GroupNorm<float>(0), Contains("groups must be >= 1"));
  CHECK_THROWS_WITH(GroupNorm<float>(2, 0), Contains("eps must be > 0"));
  CHECK(GroupNorm<float>(8).describe() == "gn(8,eps=1e-05)");
}
