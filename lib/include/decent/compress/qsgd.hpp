#pragma once
/// @file QSGD (Alistarh et al. 2017): stochastic rounding of |x_i| / ||x||_2 to s uniform levels.
#include "decent/compress/compressor.hpp"

namespace decent {

/// QSGD with s levels: C(x)_i = ||x||_2 sign(x_i) l_i / s, where l_i in {0, ..., s} is floor(s r_i) or
/// floor(s r_i) + 1, rounded up with probability s r_i - floor(s r_i), r_i = |x_i| / ||x||_2.
/// Unbiased with omega = min(d/s^2, sqrt(d)/s); delta() = 1/(1 + omega) is that of C / (1 + omega).
/// The norm is sent as a float rounded up, and r_i uses that float, so E C(x) = x up to float rounding.
/// x must be finite (std::invalid_argument otherwise). One rng.uniform() per coordinate.
/// Layout: [u32 d][f32 norm][d fields of 1 + L bits, L = ceil(log2(s + 1)), field = (l_i << 1) | sign_i,
/// sign_i = 1 for negative, LSB-first, zero-padded]; message_bytes(d) = 8 + ceil(d (1 + L) / 8).
class Qsgd final : public Compressor {
public:
  /// s in [1, 65535], else std::invalid_argument.
  explicit Qsgd(int levels);
  int levels() const noexcept { return s_; }

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double omega_impl(Eigen::Index d) const override;

private:
  int s_;
  int field_bits_;  // 1 + ceil(log2(s + 1))
};

}  // namespace decent
