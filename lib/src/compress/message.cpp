#include "decent/compress/message.hpp"

#include <stdexcept>
#include <string>

#include "decent/compress/wire.hpp"

namespace decent {

std::uint32_t message_dimension(const Message& message) {
  if (message.bytes.size() < message_header_bytes)
    throw std::invalid_argument("message of " + std::to_string(message.bytes.size()) +
                                " bytes is shorter than its 4-byte header");
  return load_u32(message.bytes.data());
}

}  // namespace decent
