#include "decent/compress/top_k.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <stdexcept>
#include <string>

#include "decent/compress/wire.hpp"

namespace decent {

namespace {

constexpr float max_float = std::numeric_limits<float>::max();

std::invalid_argument not_finite() { return std::invalid_argument("top-k needs finite input"); }

/// The k-th largest of `magnitudes` (which it reorders; k >= 1), and how many coordinates equal to it are kept:
/// those strictly above are all kept, the remaining slots go to the ties with the smallest indices.
std::pair<float, std::ptrdiff_t> kth_largest(std::span<float> magnitudes, std::size_t k) {
  const auto kth = magnitudes.begin() + static_cast<std::ptrdiff_t>(k - 1);
  std::nth_element(magnitudes.begin(), kth, magnitudes.end(), std::greater<float>());
  const float threshold = *kth;
  // Everything before kth is >= threshold.
  const auto above = std::count_if(magnitudes.begin(), kth, [threshold](float a) { return a > threshold; });
  return {threshold, static_cast<std::ptrdiff_t>(k) - above};
}

/// Top-k for large d through a prefilter: a threshold t from a strided sample of the magnitudes, chosen so
/// that very likely at least k of them are >= t. Then every kept coordinate, and every tie at the k-th
/// magnitude, is >= t, so selecting among the candidates {i : |x_i| >= t} in index order gives exactly the
/// full result while nth_element sees about 1.2 k values instead of d. Returns false, leaving the buffers in
/// an unspecified state, when the sample misled (fewer than k candidates) or does not apply.
bool top_k_sampled(const float* v, std::size_t n, std::size_t k, std::vector<std::uint32_t>& indices,
                   std::vector<float>& scratch) {
  constexpr std::size_t sample_size = std::size_t{1} << 16;
  if (n < 4 * sample_size) return false;
  const double expected_rank = static_cast<double>(k) * sample_size / static_cast<double>(n);
  const auto rank = static_cast<std::size_t>(std::ceil(expected_rank + 6 * std::sqrt(expected_rank) + 16));
  if (rank >= sample_size / 4) return false;  // k is a large fraction of d: the prefilter would not filter

  const std::size_t stride = n / sample_size;
  scratch.resize(sample_size);
  bool finite = true;
  for (std::size_t j = 0; j < sample_size; ++j) {
    scratch[j] = std::fabs(v[j * stride]);
    finite &= scratch[j] <= max_float;
  }
  if (!finite) throw not_finite();
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(rank - 1), scratch.end(),
                   std::greater<float>());
  const float t = scratch[rank - 1];

  indices.clear();
  scratch.clear();
  const auto expected_count = static_cast<std::size_t>(1.25 * static_cast<double>(rank * stride));
  indices.reserve(expected_count);
  scratch.reserve(2 * expected_count);
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(v[i]);
    finite &= a <= max_float;
    if (a >= t) {
      indices.push_back(static_cast<std::uint32_t>(i));
      scratch.push_back(a);
    }
  }
  if (!finite) throw not_finite();
  const std::size_t count = indices.size();
  if (count < k) return false;

  // nth_element on a copy, so that the candidates' magnitudes stay in index order for the pass below.
  scratch.resize(2 * count);
  std::copy_n(scratch.begin(), count, scratch.begin() + static_cast<std::ptrdiff_t>(count));
  auto [threshold, ties] = kth_largest(std::span<float>(scratch).subspan(count), k);
  std::size_t j = 0;
  for (std::size_t c = 0; c < count && j < k; ++c) {
    const float a = scratch[c];
    if (a > threshold || (a == threshold && ties > 0)) {
      ties -= a == threshold;
      indices[j++] = indices[c];
    }
  }
  indices.resize(k);
  return true;
}

}  // namespace

void top_k_indices(Eigen::Ref<const Eigen::VectorXf> x, Eigen::Index k, std::vector<std::uint32_t>& indices,
                   std::vector<float>& scratch) {
  const Eigen::Index d = x.size();
  if (k < 1 || k > d)
    throw std::invalid_argument("top_k_indices: k = " + std::to_string(k) + " is outside [1, d = " + std::to_string(d) +
                                "]");
  const auto n = static_cast<std::size_t>(d);
  const auto kk = static_cast<std::size_t>(k);
  const float* v = x.data();
  if (top_k_sampled(v, n, kk, indices, scratch)) return;

  // Full selection: nth_element on a copy of all magnitudes, then one pass over x in index order. No sort.
  // |x_i| <= FLT_MAX is false exactly for inf and NaN, whose order would break nth_element.
  scratch.resize(n);
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(v[i]);
    scratch[i] = a;
    finite &= a <= max_float;
  }
  if (!finite) throw not_finite();
  indices.resize(kk);
  if (kk == n) {
    std::iota(indices.begin(), indices.end(), std::uint32_t{0});
    return;
  }
  auto [threshold, ties] = kth_largest(scratch, kk);
  std::size_t j = 0;
  for (std::size_t i = 0; i < n && j < kk; ++i) {
    const float a = std::fabs(v[i]);
    if (a > threshold || (a == threshold && ties > 0)) {
      ties -= a == threshold;
      indices[j++] = static_cast<std::uint32_t>(i);
    }
  }
}

TopK::TopK(Sparsity sparsity) : Compressor("topk:" + sparsity.to_string(), false), sparsity_(sparsity) {}

std::size_t TopK::payload_bytes_impl(Eigen::Index d) const {
  const auto k = static_cast<std::size_t>(sparsity_.k(d));
  return 4 * k + packed_bytes(k, ceil_log2(static_cast<std::uint64_t>(d)));
}

void TopK::encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng&, std::span<std::uint8_t> payload) {
  const Eigen::Index d = x.size();
  top_k_indices(x, sparsity_.k(d), indices_, scratch_);
  std::uint8_t* p = payload.data();
  for (const std::uint32_t i : indices_) {
    store_f32(p, x[i]);
    p += 4;
  }
  const int bits = ceil_log2(static_cast<std::uint64_t>(d));
  BitWriter writer(p);
  for (const std::uint32_t i : indices_) writer.put(i, bits);
  writer.finish();
}

void TopK::decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const {
  const Eigen::Index d = out.size();
  const auto k = static_cast<std::size_t>(sparsity_.k(d));
  const int bits = ceil_log2(static_cast<std::uint64_t>(d));
  const std::uint8_t* values = payload.data();
  BitReader reader(values + 4 * k, payload.data() + payload.size());
  out.setZero();
  std::int64_t previous = -1;
  for (std::size_t j = 0; j < k; ++j) {
    const std::uint32_t i = reader.get(bits);
    if (static_cast<std::int64_t>(i) <= previous || static_cast<Eigen::Index>(i) >= d)
      throw std::invalid_argument("top-k index " + std::to_string(i) + " is out of range or out of order");
    previous = i;
    out[i] = load_f32(values + 4 * j);
  }
  reader.finish();
}

double TopK::delta_impl(Eigen::Index d) const {
  return static_cast<double>(sparsity_.k(d)) / static_cast<double>(d);
}

}  // namespace decent
