// The message: a byte buffer whose first four bytes hold the dimension.
#include "decent/compress/message.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace decent;

TEST_CASE("bytes_on_wire counts every byte and the header holds d little-endian", "[compress][message]") {
  Message m;
  CHECK(m.bytes_on_wire() == 0);
  CHECK_THROWS_AS(message_dimension(m), std::invalid_argument);
  m.bytes = {0x10, 0x27, 0x00};
  CHECK_THROWS_AS(message_dimension(m), std::invalid_argument);
  m.bytes = {0x10, 0x27, 0x00, 0x00, 0xAA};
  CHECK(m.bytes_on_wire() == 5);
  CHECK(message_dimension(m) == 10000);
}
