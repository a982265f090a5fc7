#include "decent/topology/file.hpp"

#include "core/text_lines.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace decent {
namespace {

// Same tolerance as MixingMatrix's default, so a file we accept also passes its validation.
constexpr double row_sum_tolerance = 1e-9;
// A cap well below int's range: a typo such as "nodes 2000000000" is an error naming the line, not an
// allocation failure (a topology's dense spectral analysis is far out of reach long before this). At
// 2^24 the 23-byte file "nodes 16777215\n0 1 0.5\n" took 1.5 GB and 11 s to read (found by the fuzzer);
// at 2^20 such a file costs about 100 MB.
constexpr long long max_node_id = (1LL << 20) - 1;

using FileLine = detail::FileLine<topology_file_error, int>;
using detail::shown;

[[noreturn]] void fail_file(const std::string& path, const std::string& problem) {
  throw topology_file_error(path + ": " + problem);
}

/// 17 significant digits: enough for every double to read back as itself.
std::string format_weight(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 17);
  return std::string(text, result.ptr);
}

/// The shortest text that reads back as `value`, for messages.
std::string format_short(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

/// A non-negative integer token; `what` names it in messages ("node id", "node count").
long long parse_count(const FileLine& at, std::string_view token, const std::string& what) {
  long long value = 0;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  // from_chars accepts a leading '-', and "-0" would otherwise slip through as 0.
  const bool negative = !token.empty() && token.front() == '-';
  if (ec == std::errc::result_out_of_range && !negative)
    at.fail(what + " '" + shown(token) + "' is too large (at most " + std::to_string(max_node_id) + ")");
  if (ec != std::errc{} || ptr != end || negative)
    at.fail(what + " '" + shown(token) + "' is not a non-negative integer");
  if (value > max_node_id)
    at.fail(what + " '" + shown(token) + "' is too large (at most " + std::to_string(max_node_id) + ")");
  return value;
}

double parse_weight(const FileLine& at, std::string_view token) {
  double value = 0.0;
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range)
    at.fail("weight '" + shown(token) + "' is out of range of a double; weights must be > 0 and <= 1");
  if (ec != std::errc{} || ptr != end)
    at.fail("weight '" + shown(token) + "' is not a real number");
  if (!std::isfinite(value) || value <= 0.0 || value > 1.0)
    at.fail("weight '" + shown(token) + "' is out of range: weights must be finite, > 0 and <= 1");
  return value;
}

bool looks_numeric(std::string_view token) {
  const char c = token.front();
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
}

/// One edge, arc or self weight line as read, kept with its line for later messages.
struct EdgeLine {
  int i;
  int j;
  double weight;  // 0 in an unweighted file
  int line;
};

/// Everything a file says, before the weights are completed and checked.
struct ParsedFile {
  int declared_nodes = -1;  // -1: no `nodes` line
  int nodes_line = 0;
  bool directed = false;
  int directed_line = 0;
  bool weighted = false;
  int first_edge_line = 0;  // 0: no edge yet
  std::vector<EdgeLine> edges;
};

void parse_keyword(const FileLine& at, const std::vector<std::string_view>& tokens, ParsedFile& file) {
  const std::string keyword(tokens.front());
  if (keyword == "nodes") {
    if (file.nodes_line != 0)
      at.fail("'nodes' is given twice (first on line " + std::to_string(file.nodes_line) + ")");
    if (file.first_edge_line != 0)
      at.fail("'nodes' must come before the first edge (line " + std::to_string(file.first_edge_line) + ")");
    if (tokens.size() != 2) at.fail("'nodes' takes exactly one value, the number of nodes (wrong token count)");
    const long long n = parse_count(at, tokens[1], "node count");
    if (n == 0) at.fail("'nodes 0' declares no nodes; a topology needs at least one node");
    file.declared_nodes = static_cast<int>(n);
    file.nodes_line = at.line;
  } else if (keyword == "directed") {
    if (file.directed_line != 0)
      at.fail("'directed' is given twice (first on line " + std::to_string(file.directed_line) + ")");
    if (file.first_edge_line != 0)
      at.fail("'directed' must come before the first edge (line " + std::to_string(file.first_edge_line) + ")");
    if (tokens.size() != 1) at.fail("'directed' takes no value (wrong token count)");
    file.directed = true;
    file.directed_line = at.line;
  } else {
    at.fail("unknown keyword '" + shown(keyword) + "' (expected 'nodes', 'directed' or an edge 'i j [weight]')");
  }
}

void parse_edge(const FileLine& at, const std::vector<std::string_view>& tokens, ParsedFile& file,
                std::map<std::pair<int, int>, int>& seen) {
  if (tokens.size() != 2 && tokens.size() != 3)
    at.fail("wrong token count: expected an edge 'i j' or 'i j weight', found " + std::to_string(tokens.size()) +
            " tokens");
  const bool weighted = tokens.size() == 3;
  if (file.first_edge_line == 0) {
    file.first_edge_line = at.line;
    file.weighted = weighted;
  } else if (weighted != file.weighted) {
    const std::string first = std::to_string(file.first_edge_line);
    at.fail(weighted ? "this edge has a weight but the first edge (line " + first +
                           ") has none: a file is either fully weighted or unweighted"
                     : "this edge has no weight but the first edge (line " + first +
                           ") has one: a file is either fully weighted or unweighted");
  }

  const auto i = static_cast<int>(parse_count(at, tokens[0], "node id"));
  const auto j = static_cast<int>(parse_count(at, tokens[1], "node id"));
  for (const int id : {i, j})
    if (file.declared_nodes >= 0 && id >= file.declared_nodes)
      at.fail("node id " + std::to_string(id) + " is out of range 0.." + std::to_string(file.declared_nodes - 1) +
              " (the file declares nodes " + std::to_string(file.declared_nodes) + ")");
  if (i == j && !weighted)
    at.fail("self-loop " + std::to_string(i) + " " + std::to_string(j) +
            " is only allowed in a weighted file, where it gives the self weight");
  const double weight = weighted ? parse_weight(at, tokens[2]) : 0.0;

  // An undirected edge is the same whether written "i j" or "j i".
  const std::pair<int, int> key = file.directed ? std::pair{i, j} : std::pair{std::min(i, j), std::max(i, j)};
  const auto [previous, inserted] = seen.emplace(key, at.line);
  if (!inserted) {
    const char* kind = i == j ? "self weight for node " : file.directed ? "duplicate arc " : "duplicate edge ";
    at.fail(kind + std::to_string(i) + (i == j ? "" : " " + std::to_string(j)) + (i == j ? " given twice" : "") +
            " (first given on line " + std::to_string(previous->second) + ")");
  }
  file.edges.push_back({i, j, weight, at.line});
}

ParsedFile parse_lines(const std::string& path, std::istream& in) {
  ParsedFile file;
  std::map<std::pair<int, int>, int> seen;
  std::string text;
  std::vector<std::string_view> tokens;
  for (int line = 1; std::getline(in, text); ++line) {
    detail::split_tokens(text, tokens);
    if (tokens.empty()) continue;
    const FileLine at{path, line};
    if (looks_numeric(tokens.front()))
      parse_edge(at, tokens, file, seen);
    else
      parse_keyword(at, tokens, file);
  }
  if (in.bad()) fail_file(path, "error while reading the topology file");
  return file;
}

/// Completes the diagonal (1 - off-diagonal row sum unless given) and checks every row sums to 1.
MixingMatrix weights_of(const std::string& path, const ParsedFile& file, int n) {
  std::vector<double> row_sum(static_cast<std::size_t>(n), 0.0);
  std::vector<int> self_line(static_cast<std::size_t>(n), 0);
  MixingMatrix::Triplets entries;
  entries.reserve(file.edges.size() * 2 + static_cast<std::size_t>(n));
  const auto add_to_row = [&](int row, const EdgeLine& edge) {
    double& sum = row_sum[static_cast<std::size_t>(row)];
    sum += edge.weight;
    if (sum > 1.0 + row_sum_tolerance)
      FileLine{path, edge.line}.fail("node " + std::to_string(row) + "'s row sum is " + format_short(sum) +
                                     ", above 1 (the weights node " + std::to_string(row) + " gives must sum to 1)");
  };
  // Rows are summed in file order, so an overfull row is reported at the line that takes it above 1.
  for (const EdgeLine& edge : file.edges) {
    entries.emplace_back(edge.i, edge.j, edge.weight);
    add_to_row(edge.i, edge);
    if (edge.i == edge.j) {
      self_line[static_cast<std::size_t>(edge.i)] = edge.line;
    } else if (!file.directed) {
      entries.emplace_back(edge.j, edge.i, edge.weight);
      add_to_row(edge.j, edge);
    }
  }
  for (int node = 0; node < n; ++node) {
    const auto k = static_cast<std::size_t>(node);
    if (self_line[k] != 0) {
      if (std::abs(row_sum[k] - 1.0) > row_sum_tolerance)
        FileLine{path, self_line[k]}.fail("with this explicit self weight, node " + std::to_string(node) +
                                          "'s row sum is " + format_short(row_sum[k]) + ", not 1 (within 1e-9)");
    } else if (1.0 - row_sum[k] > row_sum_tolerance) {
      // A remainder within the tolerance is rounding noise, not a self weight: storing it would make
      // write-then-read add a diagonal entry the written matrix did not have.
      entries.emplace_back(node, node, 1.0 - row_sum[k]);
    }
  }
  try {
    return MixingMatrix::from_triplets(n, entries, row_sum_tolerance);
  } catch (const std::invalid_argument& error) {
    fail_file(path, std::string("the weights do not form a valid mixing matrix: ") + error.what());
  }
}

/// Exact symmetry (values compared with ==): writing only i <= j must lose nothing.
bool exactly_symmetric(const MixingMatrix::Sparse& w) {
  for (int row = 0; row < w.outerSize(); ++row)
    for (MixingMatrix::Sparse::InnerIterator it(w, row); it; ++it)
      if (it.value() != w.coeff(it.col(), it.row())) return false;
  return true;
}

}  // namespace

TopologyFile read_topology_file(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) fail_file(path, "is a directory, not a topology file");
  std::ifstream in(path);
  if (!in) fail_file(path, "cannot open the topology file for reading (missing or unreadable)");
  const ParsedFile file = parse_lines(path, in);

  int n = file.declared_nodes;
  if (n < 0) {
    if (file.edges.empty()) fail_file(path, "the topology file has no nodes (no 'nodes' line and no edges)");
    long long largest = 0;
    for (const EdgeLine& edge : file.edges) largest = std::max<long long>(largest, std::max(edge.i, edge.j));
    n = static_cast<int>(largest + 1);
  }

  TopologyFile result{Graph(n, file.directed), std::nullopt};
  for (const EdgeLine& edge : file.edges)
    if (edge.i != edge.j) result.graph.add_edge(edge.i, edge.j);
  if (file.weighted) result.weights = weights_of(path, file, n);
  return result;
}

void write_topology_file(const std::string& path, const MixingMatrix& w, const std::string& comment) {
  // A file with no nodes is an error on reading, so refuse to produce one.
  if (w.nodes() == 0) fail_file(path, "cannot write a mixing matrix with no nodes (a topology needs at least one)");
  const MixingMatrix::Sparse& sparse = w.sparse();
  const bool symmetric = exactly_symmetric(sparse);

  std::ostringstream out;
  if (!comment.empty()) {
    std::istringstream lines(comment);
    for (std::string line; std::getline(lines, line);) out << "# " << line << '\n';
  }
  out << "nodes " << w.nodes() << '\n';
  if (!symmetric) out << "directed\n";
  for (int row = 0; row < sparse.outerSize(); ++row)
    for (MixingMatrix::Sparse::InnerIterator it(sparse, row); it; ++it) {
      // Explicitly stored zeros are not part of the pattern, and the format has no zero weight.
      if (it.value() == 0.0 || (symmetric && it.col() < it.row())) continue;
      out << it.row() << ' ' << it.col() << ' ' << format_weight(it.value()) << '\n';
    }

  std::ofstream file(path, std::ios::out | std::ios::trunc);
  if (!file) fail_file(path, "cannot open the topology file for writing");
  file << out.str();
  file.flush();
  if (!file) fail_file(path, "error while writing the topology file");
}

}  // namespace decent
