#pragma once
// The drivers' --seed: read as text and converted here, because Boost.Program_options reads "-1" into an
// unsigned integer as 2^64 - 1 without complaint. Seeds are at most 2^63 - 1: the HDF5 file records the
// seed as a signed 64-bit attribute, which then holds it exactly.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace decent::driver {

/// What a seed must be, for messages ("seed: '-1' " + seed_requirement).
inline constexpr const char* seed_requirement = "must be an integer from 0 to 9223372036854775807 (2^63 - 1)";

/// `text` as a seed, or nothing unless it is a decimal integer in [0, 2^63 - 1] (no sign, no spaces).
inline std::optional<std::uint64_t> parse_seed(const std::string& text) {
  if (text.empty() || text.front() == '-') return std::nullopt;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stop != end) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

}  // namespace decent::driver
