// Natural compression: rounding to the neighbouring powers of two with the right probabilities.
#include "decent/compress/natural.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("natural compression rounds to one of the two neighbouring powers of two", "[compress][natural]") {
  Rng rng(1);
  NaturalCompression c;
  Message m;
  Eigen::VectorXf x(500);
  for (auto& v : x) v = static_cast<float>(rng.normal() * std::exp(4 * rng.normal()));
  x[0] = 0;
  x[1] = -0.0f;
  x[2] = 0.25f;
  x[3] = -1024.0f;
  c.encode(x, rng, m);
  const Eigen::VectorXf y = c.decode(m);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i] << ", y = " << y[i]);
    if (x[i] == 0) {
      CHECK(y[i] == 0);
      continue;
    }
    int e = 0;
    std::frexp(std::abs(x[i]), &e);  // |x| in [2^(e-1), 2^e)
    const float lower = std::ldexp(1.0f, e - 1);
    CHECK((std::abs(y[i]) == lower || std::abs(y[i]) == 2 * lower));
    CHECK(std::signbit(y[i]) == std::signbit(x[i]));
  }
  CHECK(std::signbit(y[1]));
  CHECK(y[2] == 0.25f);
  CHECK(y[3] == -1024.0f);
}

TEST_CASE("natural compression rounds up with probability m - 1", "[compress][natural]") {
  Rng rng(2);
  NaturalCompression c;
  Message m;
  const int trials = 20000;
  for (const float v : {1.25f, -3.5f, 0x1.8p-20f}) {
    int ups = 0;
    int e = 0;
    const float mantissa = 2 * std::frexp(std::abs(v), &e);  // in [1, 2)
    const Eigen::VectorXf x = Eigen::VectorXf::Constant(1, v);
    for (int t = 0; t < trials; ++t) {
      c.encode(x, rng, m);
      ups += std::abs(c.decode(m)[0]) > std::abs(v);
    }
    const double p = mantissa - 1;
    INFO("v = " << v);
    CHECK(std::abs(ups / static_cast<double>(trials) - p) < 5 * std::sqrt(p * (1 - p) / trials));
  }
}

TEST_CASE("natural compression outside the normal range: subnormals and the largest floats", "[compress][natural]") {
  Rng rng(3);
  NaturalCompression c;
  Message m;
  const float tiny = std::numeric_limits<float>::min() / 4;  // subnormal 2^-128
  Eigen::VectorXf x(2);
  x << tiny, std::numeric_limits<float>::max();
  int ups = 0;
  for (int t = 0; t < 4000; ++t) {
    c.encode(x, rng, m);
    const Eigen::VectorXf y = c.decode(m);
    REQUIRE((y[0] == 0 || y[0] == std::numeric_limits<float>::min()));
    REQUIRE(y[1] == 0x1p127f);
    ups += y[0] != 0;
  }
  CHECK(std::abs(ups / 4000.0 - 0.25) < 5 * std::sqrt(0.25 * 0.75 / 4000));
}

TEST_CASE("natural message: [d][ceil(d/8) sign bytes][d exponent bytes]", "[compress][natural]") {
  Rng rng(4);
  NaturalCompression c;
  Message m;
  for (const Eigen::Index d : {1, 8, 9, 1000}) {
    c.encode(Eigen::VectorXf::Random(d), rng, m);
    const std::size_t expected = 4 + (static_cast<std::size_t>(d) + 7) / 8 + static_cast<std::size_t>(d);
    CHECK(m.bytes_on_wire() == expected);
    CHECK(c.message_bytes(d) == expected);
  }
  CHECK(c.message_bytes(10'000'000) == 11'250'004);
  Eigen::VectorXf x(3);
  x << 1.0f, -0.5f, 0.0f;
  c.encode(x, rng, m);
  REQUIRE(m.bytes.size() == 8);
  CHECK(m.bytes[4] == 0b010);
  CHECK(m.bytes[5] == 127);
  CHECK(m.bytes[6] == 126);
  CHECK(m.bytes[7] == 0);
}

TEST_CASE("natural compression rejects exponent 255 and non-zero padding", "[compress][natural]") {
  Rng rng(5);
  NaturalCompression c;
  Message m;
  c.encode(Eigen::VectorXf::Ones(3), rng, m);
  Eigen::VectorXf y(3);
  CHECK_NOTHROW(c.decode(m, y));
  Message bad = m;
  bad.bytes[6] = 255;
  CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
  bad = m;
  bad.bytes[4] |= 0x10;
  CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
}
