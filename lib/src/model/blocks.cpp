#include "decent/model/blocks.hpp"

#include <algorithm>
#include <stdexcept>

namespace decent {

std::string to_string(BlockRole role) { return role == BlockRole::base ? "base" : "head"; }

namespace {

// Glob match of `*` (any run) and `?` (one character), iterative with backtracking to the last star.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string names_of(std::span<const ParameterBlock> blocks) {
  std::string names;
  for (const ParameterBlock& b : blocks) names += (names.empty() ? "" : ", ") + b.name;
  return names.empty() ? "none" : names;
}

}  // namespace

std::vector<ParameterBlock> select_blocks(std::span<const ParameterBlock> blocks, std::string_view selector) {
  if (trim(selector).empty()) throw std::invalid_argument("block selector is empty (use all, base, head or a name pattern)");
  std::vector<bool> chosen(blocks.size(), false);
  std::size_t start = 0;
  while (start <= selector.size()) {
    const std::size_t comma = std::min(selector.find(',', start), selector.size());
    const std::string_view term = trim(selector.substr(start, comma - start));
    if (term.empty()) throw std::invalid_argument("block selector '" + std::string(selector) + "' has an empty term");
    bool any = false;
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      const ParameterBlock& b = blocks[k];
      const bool hit = term == "all" || (term == "base" && b.role == BlockRole::base) ||
                       (term == "head" && b.role == BlockRole::head) || glob_match(term, b.name);
      if (hit) chosen[k] = true;
      any = any || hit;
    }
    if (!any)
      throw std::invalid_argument("block selector term '" + std::string(term) + "' matches no block (blocks: " +
                                  names_of(blocks) + ")");
    start = comma + 1;
  }
  std::vector<ParameterBlock> out;
  for (std::size_t k = 0; k < blocks.size(); ++k)
    if (chosen[k]) out.push_back(blocks[k]);
  return out;
}

std::vector<IndexRange> block_ranges(std::span<const ParameterBlock> blocks) {
  std::vector<IndexRange> ranges;
  for (const ParameterBlock& b : blocks)
    if (b.length > 0) ranges.push_back({b.offset, b.length});
  std::sort(ranges.begin(), ranges.end(), [](const IndexRange& a, const IndexRange& b) { return a.offset < b.offset; });
  std::vector<IndexRange> merged;
  for (const IndexRange& r : ranges) {
    if (!merged.empty() && r.offset <= merged.back().offset + merged.back().length) {
      merged.back().length = std::max(merged.back().offset + merged.back().length, r.offset + r.length) - merged.back().offset;
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace decent
