#pragma once
/// @file The identity compressor ("none"): 32-bit floats as they are.
#include "decent/compress/compressor.hpp"

namespace decent {

/// C(x) = x, bit for bit (infinities and NaNs pass through): unbiased with omega = 0, delta = 1.
/// Layout: [u32 d][d x f32]; message_bytes(d) = 4 + 4d.
class Identity final : public Compressor {
public:
  Identity() : Compressor("none", true) {}

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double omega_impl(Eigen::Index d) const override;
};

}  // namespace decent
