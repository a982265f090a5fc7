// Scaled sign: ||x||_1/d * sign(x), one bit per coordinate, and its exact error.
#include "decent/compress/scaled_sign.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("sign decodes to ||x||_1/d sign(x), -0 counting as negative", "[compress][sign]") {
  Rng rng(1);
  Eigen::VectorXf x(5);
  x << 1, -2, 0, -0.0f, 7;
  ScaledSign c;
  Message m;
  c.encode(x, rng, m);
  Eigen::VectorXf expected(5);
  expected << 2, -2, 2, -2, 2;
  CHECK(c.decode(m) == expected);
  REQUIRE(m.bytes.size() == 9);
  CHECK(load_f32(m.bytes.data() + 4) == 2.0f);
  CHECK(m.bytes[8] == 0b01010);
}

TEST_CASE("sign error is exactly (1 - ||x||_1^2 / (d ||x||^2)) ||x||^2 >= (1 - delta) bound", "[compress][sign]") {
  Rng rng(2);
  ScaledSign c;
  Message m;
  for (const Eigen::Index d : {1, 3, 100, 1000}) {
    Eigen::VectorXf x(d);
    for (auto& v : x) v = static_cast<float>(rng.normal());
    c.encode(x, rng, m);
    const Eigen::VectorXd y = c.decode(m).cast<double>();
    const Eigen::VectorXd xd = x.cast<double>();
    const double l1 = xd.lpNorm<1>(), l2sq = xd.squaredNorm();
    CHECK((y - xd).squaredNorm() == Approx(l2sq - l1 * l1 / d).epsilon(1e-5).margin(1e-12));
    CHECK((y - xd).squaredNorm() <= (1 - c.delta(d)) * l2sq * (1 + 1e-6));
  }
  CHECK(c.delta(1000) == Approx(0.001));
}

TEST_CASE("sign message: [d][f32 scale][ceil(d/8) bytes of sign bits]", "[compress][sign]") {
  Rng rng(3);
  ScaledSign c;
  Message m;
  for (const Eigen::Index d : {1, 7, 8, 9, 64, 65, 1000}) {
    INFO("d = " << d);
    c.encode(Eigen::VectorXf::Random(d), rng, m);
    const std::size_t expected = 8 + (static_cast<std::size_t>(d) + 7) / 8;
    CHECK(m.bytes_on_wire() == expected);
    CHECK(c.message_bytes(d) == expected);
  }
  CHECK(c.message_bytes(10'000'000) == 1'250'008);
}

TEST_CASE("sign rejects a bad scale and non-zero padding", "[compress][sign]") {
  Rng rng(4);
  ScaledSign c;
  Message m;
  c.encode(Eigen::VectorXf::Ones(5), rng, m);
  Eigen::VectorXf y(5);
  CHECK_NOTHROW(c.decode(m, y));
  Message bad = m;
  bad.bytes[8] |= 0x20;
  CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
  for (const float scale : {-1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    bad = m;
    store_f32(bad.bytes.data() + 4, scale);
    CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
  }
}
