// Private helpers of decent's line-oriented text readers (LIBSVM files, topology files): where a problem is,
// how a bad token is quoted, and how a line splits into tokens.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace decent::detail {

/// Where a problem is: every message starts "path:line: " so editors and terminals can jump to it.
template <class Error, class LineNumber = long long>
struct FileLine {
  const std::string& path;
  LineNumber line;

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(path + ":" + std::to_string(line) + ": " + problem);
  }
};

/// A token as quoted in a message: bytes outside printable ASCII as \xHH, and at most 40 of them, so a
/// binary or runaway line gives a short, one-line message.
inline std::string shown(std::string_view token) {
  constexpr std::size_t max_shown = 40;
  std::string out;
  for (std::size_t k = 0; k < token.size() && k < max_shown; ++k) {
    const auto c = static_cast<unsigned char>(token[k]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      constexpr char hex[] = "0123456789abcdef";
      out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    }
  }
  if (token.size() > max_shown) out += "... (" + std::to_string(token.size()) + " bytes)";
  return out;
}

/// The tokens of one line into `tokens`, '#' comment removed; '\r' counts as blank so files from Windows
/// read the same.
inline void split_tokens(std::string_view line, std::vector<std::string_view>& tokens) {
  tokens.clear();
  line = line.substr(0, line.find('#'));
  constexpr std::string_view blanks = " \t\r\v\f";
  std::size_t start = line.find_first_not_of(blanks);
  while (start != std::string_view::npos) {
    const std::size_t stop = std::min(line.find_first_of(blanks, start), line.size());
    tokens.push_back(line.substr(start, stop - start));
    start = line.find_first_not_of(blanks, stop);
  }
}

}  // namespace decent::detail
