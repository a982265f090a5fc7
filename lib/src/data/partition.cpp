#include "decent/data/partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "decent/core/random.hpp"

namespace decent {
namespace {

// Stream tags (the Dirichlet ones are documented in the header).
enum : std::uint64_t { tag_proportions = 0, tag_dirichlet_draws = 1, tag_iid = 2, tag_shards = 3 };

// The paper's floor on every sample's weight (dirichlet_sampling.py): a node can always draw from any class.
constexpr double weight_floor = 1e-12;

void require(bool ok, const char* function, const std::string& problem) {
  if (!ok) throw std::invalid_argument(std::string(function) + ": " + problem);
}

/// Fisher-Yates with decent's portable Rng (std::shuffle's algorithm is implementation-defined).
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[rng.below(k)]);
}

/// log of a Gamma(shape, 1) variate: Marsaglia & Tsang (2000), "A simple method for generating gamma
/// variables", with their boost Gamma(a) = Gamma(a + 1) * U^(1/a) for a < 1. Logs keep tiny shapes
/// (U^(1/a) underflows for a ~ 0.01) representable.
double log_gamma_variate(double shape, Rng& rng) {
  if (shape < 1) {
    const double u = 1 - rng.uniform();  // in (0, 1]: log stays finite
    return log_gamma_variate(shape + 1, rng) + std::log(u) / shape;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1 / std::sqrt(9 * d);
  for (;;) {
    const double x = rng.normal();
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = rng.uniform();
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1 - v + std::log(v))) return std::log(d * v);
  }
}

/// Checks labels against [0, classes); `function` names the caller.
void check_labels(std::span<const int> labels, int classes, const char* function) {
  for (std::size_t k = 0; k < labels.size(); ++k)
    require(labels[k] >= 0 && labels[k] < classes, function,
            "labels[" + std::to_string(k) + "] = " + std::to_string(labels[k]) + " is outside [0, classes = " +
                std::to_string(classes) + ")");
}

}  // namespace

Partition partition_iid(Eigen::Index samples, int nodes, std::uint64_t seed) {
  require(nodes >= 1, "partition_iid", "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(samples >= nodes, "partition_iid",
          "samples = " + std::to_string(samples) + " must be >= nodes = " + std::to_string(nodes) +
              " (every node needs a sample)");
  std::vector<Eigen::Index> order(static_cast<std::size_t>(samples));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  Rng rng(derive_seed(seed, {tag_iid}));
  shuffle(order, rng);

  Partition parts(static_cast<std::size_t>(nodes));
  const Eigen::Index base = samples / nodes;
  const Eigen::Index extra = samples % nodes;
  auto first = order.begin();
  for (int i = 0; i < nodes; ++i) {
    const auto last = first + (base + (i < extra ? 1 : 0));
    auto& part = parts[static_cast<std::size_t>(i)];
    part.assign(first, last);
    std::sort(part.begin(), part.end());
    first = last;
  }
  return parts;
}

Eigen::MatrixXd dirichlet_proportions(int classes, int nodes, double alpha, std::uint64_t seed) {
  constexpr const char* f = "dirichlet_proportions";
  require(classes >= 1, f, "classes = " + std::to_string(classes) + " must be >= 1");
  require(nodes >= 1, f, "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(std::isfinite(alpha) && alpha > 0, f, "alpha = " + std::to_string(alpha) + " must be finite and > 0");
  Eigen::MatrixXd p(classes, nodes);
  for (int i = 0; i < nodes; ++i) {
    Rng rng(derive_seed(seed, {tag_proportions, static_cast<std::uint64_t>(i)}));
    for (int c = 0; c < classes; ++c) p(c, i) = log_gamma_variate(alpha, rng);
    // Normalizing exp(log g - max) equals g / sum(g) but cannot underflow to all zeros.
    const double top = p.col(i).maxCoeff();
    for (int c = 0; c < classes; ++c) p(c, i) = std::exp(p(c, i) - top);
    p.col(i) /= p.col(i).sum();
  }
  return p;
}

Partition partition_dirichlet(std::span<const int> labels, int classes, int nodes, double alpha,
                              Eigen::Index per_node, std::uint64_t seed) {
  constexpr const char* f = "partition_dirichlet";
  require(classes >= 1, f, "classes = " + std::to_string(classes) + " must be >= 1");
  require(nodes >= 1, f, "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(std::isfinite(alpha) && alpha > 0, f, "alpha = " + std::to_string(alpha) + " must be finite and > 0");
  const auto n = static_cast<Eigen::Index>(labels.size());
  require(per_node >= 1 && per_node <= n, f,
          "per_node = " + std::to_string(per_node) + " must be in [1, " + std::to_string(n) +
              "] (the number of samples; a node draws without replacement)");
  check_labels(labels, classes, f);

  // The samples grouped by class (counting sort): class c owns pool[start[c] .. start[c] + count[c]).
  const auto nc = static_cast<std::size_t>(classes);
  std::vector<Eigen::Index> count(nc, 0);
  for (int label : labels) ++count[static_cast<std::size_t>(label)];
  std::vector<Eigen::Index> start(nc + 1, 0);
  for (std::size_t c = 0; c < nc; ++c) start[c + 1] = start[c] + count[c];
  std::vector<Eigen::Index> pool(labels.size());
  {
    std::vector<Eigen::Index> fill(start.begin(), start.end() - 1);
    for (Eigen::Index k = 0; k < n; ++k) pool[static_cast<std::size_t>(fill[static_cast<std::size_t>(labels[k])]++)] = k;
  }

  const Eigen::MatrixXd p = dirichlet_proportions(classes, nodes, alpha, seed);
  Partition parts(static_cast<std::size_t>(nodes));
  std::vector<Eigen::Index> work;
  std::vector<Eigen::Index> left(nc);
  std::vector<double> weight(nc);
  for (int i = 0; i < nodes; ++i) {
    // Successive sampling without replacement: a drawn sample is swapped behind its class's undrawn
    // ones, so each draw costs O(classes), not O(samples).
    work = pool;
    left = count;
    for (std::size_t c = 0; c < nc; ++c) weight[c] = p(static_cast<Eigen::Index>(c), i) + weight_floor;
    Rng rng(derive_seed(seed, {tag_dirichlet_draws, static_cast<std::uint64_t>(i)}));
    auto& part = parts[static_cast<std::size_t>(i)];
    part.reserve(static_cast<std::size_t>(per_node));
    for (Eigen::Index t = 0; t < per_node; ++t) {
      double total = 0;
      for (std::size_t c = 0; c < nc; ++c) total += weight[c] * static_cast<double>(left[c]);
      double u = rng.uniform() * total;
      std::size_t chosen = nc;
      for (std::size_t c = 0; c < nc; ++c) {
        if (left[c] == 0) continue;
        chosen = c;  // rounding can leave u >= the last sum: then the last class with samples is taken
        u -= weight[c] * static_cast<double>(left[c]);
        if (u < 0) break;
      }
      const auto k = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(left[chosen])));
      const auto slot = static_cast<std::size_t>(start[chosen] + k);
      const auto back = static_cast<std::size_t>(start[chosen] + left[chosen] - 1);
      part.push_back(work[slot]);
      std::swap(work[slot], work[back]);
      --left[chosen];
    }
    std::sort(part.begin(), part.end());
  }
  return parts;
}

Partition partition_shards(std::span<const int> labels, int nodes, int shards_per_node, std::uint64_t seed) {
  constexpr const char* f = "partition_shards";
  require(nodes >= 1, f, "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(shards_per_node >= 1, f, "shards_per_node = " + std::to_string(shards_per_node) + " must be >= 1");
  const auto shards = static_cast<Eigen::Index>(nodes) * shards_per_node;
  const auto n = static_cast<Eigen::Index>(labels.size());
  require(n >= shards, f,
          "labels.size() = " + std::to_string(n) + " must be >= nodes * shards_per_node = " + std::to_string(shards) +
              " (every shard needs a sample)");
  for (std::size_t k = 0; k < labels.size(); ++k)
    require(labels[k] >= 0, f, "labels[" + std::to_string(k) + "] = " + std::to_string(labels[k]) + " must be >= 0");

  // A random order within each label: a shard cut through a class gets random samples of it.
  Rng rng(derive_seed(seed, {tag_shards}));
  std::vector<Eigen::Index> order(labels.size());
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  shuffle(order, rng);
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
    return labels[static_cast<std::size_t>(a)] < labels[static_cast<std::size_t>(b)];
  });

  std::vector<Eigen::Index> deal(static_cast<std::size_t>(shards));
  std::iota(deal.begin(), deal.end(), Eigen::Index{0});
  shuffle(deal, rng);

  const Eigen::Index shard_size = n / shards;
  Partition parts(static_cast<std::size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    auto& part = parts[static_cast<std::size_t>(i)];
    part.reserve(static_cast<std::size_t>(shard_size * shards_per_node));
    for (int s = 0; s < shards_per_node; ++s) {
      const Eigen::Index shard = deal[static_cast<std::size_t>(i) * static_cast<std::size_t>(shards_per_node) +
                                      static_cast<std::size_t>(s)];
      const auto first = order.begin() + shard * shard_size;
      part.insert(part.end(), first, first + shard_size);
    }
    std::sort(part.begin(), part.end());
  }
  return parts;
}

std::vector<int> class_counts(std::span<const int> labels, std::span<const Eigen::Index> indices, int classes) {
  require(classes >= 1, "class_counts", "classes = " + std::to_string(classes) + " must be >= 1");
  std::vector<int> counts(static_cast<std::size_t>(classes), 0);
  const auto n = static_cast<Eigen::Index>(labels.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const Eigen::Index index = indices[k];
    if (index < 0 || index >= n)
      throw std::out_of_range("class_counts: indices[" + std::to_string(k) + "] = " + std::to_string(index) +
                              " is outside [0, " + std::to_string(n) + ")");
    const int label = labels[static_cast<std::size_t>(index)];
    if (label < 0 || label >= classes)
      throw std::out_of_range("class_counts: labels[" + std::to_string(index) + "] = " + std::to_string(label) +
                              " is outside [0, classes = " + std::to_string(classes) + ")");
    ++counts[static_cast<std::size_t>(label)];
  }
  return counts;
}

}  // namespace decent
