// QSGD: values on the grid ||x|| l/s with x's signs, the packed layout, and corrupt-message checks.
#include "decent/compress/qsgd.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("qsgd decodes to norm * l / s with l next to s |x_i| / norm and x's sign", "[compress][qsgd]") {
  Rng rng(1);
  Eigen::VectorXf x(200);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  x[7] = 0;
  for (const int s : {1, 3, 16}) {
    Qsgd c(s);
    Message m;
    c.encode(x, rng, m);
    const float norm = load_f32(m.bytes.data() + 4);
    CHECK(norm >= x.norm() * (1 - 1e-6));
    CHECK(norm <= x.norm() * (1 + 1e-6));
    const Eigen::VectorXf y = c.decode(m);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      INFO("s = " << s << ", i = " << i);
      const double level = std::abs(y[i]) * s / norm;
      CHECK(std::abs(level - std::round(level)) < 1e-4);
      const double r = std::abs(x[i]) * s / norm;
      CHECK(std::round(level) >= std::floor(r));
      CHECK(std::round(level) <= std::ceil(r));
      if (y[i] != 0) CHECK(std::signbit(y[i]) == std::signbit(x[i]));
    }
    CHECK(y[7] == 0);
  }
}

TEST_CASE("qsgd is exact when every |x_i| / ||x|| is on a level", "[compress][qsgd]") {
  Rng rng(2);
  Eigen::VectorXf x(3);
  x << 3, -4, 0;  // norm 5: levels 3 and 4 of s = 5
  Qsgd c(5);
  Message m;
  c.encode(x, rng, m);
  CHECK(c.decode(m) == x);

  c.encode(Eigen::VectorXf::Zero(10), rng, m);
  CHECK(c.decode(m) == Eigen::VectorXf::Zero(10));
}

TEST_CASE("qsgd message: [d][f32 norm][d fields of 1 + ceil(log2(s + 1)) bits]", "[compress][qsgd]") {
  Rng rng(3);
  Message m;
  for (const int s : {1, 2, 3, 4, 7, 8, 255, 256, 65535}) {
    const int field = 1 + ceil_log2(static_cast<std::uint64_t>(s) + 1);
    for (const Eigen::Index d : {1, 5, 8, 1000, 1001}) {
      INFO("s = " << s << ", d = " << d);
      Qsgd c(s);
      c.encode(Eigen::VectorXf::Random(d), rng, m);
      const std::size_t expected = 8 + (static_cast<std::size_t>(d) * field + 7) / 8;
      CHECK(m.bytes_on_wire() == expected);
      CHECK(c.message_bytes(d) == expected);
    }
  }
  CHECK(Qsgd(1).message_bytes(10'000'000) == 8 + 2'500'000);   // 2 bits per coordinate
  CHECK(Qsgd(4).message_bytes(10'000'000) == 8 + 5'000'000);   // 4 bits per coordinate
  // Field = level << 1 | sign: x = (3, -4) with s = 5 gives 3 << 1 = 6 and 4 << 1 | 1 = 9 in 4-bit fields.
  Eigen::VectorXf x(2);
  x << 3, -4;
  Qsgd(5).encode(x, rng, m);
  REQUIRE(m.bytes.size() == 9);
  CHECK(load_f32(m.bytes.data() + 4) == 5.0f);
  CHECK(m.bytes[8] == (6 | 9 << 4));
}

TEST_CASE("qsgd omega is min(d/s^2, sqrt(d)/s)", "[compress][qsgd]") {
  CHECK(Qsgd(1).omega(100) == Approx(10));
  CHECK(Qsgd(4).omega(100) == Approx(2.5));
  CHECK(Qsgd(16).omega(100) == Approx(100.0 / 256));
  CHECK(Qsgd(16).delta(100) == Approx(1 / (1 + 100.0 / 256)));
  CHECK_THROWS_AS(Qsgd(0), std::invalid_argument);
  CHECK_THROWS_AS(Qsgd(65536), std::invalid_argument);
}

TEST_CASE("qsgd rejects levels above s and a bad norm", "[compress][qsgd]") {
  Rng rng(4);
  Eigen::VectorXf x(2);
  x << 3, -4;
  Qsgd c(5);  // 4-bit fields hold levels up to 7
  Message m;
  c.encode(x, rng, m);
  Eigen::VectorXf y(2);
  Message bad = m;
  bad.bytes[8] = static_cast<std::uint8_t>(12 | 9 << 4);  // level 6 > 5
  CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
  for (const float norm : {-1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    bad = m;
    store_f32(bad.bytes.data() + 4, norm);
    CHECK_THROWS_AS(c.decode(bad, y), std::invalid_argument);
  }
  Eigen::VectorXf odd(3);  // 12 bits: the last half byte is padding
  odd << 1, 2, 3;
  c.encode(odd, rng, m);
  m.bytes.back() |= 0x80;
  Eigen::VectorXf z(3);
  CHECK_THROWS_AS(c.decode(m, z), std::invalid_argument);
}

TEST_CASE("qsgd rejects a norm that overflows a float", "[compress][qsgd]") {
  Rng rng(5);
  Message m;
  Eigen::VectorXf x = Eigen::VectorXf::Constant(4, 3e38f);
  CHECK_THROWS_AS(Qsgd(4).encode(x, rng, m), std::invalid_argument);
}
