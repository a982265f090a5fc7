#pragma once
/// @file Natural compression (Horvath et al. 2019): stochastic rounding to a power of two.
#include "decent/compress/compressor.hpp"

namespace decent {

/// For x_i = +-m 2^e with m in [1, 2): C(x)_i = +-2^(e+1) with probability m - 1, else +-2^e.
/// Unbiased with omega = 1/8 for inputs without subnormal entries; delta() = 8/9 is that of C / (1 + 1/8).
/// Edge cases, outside the float normal range: |x_i| < 2^-126 (subnormal) is rounded stochastically
/// between 0 and 2^-126 (still unbiased, absolute error < 2^-126); |x_i| >= 2^127 is rounded down to
/// 2^127 (biased; 2^128 is not a float).
/// x must be finite (std::invalid_argument otherwise). One rng.uniform() per coordinate.
/// Layout: [u32 d][ceil(d/8) bytes of sign bits, bit i = 1 for negative, LSB-first, zero-padded]
/// [d bytes: the float's biased exponent E in 0..254, 0 meaning zero, else the value 2^(E - 127)];
/// message_bytes(d) = 4 + ceil(d/8) + d.
class NaturalCompression final : public Compressor {
public:
  NaturalCompression() : Compressor("natural", true) {}

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double omega_impl(Eigen::Index d) const override;
};

}  // namespace decent
