#pragma once
// The message of a Boost.Program_options error, made safe to compute and to print (docs/reliability.md):
//  * Boost 1.74's what() replaces each placeholder ("%value%", "%canonical_option%", ...) in the message
//    template until none is left, so a value or option that itself contains the placeholder
//    (`--steps %value%`, `steps = %value%` in an INI file, an unknown option `--%canonical_option%`)
//    makes what() run forever, growing the message without bound (found by tests/fuzz/train_config_fuzz.cpp);
//  * a line of an INI file is quoted as it is, control characters and all, and at any length.
#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <stdexcept>
#include <map>
#include <string>

namespace decent::driver {

namespace detail {

/// Reads the protected substitutions of an error (a pointer to member formed through a derived class).
struct ProgramOptionsSubstitutions : boost::program_options::error_with_option_name {
  static const std::map<std::string, std::string>& of(const boost::program_options::error_with_option_name& e) {
    return e.*(&ProgramOptionsSubstitutions::m_substitutions);
  }
};

/// `text` for a message: '%' as "%25" (so it can contain no placeholder), bytes outside printable ASCII as
/// \xHH (as the file readers quote tokens), and at most 80 bytes of it.
inline std::string quotable(const std::string& text) {
  constexpr std::size_t max_shown = 80;
  std::string out;
  for (std::size_t k = 0; k < text.size() && k < max_shown; ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c == '%') {
      out += "%25";
    } else if (c < 0x20 || c >= 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_shown) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace detail

/// e.what(), with every substituted option name, value or line passed through detail::quotable.
inline std::string error_message(const boost::program_options::error& e) {
  const auto* named = dynamic_cast<const boost::program_options::error_with_option_name*>(&e);
  if (named == nullptr) return e.what();
  boost::program_options::error_with_option_name safe = *named;
  for (const auto& [key, value] : detail::ProgramOptionsSubstitutions::of(*named)) safe.set_substitute(key, detail::quotable(value));
  return safe.what();
}

/// The parsed command line, after refusing stray words: Boost.Program_options drops a token that is no option's
/// value, so `--layers conv(16,5) relu` would silently lose `relu`. Throws std::invalid_argument naming the word.
/// `example` (may be empty) shows a quoted value.
inline boost::program_options::parsed_options
without_stray_words(boost::program_options::parsed_options parsed, const std::string& example = {}) {
  for (const auto& option : parsed.options)
    if (option.position_key >= 0 && !option.value.empty())
      throw std::invalid_argument("unexpected argument '" + detail::quotable(option.value.front()) +
                                  "': options are --KEY VALUE; quote a value that has spaces" +
                                  (example.empty() ? "" : ", e.g. " + example));
  return parsed;
}

}  // namespace decent::driver
