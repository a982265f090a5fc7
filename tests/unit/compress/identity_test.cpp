// The identity compressor sends 32-bit floats bit for bit.
#include "decent/compress/identity.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <limits>

#include "decent/compress/wire.hpp"
#include "decent/core/random.hpp"

using namespace decent;

TEST_CASE("none round-trips every bit, inf, NaN and -0 included, layout [d][d x f32]", "[compress][identity]") {
  Rng rng(1);
  Identity c;
  Eigen::VectorXf x(7);
  x << 1.5f, -0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::denorm_min(), -3e38f, 0.1f;
  Message m;
  c.encode(x, rng, m);
  CHECK(m.bytes_on_wire() == 4 + 4 * 7);
  CHECK(c.message_bytes(10'000'000) == 40'000'004);
  CHECK(load_u32(m.bytes.data()) == 7);
  CHECK(load_f32(m.bytes.data() + 4) == 1.5f);
  const Eigen::VectorXf y = c.decode(m);
  for (Eigen::Index i = 0; i < x.size(); ++i)
    CHECK(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(x[i]));
  CHECK(c.unbiased());
  CHECK(c.omega(7) == 0);
  CHECK(c.delta(7) == 1);
}
