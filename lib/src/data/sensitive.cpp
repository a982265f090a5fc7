#include "decent/data/sensitive.hpp"

#include "core/number_text.hpp"
#include "core/text_lines.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "decent/core/random.hpp"

namespace decent {
namespace {

using detail::number_text;
using detail::shown;

// Stream tags, after synthetic.cpp's 0..5, so that one run seed never gives two generators the same stream.
enum : std::uint64_t { tag_classes_rule = 6, tag_fair_sample = 7 };

constexpr std::string_view classes_prefix = "classes:";

bool unit_interval(double value) { return value >= 0 && value <= 1; }  // false for NaN

[[noreturn]] void bad_classes(std::string_view spec, const std::string& problem) {
  throw input_error("sensitive: '" + shown(spec) + "': " + problem);
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view blanks = " \t";
  const std::size_t first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

/// "4 in 'train', 2 in 'test'": the per-set sample counts, for the group file's count message.
std::string set_counts(std::span<Dataset* const> sets) {
  std::string text;
  for (std::size_t s = 0; s < sets.size(); ++s)
    text += (s > 0 ? ", " : "") + std::to_string(sets[s]->size()) + " in '" + sets[s]->name + "'";
  return text;
}

/// One 0/1 value per sample of every set, read from `path`, in set order.
std::vector<std::vector<int>> read_group_file(const std::string& path, std::span<Dataset* const> sets) {
  std::error_code ignored;
  // An ifstream opens a directory and then reads nothing: say what it is instead of "holds 0 values".
  if (std::filesystem::is_directory(path, ignored)) throw data_error(path + ": cannot open file: is a directory");
  std::ifstream in(path);
  if (!in) throw data_error(path + ": cannot open file: " + std::strerror(errno));

  std::vector<int> values;
  std::vector<std::string_view> tokens;
  std::string text;
  detail::FileLine<data_error> at{path, 0};
  while (std::getline(in, text)) {
    ++at.line;
    detail::split_tokens(text, tokens);
    for (std::string_view token : tokens) {
      long long value = 0;
      const char* end = token.data() + token.size();
      const auto [ptr, ec] = std::from_chars(token.data(), end, value);
      if (ec != std::errc{} || ptr != end)
        at.fail("'" + shown(token) + "' is not an integer: expected the sensitive attribute 0 or 1");
      if (value != 0 && value != 1)
        at.fail("value " + std::to_string(value) + " is not 0 or 1 (the sensitive attribute of a sample)");
      values.push_back(static_cast<int>(value));
    }
  }
  if (in.bad()) throw data_error(path + ":" + std::to_string(at.line + 1) + ": read error");

  Eigen::Index total = 0;
  for (const Dataset* set : sets) total += set->size();
  if (static_cast<Eigen::Index>(values.size()) != total)
    throw data_error(path + ": holds " + std::to_string(values.size()) + " values, but the data sets have " +
                     std::to_string(total) + " samples (" + set_counts(sets) +
                     "): expected one 0 or 1 per sample of every set, in that order");

  std::vector<std::vector<int>> groups(sets.size());
  auto next = values.begin();
  for (std::size_t s = 0; s < sets.size(); ++s) {
    groups[s].assign(next, next + sets[s]->size());
    next += sets[s]->size();
  }
  return groups;
}

/// Z of every sample of every set by the classes rule.
std::vector<std::vector<int>> classes_rule(std::span<Dataset* const> sets, const SensitiveOptions& options) {
  std::vector<std::vector<int>> groups(sets.size());
  for (std::size_t s = 0; s < sets.size(); ++s) {
    const Dataset& set = *sets[s];
    if (!set.classification())
      throw input_error("sensitive: '" + shown(options.sensitive) + "' needs class labels, but data set '" + set.name +
                        "' has none (regression): give group-file instead");
    if (static_cast<Eigen::Index>(set.labels.size()) != set.size())
      throw std::invalid_argument("attach_sensitive: data set '" + set.name + "' has " +
                                  std::to_string(set.labels.size()) + " labels for " + std::to_string(set.size()) +
                                  " samples");
    std::vector<char> listed(static_cast<std::size_t>(set.classes), 0);
    for (int c : parse_sensitive_classes(options.sensitive, set.classes)) listed[static_cast<std::size_t>(c)] = 1;

    std::vector<int>& z = groups[s];
    z.resize(set.labels.size());
    const auto set_index = static_cast<std::uint64_t>(s);
    for (std::size_t j = 0; j < z.size(); ++j) {
      const int label = set.labels[j];
      if (label < 0 || label >= set.classes)
        throw std::invalid_argument("attach_sensitive: data set '" + set.name + "': labels[" + std::to_string(j) +
                                    "] = " + std::to_string(label) + " is outside [0, classes = " +
                                    std::to_string(set.classes) + ")");
      // One stream per sample: Z of sample j does not depend on the set sizes or on the other sets.
      Rng rng(derive_seed(options.seed, {tag_classes_rule, set_index, static_cast<std::uint64_t>(j)}));
      const double p = listed[static_cast<std::size_t>(label)] ? options.correlation : 1 - options.correlation;
      z[j] = rng.uniform() < p ? 1 : 0;  // uniform() < 1 always and < 0 never: alpha = 1 or 0 is exact
    }
  }
  return groups;
}

/// x = mean + L n with L the Cholesky factor of [[a, b], [b, c]] (L = [[sqrt a, 0], [b / sqrt a, sqrt(c - b^2 / a)]])
/// and n ~ N(0, I_2) from rng.
void gaussian_2d(double mean, double a, double b, double c, Rng& rng, float* x) {
  const double l11 = std::sqrt(a);
  const double l21 = b / l11;
  const double l22 = std::sqrt(c - l21 * l21);
  const double n1 = rng.normal();
  const double n2 = rng.normal();
  x[0] = static_cast<float>(mean + l11 * n1);
  x[1] = static_cast<float>(mean + l21 * n1 + l22 * n2);
}

}  // namespace

bool has_sensitive(const SensitiveOptions& options) noexcept {
  return !options.group_file.empty() || !options.sensitive.empty();
}

std::vector<int> parse_sensitive_classes(std::string_view spec, int classes) {
  const std::string form = "expected classes:LIST, LIST a comma list of distinct class ids (e.g. classes:0,2,6)";
  if (!spec.starts_with(classes_prefix)) bad_classes(spec, "not a rule: " + form);
  std::string_view list = spec.substr(classes_prefix.size());
  if (trimmed(list).empty()) bad_classes(spec, "the class list is empty: " + form);

  std::vector<int> ids;
  for (;;) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trimmed(list.substr(0, comma));
    int id = 0;
    const char* end = item.data() + item.size();
    const auto [ptr, ec] = std::from_chars(item.data(), end, id);
    if (item.empty() || ec != std::errc{} || ptr != end)
      bad_classes(spec, "'" + shown(item) + "' is not a class id: " + form);
    if (id < 0 || id >= classes)
      bad_classes(spec, "class " + std::to_string(id) + " is outside [0, classes = " + std::to_string(classes) + ")");
    if (std::find(ids.begin(), ids.end(), id) != ids.end())
      bad_classes(spec, "class " + std::to_string(id) + " is listed twice");
    ids.push_back(id);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void attach_sensitive(std::span<Dataset* const> sets, const SensitiveOptions& options) {
  const bool file = !options.group_file.empty();
  const bool rule = !options.sensitive.empty();
  if (file && rule)
    throw input_error("group-file and sensitive are both given ('" + shown(options.group_file) + "', '" +
                      shown(options.sensitive) + "'): give one source of the sensitive attribute");
  if (!file && !rule) return;
  for (std::size_t s = 0; s < sets.size(); ++s)
    if (sets[s] == nullptr) throw std::invalid_argument("attach_sensitive: sets[" + std::to_string(s) + "] is null");
  if (!unit_interval(options.correlation))
    throw input_error("sensitive-correlation: must be a number in [0, 1], got " + number_text(options.correlation));

  // Everything is computed before any set changes, so an error leaves the sets as they were.
  std::vector<std::vector<int>> groups = file ? read_group_file(options.group_file, sets) : classes_rule(sets, options);
  for (std::size_t s = 0; s < sets.size(); ++s) sets[s]->groups = std::move(groups[s]);
}

Dataset synthetic_fair(Eigen::Index samples, double correlation, std::uint64_t seed) {
  if (samples < 2)
    throw std::invalid_argument("synthetic_fair: samples = " + std::to_string(samples) +
                                " must be >= 2 (one of each class)");
  if (!unit_interval(correlation))
    throw std::invalid_argument("synthetic_fair: correlation = " + number_text(correlation) + " must be in [0, 1]");
  Dataset data;
  data.name = "synthetic-fair";
  data.classes = 2;
  data.features.resize(2, samples);
  data.labels.resize(static_cast<std::size_t>(samples));
  data.groups.resize(static_cast<std::size_t>(samples));
  for (Eigen::Index j = 0; j < samples; ++j) {
    const int label = static_cast<int>(j % 2);
    Rng rng(derive_seed(seed, {tag_fair_sample, static_cast<std::uint64_t>(j)}));
    float* x = data.features.col(j).data();
    if (label == 1)
      gaussian_2d(2, 5, 1, 5, rng, x);
    else
      gaussian_2d(-2, 10, 1, 3, rng, x);
    const double p = label == 1 ? correlation : 1 - correlation;
    data.labels[static_cast<std::size_t>(j)] = label;
    data.groups[static_cast<std::size_t>(j)] = rng.uniform() < p ? 1 : 0;
  }
  return data;
}

}  // namespace decent
