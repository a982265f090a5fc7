#pragma once
/// @file Byte-level wire format shared by the compressors: little-endian scalars and LSB-first bit fields.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace decent {

/// Stores v little-endian at p (4 bytes).
inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 4);
  } else {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
/// Loads a little-endian uint32 from p.
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  std::uint32_t v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, 4);
  } else {
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  }
  return v;
}
/// Stores v little-endian at p (8 bytes).
inline void store_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  store_u32(p, static_cast<std::uint32_t>(v));
  store_u32(p + 4, static_cast<std::uint32_t>(v >> 32));
}
/// Loads a little-endian uint64 from p.
inline std::uint64_t load_u64(const std::uint8_t* p) noexcept {
  return load_u32(p) | (static_cast<std::uint64_t>(load_u32(p + 4)) << 32);
}
/// Stores v little-endian at p (2 bytes).
inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
/// Loads a little-endian uint16 from p.
inline std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
/// Stores an IEEE binary32 as its little-endian bit pattern (4 bytes).
inline void store_f32(std::uint8_t* p, float v) noexcept { store_u32(p, std::bit_cast<std::uint32_t>(v)); }
/// Loads an IEEE binary32 stored by store_f32.
inline float load_f32(const std::uint8_t* p) noexcept { return std::bit_cast<float>(load_u32(p)); }

/// Stores n floats at p (4n bytes), as n store_f32 calls would.
inline void store_f32_array(std::uint8_t* p, const float* v, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n > 0) std::memcpy(p, v, 4 * n);
  } else {
    for (std::size_t i = 0; i < n; ++i) store_f32(p + 4 * i, v[i]);
  }
}
/// Loads n floats stored by store_f32_array.
inline void load_f32_array(const std::uint8_t* p, float* v, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n > 0) std::memcpy(v, p, 4 * n);
  } else {
    for (std::size_t i = 0; i < n; ++i) v[i] = load_f32(p + 4 * i);
  }
}

/// ceil(log2 n) for n >= 1: the bits of an index into n items (0 for n = 1).
constexpr int ceil_log2(std::uint64_t n) noexcept { return n <= 1 ? 0 : std::bit_width(n - 1); }

/// Bytes taken by n fields of `bits` bits each, packed without gaps: ceil(n bits / 8).
constexpr std::size_t packed_bytes(std::size_t n, int bits) noexcept {
  return (n * static_cast<std::size_t>(bits) + 7) / 8;
}

/// Stores the sign bits of x[0..n) at p, bit i of the LSB-first stream = sign bit of x[i] (1 for negative,
/// including -0), zero-padded to ceil(n/8) bytes.
inline void store_sign_bits(std::uint8_t* p, const float* x, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64, p += 8) {
    std::uint64_t word = 0;
    for (int j = 0; j < 64; ++j) word |= static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(x[i + j]) >> 31) << j;
    store_u64(p, word);
  }
  for (; i < n; i += 8, ++p) {
    unsigned byte = 0;
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) byte |= (std::bit_cast<std::uint32_t>(x[i + j]) >> 31) << j;
    *p = static_cast<std::uint8_t>(byte);
  }
}
/// Bit i of a stream written by store_sign_bits.
inline bool sign_bit(const std::uint8_t* p, std::size_t i) noexcept { return (p[i / 8] >> (i % 8)) & 1; }
/// out[i] = magnitude(i) with its sign bit set to bit i of a stream written by store_sign_bits (branch-free).
template <class Magnitude>
void apply_sign_bits(const std::uint8_t* p, std::size_t n, float* out, Magnitude magnitude) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t sign = static_cast<std::uint32_t>((p[i / 8] >> (i % 8)) & 1) << 31;
    out[i] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(magnitude(i)) | sign);
  }
}
/// Throws std::invalid_argument unless the padding bits after the first n bits of p are zero.
inline void check_bit_padding(const std::uint8_t* p, std::size_t n) {
  if (n % 8 != 0 && (p[n / 8] >> (n % 8)) != 0) throw std::invalid_argument("non-zero padding bits");
}

/// Packs fields of 0..32 bits, least significant bit first, into a byte buffer. The caller sizes the
/// buffer with packed_bytes; finish() writes the last partial byte with zero padding.
class BitWriter {
public:
  explicit BitWriter(std::uint8_t* out) noexcept : p_(out) {}
  /// Appends the low `bits` bits of v; v must be < 2^bits.
  void put(std::uint32_t v, int bits) noexcept {
    acc_ |= static_cast<std::uint64_t>(v) << n_;
    n_ += bits;
    if (n_ >= 32) {
      store_u32(p_, static_cast<std::uint32_t>(acc_));
      p_ += 4;
      acc_ >>= 32;
      n_ -= 32;
    }
  }
  /// Flushes the pending bits; returns one past the last byte written.
  std::uint8_t* finish() noexcept {
    for (; n_ > 0; n_ -= 8) {
      *p_++ = static_cast<std::uint8_t>(acc_);
      acc_ >>= 8;
    }
    n_ = 0;
    return p_;
  }

private:
  std::uint8_t* p_;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

/// Reads fields written by BitWriter from [begin, end). Throws std::invalid_argument when a read runs past
/// the end, and from finish() when the padding after the last field is not zero (a corrupt message).
class BitReader {
public:
  BitReader(const std::uint8_t* begin, const std::uint8_t* end) noexcept : p_(begin), end_(end) {}
  /// The next field of `bits` (0..32) bits.
  std::uint32_t get(int bits) {
    if (n_ < bits) refill();
    if (n_ < bits) throw std::invalid_argument("bit field runs past the end of the message");
    const std::uint32_t v = static_cast<std::uint32_t>(acc_ & ((std::uint64_t{1} << bits) - 1));
    acc_ >>= bits;
    n_ -= bits;
    return v;
  }
  /// Checks that everything after the last field read is zero padding shorter than a byte.
  void finish() const {
    if (acc_ != 0 || n_ >= 8 || p_ != end_) throw std::invalid_argument("bit fields have non-zero or excess padding");
  }

private:
  void refill() noexcept {
    if (end_ - p_ >= 4) {
      acc_ |= static_cast<std::uint64_t>(load_u32(p_)) << n_;
      p_ += 4;
      n_ += 32;
    } else {
      while (n_ <= 56 && p_ != end_) {
        acc_ |= static_cast<std::uint64_t>(*p_++) << n_;
        n_ += 8;
      }
    }
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

}  // namespace decent
