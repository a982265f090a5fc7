#include "decent/topology/builders.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

#include "decent/core/random.hpp"
#include "topology/base_graph.hpp"

namespace decent {
namespace {

void require_nodes(int n, const char* what) {
  if (n < 1) throw std::invalid_argument(std::string(what) + " needs at least 1 node, got " + std::to_string(n));
}

/// ceil(log2 n) for n >= 1.
int ceil_log2(int n) { return n <= 1 ? 0 : std::bit_width(static_cast<unsigned>(n - 1)); }

}  // namespace

Graph ring_graph(int n) {
  require_nodes(n, "ring");
  Graph g(n);
  for (int i = 0; i < n; ++i)
    if (n > 1) g.add_edge(i, (i + 1) % n);
  return g;
}

std::pair<int, int> torus_shape(int n) {
  require_nodes(n, "torus");
  int rows = 1;
  for (int r = 1; static_cast<long>(r) * r <= n; ++r)
    if (n % r == 0) rows = r;
  return {rows, n / rows};
}

Graph torus_graph(int rows, int cols) {
  if (rows < 1 || cols < 1)
    throw std::invalid_argument("torus shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " must have at least 1 row and 1 column");
  Graph g(rows * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const int i = r * cols + c;
      const int down = ((r + 1) % rows) * cols + c;
      const int right = r * cols + (c + 1) % cols;
      if (down != i) g.add_edge(i, down);
      if (right != i) g.add_edge(i, right);
    }
  return g;
}

Graph exponential_graph(int n) {
  require_nodes(n, "exponential");
  Graph g(n, /*directed=*/true);
  for (int i = 0; i < n; ++i)
    for (long hop = 1; hop < n; hop *= 2) g.add_edge(i, static_cast<int>((i + hop) % n));
  return g;
}

Graph hypercube_graph(int n) {
  require_nodes(n, "hypercube");
  if (!std::has_single_bit(static_cast<unsigned>(n)))
    throw std::invalid_argument("hypercube needs a power-of-two node count, got " + std::to_string(n));
  Graph g(n);
  for (int i = 0; i < n; ++i)
    for (int bit = 1; bit < n; bit <<= 1)
      if (i < (i ^ bit)) g.add_edge(i, i ^ bit);
  return g;
}

Graph complete_graph(int n) {
  require_nodes(n, "complete");
  Graph g(n);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) g.add_edge(i, j);
  return g;
}

Graph star_graph(int n) {
  require_nodes(n, "star");
  Graph g(n);
  for (int j = 1; j < n; ++j) g.add_edge(0, j);
  return g;
}

Graph erdos_renyi_graph(int n, double p, std::uint64_t seed) {
  require_nodes(n, "erdos-renyi");
  if (!(p > 0.0 && p <= 1.0))
    throw std::invalid_argument("erdos-renyi edge probability must be in (0, 1], got " + std::to_string(p));
  constexpr int attempts = 1000;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    Rng rng(derive_seed(seed, {0x45524447ull /* "ERDG" */, static_cast<std::uint64_t>(attempt)}));
    Graph g(n);
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (rng.uniform() < p) g.add_edge(i, j);
    if (g.connected()) return g;
  }
  throw std::invalid_argument("erdos-renyi: no connected graph in " + std::to_string(attempts) +
                              " draws with n = " + std::to_string(n) + ", p = " + std::to_string(p) +
                              "; raise p (connectivity needs p above about ln(n)/n)");
}

std::vector<MixingMatrix> one_peer_exponential_rounds(int n) {
  require_nodes(n, "one-peer-exponential");
  if (n == 1) return {MixingMatrix::identity(1)};
  std::vector<MixingMatrix> rounds;
  for (int k = 0; k < ceil_log2(n); ++k) {
    MixingMatrix::Triplets entries;
    for (int i = 0; i < n; ++i) {
      entries.emplace_back(i, i, 0.5);
      entries.emplace_back(i, static_cast<int>((i + (1L << k)) % n), 0.5);
    }
    rounds.push_back(MixingMatrix::from_triplets(n, entries));
  }
  return rounds;
}

std::vector<MixingMatrix> base_rounds(int n, int k) {
  require_nodes(n, "base");
  if (k < 1) throw std::invalid_argument("base graph needs k >= 1 peers per round, got " + std::to_string(k));
  std::vector<MixingMatrix> rounds;
  for (const auto& entries : detail::base_graph_rounds(n, k)) rounds.push_back(MixingMatrix::from_triplets(n, entries));
  return rounds;
}

MixingMatrix random_round(int n, double r, std::uint64_t seed, std::int64_t round) {
  require_nodes(n, "random");
  if (!(r >= 0.0 && r <= n - 1))
    throw std::invalid_argument("random topology budget r = " + std::to_string(r) + " must be in [0, n-1] = [0, " +
                                std::to_string(n - 1) + "]");
  const int whole = static_cast<int>(std::floor(r));
  const double fraction = r - whole;
  Rng rng(derive_seed(seed, {0x524E4447ull /* "RNDG" */, static_cast<std::uint64_t>(round)}));
  MixingMatrix::Triplets entries;
  std::vector<int> peers;
  for (int i = 0; i < n; ++i) {
    // The extra-peer coin is always drawn so every node consumes the stream the same way.
    const bool extra = rng.uniform() < fraction;
    const int count = std::min(n - 1, whole + (extra ? 1 : 0));
    // Floyd's algorithm: `count` distinct values of 0..n-2, then skip over i itself.
    peers.clear();
    for (int m = n - 1 - count; m < n - 1; ++m) {
      const int t = static_cast<int>(rng.below(static_cast<std::uint64_t>(m) + 1));
      const int pick = std::find(peers.begin(), peers.end(), t) == peers.end() ? t : m;
      peers.push_back(pick);
    }
    const double w = 1.0 / (count + 1);
    entries.emplace_back(i, i, w);
    for (int p : peers) entries.emplace_back(i, p < i ? p : p + 1, w);
  }
  return MixingMatrix::from_triplets(n, entries);
}

}  // namespace decent
