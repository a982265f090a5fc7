#pragma once
/// @file The difficulty-graded partition of the curricula paper's code (Curriculum-FL,
/// partition_difficulty_dist; docs/curricula.md): the training set ordered by each sample's difficulty
/// score (the expert's loss) before it is cut into equal parts, so node k holds the k-th difficulty slice.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "decent/data/partition.hpp"

namespace decent {

/// How the samples are ordered before the cut.
enum class DifficultyOrder {
  inc,  ///< "inc": ascending score, node 0 holds the easiest slice
  dec,  ///< "dec": descending score, node 0 holds the hardest slice
  rand  ///< "rand": a seeded random order (an IID split of equal parts: the baseline)
};
/// Parses inc | dec | rand; std::invalid_argument names the value and lists the valid names.
DifficultyOrder parse_difficulty_order(std::string_view name);
/// The order's name.
std::string to_string(DifficultyOrder order);

/// The samples 0 .. scores.size()-1 in `order` (ties by index, ascending for inc and dec alike; rand: the
/// permutation of derive_seed(seed, {11})) cut into `nodes` contiguous parts whose sizes differ by at most one
/// (the first samples % nodes parts get one more), each returned sorted ascending. Disjoint and covering.
/// std::invalid_argument unless nodes >= 1, scores.size() >= nodes and every score is finite.
Partition partition_difficulty(std::span<const float> scores, int nodes, DifficultyOrder order, std::uint64_t seed);

}  // namespace decent
