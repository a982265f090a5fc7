#include "decent/data/libsvm.hpp"

#include "core/text_lines.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace decent {
namespace {

// Far above any real feature count, well below int overflow in the dense row index.
constexpr long long max_index = (1LL << 31) - 1;
// The dense features (dim x N floats) may hold at most this many values (512 MiB): a one-line file
// "1 2000000000:1" must be an error naming the line, not an 8 GB allocation. Mnist, covtype or SUSY
// in LIBSVM form fit (47M, 31M, 90M values); a sparse set like rcv1 (20242 x 47236) never fitted densely.
constexpr long long max_dense_values = 1LL << 27;

using FileLine = detail::FileLine<data_error>;
using detail::shown;
using detail::split_tokens;

/// A finite number; from_chars rejects the leading '+' that LIBSVM files often carry ("+1"), so skip it.
template <class Real>
bool parse_real(std::string_view token, Real& value) {
  if (token.size() > 1 && token.front() == '+' && token[1] != '-' && token[1] != '+') token.remove_prefix(1);
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  return ec == std::errc{} && ptr == end && std::isfinite(value);
}

}  // namespace

Dataset read_libsvm(const std::string& path, std::string name, LibsvmOptions opts) {
  if (opts.dim < 0) throw std::invalid_argument("read_libsvm: opts.dim = " + std::to_string(opts.dim) +
                                                " must be >= 0 (0 = the largest index in the file)");
  std::error_code ignored;
  // An ifstream opens a directory and then reads nothing: say what it is instead of "no samples".
  if (std::filesystem::is_directory(path, ignored)) throw data_error(path + ": cannot open file: is a directory");
  std::ifstream in(path);
  if (!in) throw data_error(path + ": cannot open file: " + std::strerror(errno));

  // The file is read once into sparse triplets: the dense shape is known only at the end.
  struct Entry {
    Eigen::Index row;
    Eigen::Index sample;
    float value;
  };
  std::vector<Entry> entries;
  std::vector<double> values;  // the first column of every sample
  std::vector<std::string_view> tokens;
  std::string text;
  long long max_seen = 0;
  FileLine at{path, 0};
  while (std::getline(in, text)) {
    ++at.line;
    split_tokens(text, tokens);
    if (tokens.empty()) continue;
    double label = 0;
    if (!parse_real(tokens[0], label))
      at.fail("label '" + shown(tokens[0]) + "' is not a finite number: expected `label index:value ...`");
    const auto sample = static_cast<Eigen::Index>(values.size());
    long long previous = 0;
    for (std::size_t k = 1; k < tokens.size(); ++k) {
      const std::string_view token = tokens[k];
      const std::size_t colon = token.find(':');
      if (colon == std::string_view::npos)
        at.fail("feature '" + shown(token) + "' has no ':': expected index:value");
      const std::string_view index_text = token.substr(0, colon);
      const std::string_view value_text = token.substr(colon + 1);
      long long index = 0;
      const char* end = index_text.data() + index_text.size();
      const auto [ptr, ec] = std::from_chars(index_text.data(), end, index);
      if (ec == std::errc::result_out_of_range || (ec == std::errc{} && ptr == end && index > max_index))
        at.fail("index '" + shown(index_text) + "' is too large: expected at most " + std::to_string(max_index));
      if (ec != std::errc{} || ptr != end)
        at.fail("index '" + shown(index_text) + "' in '" + shown(token) +
                "' is not an integer: expected a positive feature index");
      if (index <= 0)
        at.fail("index " + std::to_string(index) + " in '" + shown(token) +
                "' is not positive: feature indices start at 1");
      if (index <= previous)
        at.fail("index " + std::to_string(index) + " follows index " + std::to_string(previous) +
                ": expected strictly increasing indices");
      if (opts.dim > 0 && index > opts.dim)
        at.fail("index " + std::to_string(index) + " is larger than the dimension " + std::to_string(opts.dim) +
                " given in the options");
      float value = 0;
      if (!parse_real(value_text, value))
        at.fail("value '" + shown(value_text) + "' of index " + std::to_string(index) +
                " is not a finite number");
      previous = index;
      entries.push_back({static_cast<Eigen::Index>(index - 1), sample, value});
    }
    if (opts.task == LibsvmTask::regression && std::abs(label) > std::numeric_limits<float>::max())
      at.fail("target '" + shown(tokens[0]) + "' is outside the range of a float (about +-3.4e38)");
    max_seen = std::max(max_seen, previous);
    values.push_back(label);
    const long long rows = opts.dim > 0 ? static_cast<long long>(opts.dim) : max_seen;
    if (rows > max_dense_values / static_cast<long long>(values.size()))
      at.fail("the dense features would be " + std::to_string(rows) + " x " + std::to_string(values.size()) +
              " values (dimension x samples so far), above the reader's limit of " +
              std::to_string(max_dense_values) + " (512 MiB of floats)");
  }
  if (in.bad()) throw data_error(path + ":" + std::to_string(at.line + 1) + ": read error");
  if (values.empty()) {
    at.line = std::max(at.line, 1LL);
    at.fail("no samples: expected at least one line `label index:value ...`");
  }

  Dataset data;
  data.name = std::move(name);
  const auto n = static_cast<Eigen::Index>(values.size());
  const Eigen::Index dim = opts.dim > 0 ? opts.dim : static_cast<Eigen::Index>(max_seen);
  data.features.setZero(dim, n);
  for (const Entry& e : entries) data.features(e.row, e.sample) = e.value;

  if (opts.task == LibsvmTask::regression) {
    data.targets.resize(n);
    for (Eigen::Index k = 0; k < n; ++k) data.targets(k) = static_cast<float>(values[static_cast<std::size_t>(k)]);
    return data;
  }
  std::vector<double> distinct = values;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  data.classes = static_cast<int>(distinct.size());
  data.labels.resize(values.size());
  for (std::size_t k = 0; k < values.size(); ++k)
    data.labels[k] = static_cast<int>(std::lower_bound(distinct.begin(), distinct.end(), values[k]) - distinct.begin());
  return data;
}

}  // namespace decent
