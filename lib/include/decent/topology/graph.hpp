#pragma once
/// @file The communication graph: who a node mixes in, without weights.
#include <cstddef>
#include <utility>
#include <vector>

namespace decent {

/// A simple graph on nodes 0..n-1 without self-loops. In a directed graph the arc (i, j) means
/// node i mixes in node j's value (W_ij > 0); an undirected edge is both arcs.
class Graph {
public:
  /// An empty graph on n >= 0 nodes.
  explicit Graph(int n = 0, bool directed = false);

  /// Adds edge {i, j} (undirected) or arc (i, j) (directed). Duplicates are ignored.
  /// Throws std::invalid_argument for an out-of-range node or a self-loop.
  void add_edge(int i, int j);

  int nodes() const noexcept { return static_cast<int>(adjacency_.size()); }
  bool directed() const noexcept { return directed_; }
  /// The nodes whose values node i mixes in, in increasing order (self excluded).
  const std::vector<int>& neighbors(int i) const;
  /// Number of neighbours of node i (in-degree for a directed graph).
  int degree(int i) const { return static_cast<int>(neighbors(i).size()); }
  int min_degree() const;  ///< 0 for the empty graph
  int max_degree() const;  ///< 0 for the empty graph
  /// Number of edges (undirected) or arcs (directed).
  std::size_t edge_count() const;
  /// Edges with i < j (undirected) or arcs (i, j) (directed), sorted.
  std::vector<std::pair<int, int>> edges() const;
  /// True if every node reaches every other (strongly, for a directed graph). The empty graph is not.
  bool connected() const;
  /// Longest shortest path in hops, or -1 if the graph is not (strongly) connected.
  int diameter() const;

private:
  /// Hop distances from `source` following arcs in the direction values travel.
  std::vector<int> distances_from(int source) const;
  std::vector<std::vector<int>> adjacency_;
  bool directed_;
};

}  // namespace decent
