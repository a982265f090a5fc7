// Private: a number in messages and descriptions as a stream (%g-like, 6 significant digits) prints it.
#pragma once

#include <sstream>
#include <string>

namespace decent::detail {

inline std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace decent::detail
