// Sparsity: k = max(1, round(F d)) for a fraction, min(K, d) for a count.
#include "decent/compress/sparsity.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>

using namespace decent;

TEST_CASE("k from a fraction rounds, is at least 1 and at most d", "[compress][sparsity]") {
  const auto f = Sparsity::fraction(0.01);
  CHECK(f.is_fraction());
  CHECK(f.k(10'000'000) == 100'000);
  CHECK(f.k(1000) == 10);
  CHECK(f.k(150) == 2);  // 1.5 rounds away from zero
  CHECK(f.k(149) == 1);
  CHECK(f.k(10) == 1);   // max(1, 0)
  CHECK(f.k(1) == 1);
  CHECK(Sparsity::fraction(1.0).k(7) == 7);
  CHECK(Sparsity::fraction(0.5).k(5) == 3);
  CHECK_THROWS_AS(f.k(0), std::invalid_argument);
}

TEST_CASE("k from a count is clamped to d", "[compress][sparsity]") {
  const auto c = Sparsity::count(100);
  CHECK_FALSE(c.is_fraction());
  CHECK(c.k(1000) == 100);
  CHECK(c.k(100) == 100);
  CHECK(c.k(30) == 30);
}

TEST_CASE("sparsity validates and prints its parameter so that it reads back the same", "[compress][sparsity]") {
  CHECK_THROWS_AS(Sparsity::fraction(0), std::invalid_argument);
  CHECK_THROWS_AS(Sparsity::fraction(-0.1), std::invalid_argument);
  CHECK_THROWS_AS(Sparsity::fraction(1.5), std::invalid_argument);
  CHECK_THROWS_AS(Sparsity::fraction(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CHECK_THROWS_AS(Sparsity::count(0), std::invalid_argument);
  CHECK(Sparsity::fraction(0.01).to_string() == "0.01");
  CHECK(Sparsity::fraction(1.0).to_string() == "1.0");
  CHECK(Sparsity::fraction(1e-5).to_string() == "1e-05");
  CHECK(Sparsity::count(42).to_string() == "42");
}
