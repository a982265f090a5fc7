// The difficulty-graded partition: slices of the score order checked by hand, ties, the random baseline against
// an independent cut of seeded_permutation, and the refusals.
#include "decent/data/difficulty_partition.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "decent/core/random.hpp"
#include "decent/data/problem.hpp"

using namespace decent;
using Catch::Matchers::Contains;

namespace {
using Parts = std::vector<std::vector<Eigen::Index>>;
}  // namespace

TEST_CASE("partition_difficulty gives node k the k-th slice of the score order", "[difficulty]") {
  const std::vector<float> scores{5, 1, 4, 2, 3, 0};
  // ascending: samples 5, 1, 3, 4, 2, 0
  CHECK(partition_difficulty(scores, 3, DifficultyOrder::inc, 1) == Parts{{1, 5}, {3, 4}, {0, 2}});
  CHECK(partition_difficulty(scores, 3, DifficultyOrder::dec, 1) == Parts{{0, 2}, {3, 4}, {1, 5}});
  CHECK(partition_difficulty(scores, 1, DifficultyOrder::inc, 1) == Parts{{0, 1, 2, 3, 4, 5}});
  // 7 samples over 3 nodes: sizes 3, 2, 2; ascending order 6, 5, 1, 3, 4, 2, 0
  const std::vector<float> seven{5, 1, 4, 2, 3, 0, -1};
  CHECK(partition_difficulty(seven, 3, DifficultyOrder::inc, 1) == Parts{{1, 5, 6}, {3, 4}, {0, 2}});
  CHECK(partition_difficulty(seven, 3, DifficultyOrder::dec, 1) == Parts{{0, 2, 4}, {1, 3}, {5, 6}});
}

TEST_CASE("partition_difficulty breaks ties by sample index in both directions", "[difficulty]") {
  const std::vector<float> scores{1, 0, 1, 0, 1, 0};
  // ascending: the zeros 1, 3, 5 then the ones 0, 2, 4; descending: the ones first, each run by index
  CHECK(partition_difficulty(scores, 2, DifficultyOrder::inc, 1) == Parts{{1, 3, 5}, {0, 2, 4}});
  CHECK(partition_difficulty(scores, 3, DifficultyOrder::dec, 1) == Parts{{0, 2}, {1, 4}, {3, 5}});
  const std::vector<float> flat(5, 2.0f);
  CHECK(partition_difficulty(flat, 2, DifficultyOrder::inc, 1) == Parts{{0, 1, 2}, {3, 4}});
  CHECK(partition_difficulty(flat, 2, DifficultyOrder::dec, 1) == Parts{{0, 1, 2}, {3, 4}});
}

TEST_CASE("partition_difficulty rand is a seeded permutation cut into equal parts, ignoring the scores",
          "[difficulty]") {
  std::vector<float> scores(1003);
  for (std::size_t j = 0; j < scores.size(); ++j) scores[j] = static_cast<float>((j * 37) % 101);
  const Parts parts = partition_difficulty(scores, 10, DifficultyOrder::rand, 42);
  // independent: the permutation of the documented stream, cut by hand
  const std::vector<Eigen::Index> order = seeded_permutation(1003, derive_seed(42, {11}));
  std::size_t begin = 0;
  std::vector<int> seen(1003, 0);
  for (std::size_t i = 0; i < 10; ++i) {
    const std::size_t size = i < 3 ? 101 : 100;
    std::vector<Eigen::Index> expected(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                       order.begin() + static_cast<std::ptrdiff_t>(begin + size));
    std::sort(expected.begin(), expected.end());
    CHECK(parts[i] == expected);
    for (const Eigen::Index j : parts[i]) ++seen[static_cast<std::size_t>(j)];
    begin += size;
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  std::vector<float> other(1003, 0.0f);
  CHECK(partition_difficulty(other, 10, DifficultyOrder::rand, 42) == parts);
  CHECK(partition_difficulty(scores, 10, DifficultyOrder::rand, 43) != parts);
}

TEST_CASE("partition_difficulty refuses impossible splits and unusable scores", "[difficulty]") {
  const std::vector<float> scores{1, 2, 3};
  CHECK_THROWS_WITH(partition_difficulty(scores, 0, DifficultyOrder::inc, 1), Contains("at least one node"));
  CHECK_THROWS_WITH(partition_difficulty(scores, 4, DifficultyOrder::inc, 1), Contains("3 samples cannot fill 4 nodes"));
  const std::vector<float> bad{1, std::numeric_limits<float>::quiet_NaN(), 3};
  CHECK_THROWS_WITH(partition_difficulty(bad, 2, DifficultyOrder::dec, 1), Contains("sample 1's score is not finite"));
  CHECK(parse_difficulty_order("inc") == DifficultyOrder::inc);
  CHECK(parse_difficulty_order("dec") == DifficultyOrder::dec);
  CHECK(parse_difficulty_order("rand") == DifficultyOrder::rand);
  CHECK(to_string(DifficultyOrder::dec) == "dec");
  CHECK_THROWS_WITH(parse_difficulty_order("up"), Contains("unknown difficulty order 'up' (valid: inc, dec, rand)"));
}
