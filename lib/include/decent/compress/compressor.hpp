#pragma once
/// @file The compressor interface (encode a vector into a wire message, decode it back) and its factory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "decent/compress/message.hpp"
#include "decent/core/layout.hpp"
#include "decent/core/random.hpp"

namespace decent {

/// A compression operator C on float vectors of any dimension d in [1, 2^32 - 1].
///
/// Guarantees (checked by tests/unit/compress/compressor_test.cpp):
/// - biased (unbiased() == false): delta-contractive, E||C(x) - x||^2 <= (1 - delta(d)) ||x||^2;
/// - unbiased: E C(x) = x and E||C(x) - x||^2 <= omega(d) ||x||^2; the scaled operator C / (1 + omega)
///   is then contractive with delta(d) = 1 / (1 + omega(d)), which is what delta() reports.
/// fp16 and natural hold their factor only on part of the float range; their headers say which.
/// Every message for dimension d has exactly message_bytes(d) bytes (all layouts here are fixed-size).
///
/// Not thread-safe: encode reuses scratch buffers. Use one compressor per thread (they are cheap).
class Compressor {
public:
  virtual ~Compressor() = default;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  /// Compresses x (size d >= 1) into `out`, replacing its bytes (their capacity is reused).
  /// Stochastic compressors draw from `rng`; deterministic ones leave it untouched.
  /// Throws std::invalid_argument for d outside [1, 2^32 - 1], or for non-finite entries where the
  /// compressor needs finite input (top-k, qsgd, sign, natural: see their headers).
  void encode(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, Message& out);
  /// Writes C(x) for the message into `out`, whose size must be the message's d.
  /// Throws std::invalid_argument on a dimension mismatch, a wrong length or corrupt content (indices out of
  /// range or order, levels or exponents out of range, non-zero padding, a non-finite scale); after a throw
  /// the contents of `out` are unspecified.
  void decode(const Message& in, Eigen::Ref<Eigen::VectorXf> out) const;
  /// As decode(in, out), into a new vector of the message's dimension.
  Eigen::VectorXf decode(const Message& in) const;

  /// The exact size in bytes of every message for dimension d (header included).
  std::size_t message_bytes(Eigen::Index d) const;
  /// Whether E C(x) = x.
  bool unbiased() const noexcept { return unbiased_; }
  /// The variance factor omega of an unbiased compressor; throws std::logic_error for a biased one.
  double omega(Eigen::Index d) const;
  /// The contraction factor in (0, 1] for dimension d: of C itself if biased, of C / (1 + omega) if unbiased.
  double delta(Eigen::Index d) const;
  /// The canonical spec, e.g. "topk:0.01", "qsgd:4"; make_compressor(name()) builds an equal compressor.
  const std::string& name() const noexcept { return name_; }

protected:
  Compressor(std::string name, bool unbiased) : name_(std::move(name)), unbiased_(unbiased) {}

  /// Payload size (after the 4-byte header) for dimension d.
  virtual std::size_t payload_bytes_impl(Eigen::Index d) const = 0;
  /// Writes all payload_bytes_impl(x.size()) bytes of `payload` (stale bytes may be present).
  virtual void encode_impl(Eigen::Ref<const Eigen::VectorXf> x, Rng& rng, std::span<std::uint8_t> payload) = 0;
  /// Decodes a payload of the right length for out.size(); throws std::invalid_argument on bad content.
  virtual void decode_impl(std::span<const std::uint8_t> payload, Eigen::Ref<Eigen::VectorXf> out) const = 0;
  /// delta(d) of a biased compressor.
  virtual double delta_impl(Eigen::Index d) const;
  /// omega(d) of an unbiased compressor.
  virtual double omega_impl(Eigen::Index d) const;

private:
  void check_length(const Message& in, std::uint32_t d) const;

  std::string name_;
  bool unbiased_;
};

/// Builds a compressor from a spec:
///   none                  32-bit floats as they are;
///   topk:F | topk:K       the k largest magnitudes (k = max(1, round(F d)) or min(K, d));
///   randk:F | randk:K     k uniformly random coordinates, kept as they are (contractive, delta = k/d);
///   randk-unbiased:F | :K the same times d/k (unbiased, omega = d/k - 1);
///   qsgd:S                QSGD with S levels (unbiased, omega = min(d/S^2, sqrt(d)/S));
///   sign                  ||x||_1/d * sign(x);
///   fp16                  IEEE half precision, round to nearest even;
///   natural               stochastic rounding to a power of two (unbiased, omega = 1/8);
///   lowrank:R             rank-R projection of each matrix block, R >= 1 (needs the layout overload below).
/// A parameter with '.' or 'e' is a fraction F in (0, 1]; plain digits are a count K >= 1.
/// Throws std::invalid_argument naming the spec and the allowed forms.
std::unique_ptr<Compressor> make_compressor(std::string_view spec);
/// As make_compressor(spec), and builds lowrank:R over `layout` (e.g. Model::matrix_blocks()); other specs
/// ignore the layout. Throws std::invalid_argument for a bad spec or, with lowrank, an empty or invalid layout.
std::unique_ptr<Compressor> make_compressor(std::string_view spec, std::span<const MatrixBlock> layout);
/// Checks a spec's form without building it: std::invalid_argument as make_compressor(spec) would throw, except
/// that a well-formed lowrank:R passes (it needs the model's layout only when it is built).
void check_compressor_spec(std::string_view spec);
/// The spec forms make_compressor accepts, for help texts.
std::vector<std::string> compressor_names();

}  // namespace decent
