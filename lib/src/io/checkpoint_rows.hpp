// Private: per-node state as checkpoint rows, shared by the training loops: vectors that may be empty, and
// random generators.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "decent/core/random.hpp"
#include "decent/io/checkpoint.hpp"

namespace decent::detail {

/// The `count` local vectors get(0..count-1) (each empty or dim long) as node rows NAME, their lengths in
/// NAME_size. Collective.
template <class Get>
void save_vectors(CheckpointWriter& w, const std::string& name, std::size_t count, std::size_t dim, Get&& get) {
  std::vector<float> rows(count * dim, 0.0f);
  std::vector<std::int64_t> sizes(count);
  for (std::size_t k = 0; k < count; ++k) {
    const Eigen::VectorXf& v = get(static_cast<int>(k));
    sizes[k] = v.size();
    if (v.size()) Eigen::Map<Eigen::VectorXf>(rows.data() + k * dim, static_cast<Eigen::Index>(dim)) = v;
  }
  w.node_rows<float>(name, dim, rows);
  w.node_rows<std::int64_t>(name + "_size", 1, sizes);
}

/// Node `node`'s vector saved by save_vectors; checkpoint_error if its length is neither 0 nor dim.
inline void load_vector(const CheckpointReader& r, const std::string& name, int node, std::size_t dim,
                        Eigen::VectorXf& out) {
  const std::int64_t size = r.node_row<std::int64_t>(name + "_size", node, 1)[0];
  if (size == 0) {
    out.resize(0);
    return;
  }
  if (size != static_cast<std::int64_t>(dim))
    throw checkpoint_error("checkpoint '" + r.path() + "': " + name + " of node " + std::to_string(node) + " has " +
                           std::to_string(size) + " entries, expected " + std::to_string(dim));
  const std::vector<float> row = r.node_row<float>(name, node, dim);
  out = Eigen::Map<const Eigen::VectorXf>(row.data(), static_cast<Eigen::Index>(dim));
}

/// The `count` local generators rng(0..count-1) as node rows of 6 words. Collective.
template <class Get>
void save_rngs(CheckpointWriter& w, const std::string& name, std::size_t count, Get&& rng) {
  std::vector<std::uint64_t> words;
  for (std::size_t k = 0; k < count; ++k) {
    const auto state = rng(static_cast<int>(k)).state();
    words.insert(words.end(), state.begin(), state.end());
  }
  w.node_rows<std::uint64_t>(name, 6, words);
}

/// Node `node`'s generator saved by save_rngs.
inline void load_rng(const CheckpointReader& r, const std::string& name, int node, Rng& rng) {
  const std::vector<std::uint64_t> words = r.node_row<std::uint64_t>(name, node, 6);
  std::array<std::uint64_t, 6> state{};
  std::copy(words.begin(), words.end(), state.begin());
  rng.restore(state);
}

}  // namespace decent::detail
