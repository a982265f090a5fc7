#include "decent/data/dirichlet_split.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "decent/core/random.hpp"

namespace decent {
namespace {

// Stream tags, after partition.cpp's 0..3 so one run seed can drive both files' splits.
enum : std::uint64_t { tag_split_proportions = 4, tag_split_shuffle = 5, tag_mix_proportions = 9,
                       tag_mix_shuffle = 10 };

void require(bool ok, const char* function, const std::string& problem) {
  if (!ok) throw std::invalid_argument(std::string(function) + ": " + problem);
}

/// Appends the shuffled class samples `run` to the nodes in runs cut at floor(cumsum(weight / sum) n_k), the
/// reference's operation order; the last node gets the rest.
void cut_class(const std::vector<Eigen::Index>& run, const std::function<double(int)>& weight, double sum,
               Partition& parts) {
  const auto nodes = static_cast<int>(parts.size());
  const auto size = static_cast<Eigen::Index>(run.size());
  double cumulative = 0;
  Eigen::Index begin = 0;
  for (int i = 0; i < nodes; ++i) {
    Eigen::Index end = size;
    if (i + 1 < nodes) {
      cumulative += weight(i) / sum;
      end = std::clamp(static_cast<Eigen::Index>(cumulative * static_cast<double>(size)), begin, size);
    }
    auto& part = parts[static_cast<std::size_t>(i)];
    part.insert(part.end(), run.begin() + begin, run.begin() + end);
    begin = end;
  }
}

/// The attempt's result: parts with each node's indices sorted, or an empty Partition if a node is below min_size.
Partition finished(Partition parts, Eigen::Index min_size) {
  for (const auto& part : parts)
    if (static_cast<Eigen::Index>(part.size()) < min_size) return {};
  for (auto& part : parts) std::sort(part.begin(), part.end());
  return parts;
}

/// Attempt `attempt`: the split, or an empty Partition if a node ends below min_size.
Partition split_once(const std::vector<std::vector<Eigen::Index>>& members, Eigen::Index total, int nodes,
                     double alpha, Eigen::Index min_size, std::uint64_t seed, std::uint64_t attempt) {
  const auto classes = static_cast<int>(members.size());
  // dirichlet_proportions(nodes, classes, ...) has one column per class: q_k, a distribution over nodes.
  const Eigen::MatrixXd q =
      dirichlet_proportions(nodes, classes, alpha, derive_seed(seed, {tag_split_proportions, attempt}));
  Partition parts(static_cast<std::size_t>(nodes));
  std::vector<double> weight(static_cast<std::size_t>(nodes));
  std::vector<Eigen::Index> run;
  for (int k = 0; k < classes; ++k) {
    run = members[static_cast<std::size_t>(k)];
    if (run.empty()) continue;
    Rng rng(derive_seed(seed, {tag_split_shuffle, attempt, static_cast<std::uint64_t>(k)}));
    for (std::size_t j = run.size(); j > 1; --j) std::swap(run[j - 1], run[rng.below(j)]);

    // The balancing rule: len(idx_j) < N / nodes, compared exactly in integers.
    double sum = 0;
    for (int i = 0; i < nodes; ++i) {
      const auto held = static_cast<Eigen::Index>(parts[static_cast<std::size_t>(i)].size());
      weight[static_cast<std::size_t>(i)] = held * nodes < total ? q(i, k) : 0.0;
      sum += weight[static_cast<std::size_t>(i)];
    }
    // Some node is always below N / nodes while samples remain, but its q may have underflowed to 0
    // (tiny alpha): the reference would divide by zero; here the attempt fails.
    if (sum == 0) return {};

    cut_class(run, [&](int i) { return weight[static_cast<std::size_t>(i)]; }, sum, parts);
  }
  return finished(std::move(parts), min_size);
}

/// Attempt `attempt` of the mix variant: node i draws its class mix q_i ~ Dir(alpha 1), and class k's samples are
/// cut in proportion to q_{i,k} over the nodes; an empty Partition if a node ends below min_size.
Partition mix_once(const std::vector<std::vector<Eigen::Index>>& members, int nodes, double alpha,
                   Eigen::Index min_size, std::uint64_t seed, std::uint64_t attempt) {
  const auto classes = static_cast<int>(members.size());
  // One column per node: its class mix.
  const Eigen::MatrixXd q =
      dirichlet_proportions(classes, nodes, alpha, derive_seed(seed, {tag_mix_proportions, attempt}));
  Partition parts(static_cast<std::size_t>(nodes));
  std::vector<Eigen::Index> run;
  for (int k = 0; k < classes; ++k) {
    run = members[static_cast<std::size_t>(k)];
    if (run.empty()) continue;
    Rng rng(derive_seed(seed, {tag_mix_shuffle, attempt, static_cast<std::uint64_t>(k)}));
    for (std::size_t j = run.size(); j > 1; --j) std::swap(run[j - 1], run[rng.below(j)]);
    const double sum = q.row(k).sum();
    if (!(sum > 0)) return {};  // every node's weight of class k underflowed (tiny alpha)
    cut_class(run, [&](int i) { return q(k, i); }, sum, parts);
  }
  return finished(std::move(parts), min_size);
}

/// The classes' sample lists, with the arguments checked (`f` names the caller in messages).
std::vector<std::vector<Eigen::Index>> class_members(const char* f, std::span<const int> labels, int classes,
                                                     int nodes, double alpha, Eigen::Index min_size) {
  require(classes >= 1, f, "classes = " + std::to_string(classes) + " must be >= 1");
  require(nodes >= 1, f, "nodes = " + std::to_string(nodes) + " must be >= 1");
  require(std::isfinite(alpha) && alpha > 0, f, "alpha = " + std::to_string(alpha) + " must be finite and > 0");
  const auto total = static_cast<Eigen::Index>(labels.size());
  require(min_size >= 0 && min_size <= total / nodes, f,
          "min_size = " + std::to_string(min_size) + " must be in [0, samples / nodes = " + std::to_string(total) +
              " / " + std::to_string(nodes) + "] (every node needs min_size samples)");
  std::vector<std::vector<Eigen::Index>> members(static_cast<std::size_t>(classes));
  for (std::size_t k = 0; k < labels.size(); ++k) {
    require(labels[k] >= 0 && labels[k] < classes, f, "labels[" + std::to_string(k) + "] = " + std::to_string(labels[k]) +
                                                       " is outside [0, classes = " + std::to_string(classes) + ")");
    members[static_cast<std::size_t>(labels[k])].push_back(static_cast<Eigen::Index>(k));
  }
  return members;
}

[[noreturn]] void no_split(const char* function, Eigen::Index min_size, std::size_t total, int nodes, double alpha) {
  throw std::invalid_argument(std::string(function) + ": no split in " + std::to_string(dirichlet_split_attempts) +
                              " attempts gave every node >= min_size = " + std::to_string(min_size) + " samples (" +
                              std::to_string(total) + " samples, " + std::to_string(nodes) + " nodes, alpha = " +
                              std::to_string(alpha) + "); lower min_size or raise alpha");
}

}  // namespace

Partition partition_dirichlet_mix(std::span<const int> labels, int classes, int nodes, double alpha,
                                  Eigen::Index min_size, std::uint64_t seed) {
  const auto members = class_members("partition_dirichlet_mix", labels, classes, nodes, alpha, min_size);
  for (int attempt = 0; attempt < dirichlet_split_attempts; ++attempt) {
    Partition parts = mix_once(members, nodes, alpha, min_size, seed, static_cast<std::uint64_t>(attempt));
    if (!parts.empty()) return parts;
  }
  no_split("partition_dirichlet_mix", min_size, labels.size(), nodes, alpha);
}

Partition partition_dirichlet_split(std::span<const int> labels, int classes, int nodes, double alpha,
                                    Eigen::Index min_size, std::uint64_t seed) {
  const auto members = class_members("partition_dirichlet_split", labels, classes, nodes, alpha, min_size);
  const auto total = static_cast<Eigen::Index>(labels.size());
  for (int attempt = 0; attempt < dirichlet_split_attempts; ++attempt) {
    Partition parts = split_once(members, total, nodes, alpha, min_size, seed, static_cast<std::uint64_t>(attempt));
    if (!parts.empty()) return parts;
  }
  no_split("partition_dirichlet_split", min_size, labels.size(), nodes, alpha);
}

}  // namespace decent
