#pragma once
/// @file Seeded random streams that are identical on every platform and rank count.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>

namespace decent {

namespace detail {
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang extension, silenced for -Wpedantic
}

/// One step of splitmix64: a bijective mixer used to derive well-spread seeds.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// A seed for the stream at `coords` (for example {node_id} or {round}) under the run seed `seed`.
/// Different coordinates give statistically independent streams.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::initializer_list<std::uint64_t> coords) noexcept {
  std::uint64_t h = splitmix64(seed);
  for (std::uint64_t c : coords) h = splitmix64(h ^ splitmix64(c + 0x632BE59BD9B4E019ull));
  return h;
}

/// xoshiro256** generator (a UniformRandomBitGenerator) with decent's own, portable distributions:
/// std:: distributions are implementation-defined, these are the same everywhere.
class Rng {
public:
  using result_type = std::uint64_t;
  explicit constexpr Rng(std::uint64_t seed = 0) noexcept {
    for (auto& s : s_) s = seed = splitmix64(seed);
  }
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform double in [0, 1) with 53 random bits.
  constexpr double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n) without modulo bias (Lemire's method); n must be > 0.
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    detail::uint128 m = static_cast<detail::uint128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<detail::uint128>((*this)()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Standard normal deviate (Marsaglia's polar method; the spare value is kept for the next call).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double factor = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
  }

  /// The complete state (four xoshiro words, the spare normal's bits, whether it is held), for checkpoints.
  std::array<std::uint64_t, 6> state() const noexcept {
    return {s_[0], s_[1], s_[2], s_[3], std::bit_cast<std::uint64_t>(spare_), has_spare_ ? 1u : 0u};
  }
  /// Continues exactly where the generator that gave `words` (state()) stood.
  void restore(const std::array<std::uint64_t, 6>& words) noexcept {
    for (int i = 0; i < 4; ++i) s_[i] = words[static_cast<std::size_t>(i)];
    spare_ = std::bit_cast<double>(words[4]);
    has_spare_ = words[5] != 0;
  }

private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace decent
