#pragma once
/// @file Top-k sparsification: keep the k coordinates of largest magnitude.
#include <cstdint>
#include <vector>

#include "decent/compress/compressor.hpp"
#include "decent/compress/sparsity.hpp"

namespace decent {

/// Indices of the k largest |x_i| (1 <= k <= d), in ascending order; among equal magnitudes the smaller
/// index wins, so the result is deterministic. Expected O(d), no sort: std::nth_element on a copy of the
/// magnitudes (`scratch`), then one pass in index order. For d >= 2^18 and k < d/4 a strided sample first
/// picks a threshold that leaves about 1.2 k candidates for nth_element (exact: if fewer than k pass it,
/// the full selection runs). x must be finite (std::invalid_argument otherwise).
void top_k_indices(Eigen::Ref<const Eigen::VectorXf> x, Eigen::Index k, std::vector<std::uint32_t>& indices,
                   std::vector<float>& scratch);

/// Top-k: C(x)_i = x_i for the k largest magnitudes (ties to the smaller index), 0 elsewhere.
/// Biased, contractive with delta = k/d (||C(x) - x||^2 <= (1 - k/d) ||x||^2 for every x).
/// Layout: [u32 d][k x f32 values][k indices of b = ceil(log2 d) bits, ascending, LSB-first, zero-padded]
/// message_bytes(d) = 4 + 4k + ceil(k b / 8).
class TopK final : public Compressor {
public:
  explicit TopK(Sparsity sparsity);
  const Sparsity& sparsity() const noexcept { return sparsity_; }

protected:
  std::size_t payload_bytes_impl(Eigen::Index d) const override;
  void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) override;
  void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const override;
  double delta_impl(Eigen::Index d) const override;

private:
  Sparsity sparsity_;
  std::vector<std::uint32_t> indices_;
  std::vector<float> scratch_;
};

}  // namespace decent
