#include "decent/compress/random_k.hpp"

#include <bit>
#include <limits>
#include <stdexcept>
#include <string>

#include "decent/compress/wire.hpp"

namespace decent {

void random_k_indices(std::uint64_t d, std::uint64_t k, std::uint64_t seed, std::vector<std::uint32_t>& indices,
                      std::vector<std::uint64_t>& bitmap) {
  if (k < 1 || k > d || d > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("random_k_indices: need 1 <= k <= d < 2^32, got k = " + std::to_string(k) +
                                ", d = " + std::to_string(d));
  Rng rng(seed);
  bitmap.assign((d + 63) / 64, 0);
  // Floyd: after the step for j, the marked set is a uniform (j + 1 - (d - k))-subset of {0, ..., j}.
  for (std::uint64_t j = d - k; j < d; ++j) {
    std::uint64_t t = rng.below(j + 1);
    if (bitmap[t / 64] >> (t % 64) & 1) t = j;
    bitmap[t / 64] |= std::uint64_t{1} << (t % 64);
  }
  indices.resize(k);
  std::size_t n = 0;
  for (std::size_t w = 0; w < bitmap.size(); ++w) {
    for (std::uint64_t bits = bitmap[w]; bits != 0; bits &= bits - 1)
      indices[n++] = static_cast<std::uint32_t>(64 * w + static_cast<std::size_t>(std::countr_zero(bits)));
  }
}

RandomK::RandomK(Sparsity sparsity, bool unbiased)
    : Compressor((unbiased ? "randk-unbiased:" : "randk:") + sparsity.to_string(), unbiased), sparsity_(sparsity) {}

std::size_t RandomK::payload_bytes_impl(Eigen::Index d) const {
  return 8 + 4 * static_cast<std::size_t>(sparsity_.k(d));
}

void RandomK::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) {
  const auto d = static_cast<std::uint64_t>(x.size());
  const auto k = static_cast<std::uint64_t>(sparsity_.k(x.size()));
  const std::uint64_t seed = rng();
  random_k_indices(d, k, seed, indices_, bitmap_);
  const float scale = unbiased() ? static_cast<float>(static_cast<double>(d) / static_cast<double>(k)) : 1.0f;
  std::uint8_t* p = payload.data();
  store_u64(p, seed);
  p += 8;
  for (const std::uint32_t i : indices_) {
    store_f32(p, scale * x[i]);
    p += 4;
  }
}

void RandomK::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const auto d = static_cast<std::uint64_t>(out.size());
  const auto k = static_cast<std::uint64_t>(sparsity_.k(out.size()));
  std::vector<std::uint32_t> indices;
  std::vector<std::uint64_t> bitmap;
  random_k_indices(d, k, load_u64(payload.data()), indices, bitmap);
  const std::uint8_t* values = payload.data() + 8;
  out.setZero();
  for (std::size_t j = 0; j < indices.size(); ++j) out[indices[j]] = load_f32(values + 4 * j);
}

double RandomK::delta_impl(Eigen::Index d) const {
  return static_cast<double>(sparsity_.k(d)) / static_cast<double>(d);
}

double RandomK::omega_impl(Eigen::Index d) const {
  return static_cast<double>(d) / static_cast<double>(sparsity_.k(d)) - 1;
}

}  // namespace decent
