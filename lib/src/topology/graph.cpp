#include "decent/topology/graph.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>

namespace decent {

Graph::Graph(int n, bool directed) : directed_(directed) {
  if (n < 0) throw std::invalid_argument("Graph: node count must be >= 0, got " + std::to_string(n));
  adjacency_.resize(static_cast<std::size_t>(n));
}

namespace {
void insert_sorted(std::vector<int>& list, int value) {
  auto it = std::lower_bound(list.begin(), list.end(), value);
  if (it == list.end() || *it != value) list.insert(it, value);
}
}  // namespace

void Graph::add_edge(int i, int j) {
  const int n = nodes();
  if (i < 0 || i >= n || j < 0 || j >= n)
    throw std::invalid_argument("Graph::add_edge: edge (" + std::to_string(i) + ", " + std::to_string(j) +
                                ") is outside nodes 0.." + std::to_string(n - 1));
  if (i == j) throw std::invalid_argument("Graph::add_edge: self-loop at node " + std::to_string(i));
  insert_sorted(adjacency_[static_cast<std::size_t>(i)], j);
  if (!directed_) insert_sorted(adjacency_[static_cast<std::size_t>(j)], i);
}

const std::vector<int>& Graph::neighbors(int i) const {
  if (i < 0 || i >= nodes())
    throw std::out_of_range("Graph::neighbors: node " + std::to_string(i) + " outside 0.." +
                            std::to_string(nodes() - 1));
  return adjacency_[static_cast<std::size_t>(i)];
}

int Graph::min_degree() const {
  int d = nodes() ? static_cast<int>(adjacency_.front().size()) : 0;
  for (const auto& a : adjacency_) d = std::min(d, static_cast<int>(a.size()));
  return d;
}

int Graph::max_degree() const {
  int d = 0;
  for (const auto& a : adjacency_) d = std::max(d, static_cast<int>(a.size()));
  return d;
}

std::size_t Graph::edge_count() const {
  std::size_t arcs = 0;
  for (const auto& a : adjacency_) arcs += a.size();
  return directed_ ? arcs : arcs / 2;
}

std::vector<std::pair<int, int>> Graph::edges() const {
  std::vector<std::pair<int, int>> out;
  out.reserve(edge_count());
  for (int i = 0; i < nodes(); ++i)
    for (int j : adjacency_[static_cast<std::size_t>(i)])
      if (directed_ || i < j) out.emplace_back(i, j);
  return out;
}

std::vector<int> Graph::distances_from(int source) const {
  // Values travel from j to i along arc (i, j), so for reachability we need the reverse arcs.
  // For undirected graphs both coincide; for directed ones we build the reverse lists once per call.
  std::vector<std::vector<int>> reverse;
  const std::vector<std::vector<int>>* out = &adjacency_;
  if (directed_) {
    reverse.resize(adjacency_.size());
    for (int i = 0; i < nodes(); ++i)
      for (int j : adjacency_[static_cast<std::size_t>(i)]) reverse[static_cast<std::size_t>(j)].push_back(i);
    out = &reverse;
  }
  std::vector<int> dist(adjacency_.size(), -1);
  std::deque<int> queue{source};
  dist[static_cast<std::size_t>(source)] = 0;
  while (!queue.empty()) {
    const int u = queue.front();
    queue.pop_front();
    for (int v : (*out)[static_cast<std::size_t>(u)])
      if (dist[static_cast<std::size_t>(v)] < 0) {
        dist[static_cast<std::size_t>(v)] = dist[static_cast<std::size_t>(u)] + 1;
        queue.push_back(v);
      }
  }
  return dist;
}

bool Graph::connected() const { return nodes() > 0 && diameter() >= 0; }

int Graph::diameter() const {
  if (nodes() == 0) return -1;
  int diameter = 0;
  for (int s = 0; s < nodes(); ++s) {
    for (int d : distances_from(s)) {
      if (d < 0) return -1;
      diameter = std::max(diameter, d);
    }
  }
  return diameter;
}

}  // namespace decent
