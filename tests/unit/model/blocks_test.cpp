#include "decent/model/blocks.hpp"

#include <catch2/catch.hpp>

using namespace decent;
using Catch::Matchers::Contains;

namespace {
const std::vector<ParameterBlock> blocks = {
    {"conv1.weight", 0, 150, {6, 1, 5, 5}, BlockRole::base}, {"conv1.bias", 150, 6, {6}, BlockRole::base},
    {"res1.conv1.weight", 156, 36, {4, 1, 3, 3}, BlockRole::base}, {"dense1.weight", 192, 40, {4, 10}, BlockRole::head},
    {"head.weight", 232, 8, {2, 4}, BlockRole::head}, {"head.bias", 240, 2, {2}, BlockRole::head}};

std::vector<std::string> names(const std::vector<ParameterBlock>& chosen) {
  std::vector<std::string> out;
  for (const auto& b : chosen) out.push_back(b.name);
  return out;
}
}  // namespace

TEST_CASE("select_blocks: roles, patterns and unions", "[model][blocks]") {
  CHECK(select_blocks(blocks, "all").size() == blocks.size());
  CHECK(names(select_blocks(blocks, "base")) == std::vector<std::string>{"conv1.weight", "conv1.bias", "res1.conv1.weight"});
  CHECK(names(select_blocks(blocks, "head")) == std::vector<std::string>{"dense1.weight", "head.weight", "head.bias"});
  CHECK(names(select_blocks(blocks, "head.*")) == std::vector<std::string>{"head.weight", "head.bias"});
  CHECK(names(select_blocks(blocks, "*.bias")) == std::vector<std::string>{"conv1.bias", "head.bias"});
  CHECK(names(select_blocks(blocks, "conv?.weight, head.bias")) == std::vector<std::string>{"conv1.weight", "head.bias"});
  CHECK(names(select_blocks(blocks, "*conv1.*")) == std::vector<std::string>{"conv1.weight", "conv1.bias", "res1.conv1.weight"});
  CHECK(names(select_blocks(blocks, "head,head.bias")) == std::vector<std::string>{"dense1.weight", "head.weight", "head.bias"});
}

TEST_CASE("select_blocks: a term that matches nothing names the blocks", "[model][blocks]") {
  CHECK_THROWS_WITH(select_blocks(blocks, "fc*"), Contains("term 'fc*' matches no block") && Contains("conv1.weight, conv1.bias"));
  CHECK_THROWS_WITH(select_blocks(blocks, ""), Contains("selector is empty"));
  CHECK_THROWS_WITH(select_blocks(blocks, "head,,base"), Contains("empty term"));
}

TEST_CASE("block_ranges merges adjacent blocks", "[model][blocks]") {
  CHECK(block_ranges(select_blocks(blocks, "head")) == std::vector<IndexRange>{{192, 50}});
  CHECK(block_ranges(select_blocks(blocks, "*.bias")) == std::vector<IndexRange>{{150, 6}, {240, 2}});
  CHECK(block_ranges(select_blocks(blocks, "all")) == std::vector<IndexRange>{{0, 242}});
  CHECK(to_string(BlockRole::head) == "head");
}
