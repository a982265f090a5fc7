// Base-(k+1) graph of Takezawa et al., "Beyond Exponential Graph: Communication-Efficient Topologies for
// Decentralized Learning via Finite-time Convergence" (NeurIPS 2023).
//
// Three building blocks, each a finite sequence of rounds whose product is the averaging matrix:
//  * HyperHyperCube: m = f_1 * ... * f_L with every f_l <= k+1. Round l averages the cliques of nodes that
//    agree on every mixed-radix digit except digit l.
//  * Simple Base-(k+1) graph (any n): split n by its base-(k+1) digits into groups, average each group with
//    a HyperHyperCube, pull the group means together, then re-average the nodes that took part in the merge.
//  * Product: an inner topology on n/d contiguous blocks followed by an outer one across the blocks.
// The Base-(k+1) graph is the shortest composition of these; see BaseGraphPlanner::plan.
#include "topology/base_graph.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace decent::detail {
namespace {

/// Round count standing for "this construction does not apply".
constexpr int kUnreachable = std::numeric_limits<int>::max() / 4;

/// The divisors of m > 0 in increasing order.
std::vector<int> divisors(int m) {
  std::vector<int> small;
  std::vector<int> large;
  for (int d = 1; static_cast<long long>(d) * d <= m; ++d) {
    if (m % d != 0) continue;
    small.push_back(d);
    if (d != m / d) large.push_back(m / d);
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

/// Where local node t of a sub-topology sits among the n nodes: offset + stride * t.
struct Placement {
  int offset = 0;
  int stride = 1;
  int operator()(int local) const { return offset + stride * local; }
};

/// Assembles one round from pieces that act on disjoint node sets.
class RoundBuilder {
 public:
  explicit RoundBuilder(int n) : has_row_(static_cast<std::size_t>(n), false) {}

  void add(int row, int col, double weight) {
    entries_.emplace_back(row, col, weight);
    has_row_[static_cast<std::size_t>(row)] = true;
  }

  /// Uniform averaging among `members` (global ids), self included.
  void add_clique(const std::vector<int>& members) {
    const double weight = 1.0 / static_cast<double>(members.size());
    for (int i : members)
      for (int j : members) add(i, j, weight);
  }

  void embed(const Triplets& local, Placement where) {
    for (const auto& entry : local) add(where(entry.row()), where(entry.col()), entry.value());
  }

  /// The round's entries; nodes no piece touched keep their value (weight 1 on the diagonal).
  Triplets finish() && {
    for (std::size_t i = 0; i < has_row_.size(); ++i)
      if (!has_row_[i]) entries_.emplace_back(static_cast<int>(i), static_cast<int>(i), 1.0);
    return std::move(entries_);
  }

 private:
  Triplets entries_;
  std::vector<bool> has_row_;
};

/// Round `round` (taken cyclically) of the HyperHyperCube with digit radices `radices`, placed at `where`.
void add_hypercube_round(RoundBuilder& builder, const std::vector<int>& radices, int round, Placement where) {
  if (radices.empty()) return;  // a single node has nothing to average
  const std::size_t digit = static_cast<std::size_t>(round) % radices.size();
  int size = 1;
  int stride = 1;
  for (std::size_t l = 0; l < radices.size(); ++l) {
    size *= radices[l];
    if (l < digit) stride *= radices[l];
  }
  const int radix = radices[digit];
  std::vector<int> clique(static_cast<std::size_t>(radix));
  for (int first = 0; first < size; ++first) {
    if ((first / stride) % radix != 0) continue;  // list each clique once, from its member with digit 0
    for (int t = 0; t < radix; ++t) clique[static_cast<std::size_t>(t)] = where(first + t * stride);
    builder.add_clique(clique);
  }
}

/// Nodes of the simple Base-(k+1) graph that share one base-(k+1) digit of n: count * (k+1)^power of them,
/// seen as `count` contiguous blocks of (k+1)^power nodes.
struct DigitGroup {
  int offset = 0;
  int count = 0;
  int block = 1;
  int power = 0;
  int size() const { return count * block; }
};

/// How to build the topology on some number of nodes.
struct Plan {
  int length = kUnreachable;  ///< number of rounds
  int outer = 1;              ///< 1: built directly; otherwise a product with `outer` blocks
};

/// Chooses and builds the shortest Base-(k+1) construction, memoising per node count.
class BaseGraphPlanner {
 public:
  explicit BaseGraphPlanner(int k) : k_(k) {}

  std::vector<Triplets> rounds(int n) {
    const Plan& chosen = plan(n);
    return chosen.outer == 1 ? direct_rounds(n) : product_rounds(n, chosen.outer);
  }

 private:
  /// Fewest clique rounds (clique size <= k+1) that average m nodes, and the first radix achieving it;
  /// kUnreachable if m has a prime factor above k+1.
  std::pair<int, int> fewest_cliques(int m) {
    if (m == 1) return {0, 1};
    if (auto it = cliques_.find(m); it != cliques_.end()) return it->second;
    std::pair<int, int> best{kUnreachable, 0};
    if (m <= k_ + 1) {
      best = {1, m};
    } else {
      // Largest radix first, so (k+1)^p always factors as p radices of k+1.
      const std::vector<int> divs = divisors(m);
      for (auto it = divs.rbegin(); it != divs.rend(); ++it) {
        if (*it < 2 || *it > k_ + 1) continue;
        const int rest = fewest_cliques(m / *it).first;
        if (rest != kUnreachable && rest + 1 < best.first) best = {rest + 1, *it};
      }
    }
    cliques_.emplace(m, best);
    return best;
  }

  /// Digit radices of the shortest HyperHyperCube on m nodes; m must have no prime factor above k+1.
  std::vector<int> radices(int m) {
    std::vector<int> result;
    while (m > 1) {
      const int radix = fewest_cliques(m).second;
      result.push_back(radix);
      m /= radix;
    }
    return result;
  }

  /// The groups of the simple Base-(k+1) graph on n nodes, most significant digit first.
  std::vector<DigitGroup> digit_groups(int n) const {
    const long long base = k_ + 1;
    long long block = 1;
    int power = 0;
    while (block * base <= n) {
      block *= base;
      ++power;
    }
    std::vector<DigitGroup> groups;
    int offset = 0;
    for (int rest = n; rest > 0; block /= base, --power) {
      const int count = rest / static_cast<int>(block);
      if (count == 0) continue;
      groups.push_back({offset, count, static_cast<int>(block), power});
      offset += groups.back().size();
      rest -= groups.back().size();
    }
    return groups;
  }

  /// Rounds of the direct construction: HyperHyperCube when it applies, else the simple Base-(k+1) graph.
  int direct_length(int n) {
    const int hypercube = fewest_cliques(n).first;
    if (hypercube != kUnreachable) return hypercube;
    const DigitGroup top = digit_groups(n).front();
    return fewest_cliques(top.size()).first + 1 + top.power;
  }

  const Plan& plan(int n) {
    if (auto it = plans_.find(n); it != plans_.end()) return it->second;
    Plan best{direct_length(n), 1};
    auto consider = [&](int outer) {
      if (outer <= 1 || outer >= n) return;
      const int length = plan(n / outer).length + plan(outer).length;
      if (length < best.length) best = {length, outer};
    };
    // The paper's alternative comes first so that it wins ties: its outer part is the largest divisor of n
    // without prime factors above k+1, averaged by a HyperHyperCube.
    int smooth = 1;
    for (int p = 2, rest = n; p <= k_ + 1 && p <= rest; ++p)
      for (; rest % p == 0; rest /= p) smooth *= p;
    consider(smooth);
    for (int outer : divisors(n)) consider(outer);
    return plans_.emplace(n, best).first->second;
  }

  std::vector<Triplets> direct_rounds(int n) {
    if (fewest_cliques(n).first != kUnreachable) {
      const std::vector<int> digits = radices(n);
      std::vector<Triplets> result;
      for (std::size_t l = 0; l < digits.size(); ++l) {
        RoundBuilder builder(n);
        add_hypercube_round(builder, digits, static_cast<int>(l), {0, 1});
        result.push_back(std::move(builder).finish());
      }
      return result;
    }
    return simple_base_rounds(n);
  }

  /// Inner topology on each block of n/outer contiguous nodes, then the outer one across blocks: once every
  /// block holds its own mean, averaging equal-sized blocks position by position gives the global mean.
  std::vector<Triplets> product_rounds(int n, int outer) {
    const int inner = n / outer;
    std::vector<Triplets> result;
    for (const Triplets& local : rounds(inner)) {
      RoundBuilder builder(n);
      for (int b = 0; b < outer; ++b) builder.embed(local, {b * inner, 1});
      result.push_back(std::move(builder).finish());
    }
    for (const Triplets& local : rounds(outer)) {
      RoundBuilder builder(n);
      for (int j = 0; j < inner; ++j) builder.embed(local, {j, inner});
      result.push_back(std::move(builder).finish());
    }
    return result;
  }

  /// Simple Base-(k+1) graph for n with a prime factor above k+1, so it has at least two digit groups.
  ///  1. Rounds [0, H): every group V_l reaches its own mean with a HyperHyperCube.
  ///  2. Round H + r for r < L-1 (merge): every node of V_{>r} takes weight n_r / |V_{>=r}| from V_r,
  ///     split over one partner in each block of V_r. Afterwards a node of V_l (l > r) holds
  ///     sum_{j<=r} (n_j/n) mean(V_j) + (|V_{>r}|/n) mean(V_l): the last group ends with the global mean,
  ///     and the entries of each block of V_r sum to the block size times the global mean.
  ///  3. From round H + r + 1, each block of V_r re-averages with a HyperHyperCube (p_r rounds).
  std::vector<Triplets> simple_base_rounds(int n) {
    const std::vector<DigitGroup> groups = digit_groups(n);
    const int last = static_cast<int>(groups.size()) - 1;
    std::vector<std::vector<int>> group_radices;
    std::vector<std::vector<int>> block_radices;
    for (const DigitGroup& group : groups) {
      group_radices.push_back(radices(group.size()));
      // A group below k+1 nodes is a single block: averaging it whole costs one round and adds mixing.
      block_radices.push_back(radices(group.power > 0 ? group.block : group.size()));
    }
    const int spread = fewest_cliques(groups.front().size()).first;
    const int length = spread + 1 + groups.front().power;

    std::vector<Triplets> result;
    for (int round = 0; round < length; ++round) {
      RoundBuilder builder(n);
      if (round < spread) {
        // Groups with shorter cubes repeat rounds: that keeps their mean and mixes while training.
        for (std::size_t g = 0; g < groups.size(); ++g)
          add_hypercube_round(builder, group_radices[g], round, {groups[g].offset, 1});
      } else {
        if (const int source = round - spread; source < last) add_merge(builder, groups, source, n);
        for (int g = 0; g <= last; ++g) {
          const int settle_start = spread + std::min(g + 1, last);
          if (round < settle_start) continue;
          const DigitGroup& group = groups[static_cast<std::size_t>(g)];
          const bool whole = group.power == 0;
          const int block_size = whole ? group.size() : group.block;
          for (int b = 0; b < (whole ? 1 : group.count); ++b)
            add_hypercube_round(builder, block_radices[static_cast<std::size_t>(g)], round - settle_start,
                                {group.offset + b * block_size, 1});
        }
      }
      result.push_back(std::move(builder).finish());
    }
    return result;
  }

  /// Merge round of the simple Base-(k+1) graph that pulls group `source` into all later groups.
  void add_merge(RoundBuilder& builder, const std::vector<DigitGroup>& groups, int source, int n) const {
    const DigitGroup& from = groups[static_cast<std::size_t>(source)];
    const int first_partner = groups[static_cast<std::size_t>(source) + 1].offset;
    // Fewer than (k+1)^power nodes follow this group, so every block has a distinct node for each partner.
    const int partners = n - first_partner;
    const double share = static_cast<double>(from.size()) / static_cast<double>(n - from.offset);
    const double per_peer = share / static_cast<double>(from.count);
    for (int c = 0; c < partners; ++c) {
      const int i = first_partner + c;
      builder.add(i, i, 1.0 - share);
      for (int b = 0; b < from.count; ++b) {
        const int j = from.offset + b * from.block + c;
        builder.add(i, j, per_peer);
        builder.add(j, i, per_peer);
        builder.add(j, j, 1.0 - per_peer);
      }
    }
    // The other nodes of the source group all hold the same value, so averaging them in cliques leaves the
    // product unchanged; the reference does it anyway because it mixes models that differ during training.
    std::vector<int> idle;
    for (int b = 0; b < from.count; ++b)
      for (int c = partners; c < from.block; ++c) idle.push_back(from.offset + b * from.block + c);
    const auto clique_size = static_cast<std::size_t>(k_) + 1;
    for (std::size_t start = 0; start + 1 < idle.size(); start += clique_size) {
      const std::size_t end = std::min(idle.size(), start + clique_size);
      builder.add_clique(std::vector<int>(idle.begin() + static_cast<std::ptrdiff_t>(start),
                                          idle.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  }

  int k_;
  std::map<int, std::pair<int, int>> cliques_;
  std::map<int, Plan> plans_;
};

}  // namespace

std::vector<Triplets> base_graph_rounds(int n, int k) {
  if (n < 1) throw std::invalid_argument("base_graph_rounds: node count must be >= 1, got " + std::to_string(n));
  if (k < 1) throw std::invalid_argument("base_graph_rounds: peer count k must be >= 1, got " + std::to_string(k));
  // A single node still gets one (identity) round so that callers can cycle through the sequence.
  if (n == 1) return {Triplets{Eigen::Triplet<double>(0, 0, 1.0)}};
  // More than n-1 peers cannot be used, and capping keeps k+1 from overflowing.
  return BaseGraphPlanner(std::min(k, n - 1)).rounds(n);
}

}  // namespace decent::detail
