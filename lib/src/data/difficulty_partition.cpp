#include "decent/data/difficulty_partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "decent/core/random.hpp"
#include "decent/data/problem.hpp"

namespace decent {
namespace {

// Stream tag, after partition.cpp's and dirichlet_split.cpp's (0 .. 10).
constexpr std::uint64_t tag_difficulty_shuffle = 11;

}  // namespace

DifficultyOrder parse_difficulty_order(std::string_view name) {
  if (name == "inc") return DifficultyOrder::inc;
  if (name == "dec") return DifficultyOrder::dec;
  if (name == "rand") return DifficultyOrder::rand;
  throw std::invalid_argument("unknown difficulty order '" + std::string(name) + "' (valid: inc, dec, rand)");
}

std::string to_string(DifficultyOrder order) {
  switch (order) {
    case DifficultyOrder::inc: return "inc";
    case DifficultyOrder::dec: return "dec";
    case DifficultyOrder::rand: return "rand";
  }
  return "?";
}

Partition partition_difficulty(std::span<const float> scores, int nodes, DifficultyOrder order, std::uint64_t seed) {
  const auto samples = static_cast<Eigen::Index>(scores.size());
  if (nodes < 1) throw std::invalid_argument("partition_difficulty: needs at least one node, got " + std::to_string(nodes));
  if (samples < nodes)
    throw std::invalid_argument("partition_difficulty: " + std::to_string(samples) + " samples cannot fill " +
                                std::to_string(nodes) + " nodes");
  for (Eigen::Index j = 0; j < samples; ++j)
    if (!std::isfinite(scores[static_cast<std::size_t>(j)]))
      throw std::invalid_argument("partition_difficulty: sample " + std::to_string(j) + "'s score is not finite");
  std::vector<Eigen::Index> sorted;
  if (order == DifficultyOrder::rand) {
    sorted = seeded_permutation(samples, derive_seed(seed, {tag_difficulty_shuffle}));
  } else {
    sorted.resize(static_cast<std::size_t>(samples));
    std::iota(sorted.begin(), sorted.end(), Eigen::Index{0});
    const auto score = [&](Eigen::Index j) { return scores[static_cast<std::size_t>(j)]; };
    const bool inc = order == DifficultyOrder::inc;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return inc ? score(a) < score(b) : score(a) > score(b); });
  }
  Partition parts(static_cast<std::size_t>(nodes));
  const Eigen::Index base = samples / nodes, extra = samples % nodes;
  Eigen::Index begin = 0;
  for (int i = 0; i < nodes; ++i) {
    const Eigen::Index size = base + (i < extra ? 1 : 0);
    auto& part = parts[static_cast<std::size_t>(i)];
    part.assign(sorted.begin() + begin, sorted.begin() + begin + size);
    std::sort(part.begin(), part.end());
    begin += size;
  }
  return parts;
}

}  // namespace decent
