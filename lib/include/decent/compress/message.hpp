#pragma once
/// @file The wire message a compressor produces: the exact bytes that would be sent.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace decent {

/// One compressed vector as it goes on the wire. Every layout starts with the dimension d as a
/// little-endian uint32 (4 bytes), followed by the compressor's payload (see each compressor's header).
/// The message does not name its compressor: the receiver decodes it with the same spec.
struct Message {
  std::vector<std::uint8_t> bytes;

  /// Bytes this message puts on the wire: all of them, header included.
  std::size_t bytes_on_wire() const noexcept { return bytes.size(); }
};

/// Size of the header every message starts with.
inline constexpr std::size_t message_header_bytes = 4;

/// The dimension d stored in the header. Throws std::invalid_argument if the message is shorter than it.
std::uint32_t message_dimension(const Message& message);

}  // namespace decent
