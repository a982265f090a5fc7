#pragma once
/// @file Named parameter blocks of a model and their selection by name pattern or role.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "decent/core/layout.hpp"

namespace decent {

/// Where a block sits relative to the model's feature layer (docs/models.md, "Blocks and roles").
enum class BlockRole {
  base,  ///< before the feature layer: the feature extractor
  head   ///< after it: the classifier
};

/// "base" or "head".
std::string to_string(BlockRole role);

/// One named block of a model's flat parameter vector.
struct ParameterBlock {
  std::string name;                 ///< e.g. "conv1.weight", "res2.proj.weight", "head.bias"
  Eigen::Index offset = 0;          ///< first coordinate in the flat vector
  Eigen::Index length = 0;          ///< number of coordinates
  std::vector<Eigen::Index> shape;  ///< dimensions, the first varying fastest
  BlockRole role = BlockRole::base;
};

/// The blocks a selector names, in the order of `blocks`, each once. A selector is a comma list of terms: `all`,
/// `base`, `head`, or a name pattern where `*` matches any run of characters and `?` one (`conv*.weight`,
/// `head.*`). Throws std::invalid_argument, listing the block names, for an empty selector or a term that matches
/// no block.
std::vector<ParameterBlock> select_blocks(std::span<const ParameterBlock> blocks, std::string_view selector);

/// The coordinates the blocks cover as sorted, disjoint ranges (adjacent blocks merged).
std::vector<IndexRange> block_ranges(std::span<const ParameterBlock> blocks);

}  // namespace decent
