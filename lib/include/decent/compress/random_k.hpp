#pragma once
/// @file Random-k sparsification: keep k uniformly random coordinates, drawn from a seed sent along.
#include <cstdint>
#include <vector>

#include "decent/compress/compressor.hpp"
#include "decent/compress/sparsity.hpp"

namespace decent {

/// A uniformly random k-subset of {0, ..., d-1} (1 <= k <= d), in ascending order, fully determined by
/// `seed` (Floyd's algorithm on a bitmap; O(k + d/64)). Sender and receiver call it with the same seed.
void random_k_indices(std::uint64_t d, std::uint64_t k, std::uint64_t seed, std::vector<std::uint32_t>& indices,
                      std::vector<std::uint64_t>& bitmap);

/// Random-k. The sender draws a 64-bit seed from its rng and sends it instead of the indices; the
/// receiver regenerates the same indices from it with random_k_indices.
/// - scaled (default): C(x)_i = x_i on the k kept coordinates, 0 elsewhere. Biased, contractive with
///   delta = k/d (E||C(x) - x||^2 = (1 - k/d) ||x||^2 exactly).
/// - unbiased: C(x)_i = (d/k) x_i on the kept coordinates. omega = d/k - 1, so delta = 1/(1 + omega) = k/d.
/// Values are sent as they are, so infinities and NaNs among the kept coordinates pass through.
/// Layout: [u32 d][u64 seed][k x f32 values, in ascending index order]; message_bytes(d) = 12 + 4k.
class RandomK final : public Compressor {
public:
  RandomK(Sparsity sparsity, bool unbiased);
  const Sparsity& sparsity() const noexcept { return sparsity_; }

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double delta_impl(Eigen::Index d) const override;
  double omega_impl(Eigen::Index d) const override;

private:
  Sparsity sparsity_;
  std::vector<std::uint32_t> indices_;
  std::vector<std::uint64_t> bitmap_;
};

}  // namespace decent
