// Private: what the training loops' checkpoints share: the checkpoint options' checks, the header every
// checkpoint starts with, and per-node state as rows (vectors that may be empty, random generators).
#pragma once

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "decent/core/random.hpp"
#include "decent/core/version.hpp"
#include "decent/io/checkpoint.hpp"
#include "decent/model/gemm.hpp"

namespace decent::detail {

/// Refuses checkpoint options that cannot work; `loop` names the caller in the message.
inline void check_checkpoint_options(std::int64_t every, const std::string& path,
                                     const volatile std::sig_atomic_t* stop_flag, const char* loop) {
  if (every < 0) throw std::invalid_argument("checkpoint-every must be >= 0, got " + std::to_string(every));
  if ((every > 0 || stop_flag) && path.empty())
    throw std::invalid_argument(std::string(loop) + ": checkpoints (checkpoint_every or stop_flag) need a checkpoint_path");
}

/// What every checkpoint says about itself first: its layout version, who wrote it on what, the
/// configuration, the algorithm, the run's shape and the step it continues at.
struct CheckpointHeader {
  std::int64_t format = 0;
  std::string config, algorithm;
  std::int64_t nodes = 0, ranks = 0, dim = 0, step = 0;
};

/// Writes `h` as root attributes, with decent's version, the commit and the matrix-product kernel. Collective.
inline void write_header(CheckpointWriter& w, const CheckpointHeader& h) {
  w.attribute("format", h.format);
  w.attribute("decent_version", version());
  w.attribute("git_commit", git_commit());
  w.attribute("gemm", gemm_info().description);
  w.attribute("config", h.config);
  w.attribute("algorithm", h.algorithm);
  w.attribute("n_nodes", h.nodes);
  w.attribute("n_ranks", h.ranks);
  w.attribute("dim", h.dim);
  w.attribute("step", h.step);
}

/// The step a checkpoint continues at, after checking its layout, algorithm and shape against `expected`
/// (whose step is the run's length: the checkpoint's must lie inside it); checkpoint_error naming the first
/// mismatch. `nodes` ("nodes", "clients") and `steps` ("step", "update") name them in messages.
inline std::int64_t check_header(const CheckpointReader& r, const CheckpointHeader& expected, const char* nodes,
                                 const char* steps) {
  const auto fail = [&](const std::string& what) { throw checkpoint_error("checkpoint '" + r.path() + "': " + what); };
  if (r.int_attribute("format") != expected.format)
    fail("layout version " + std::to_string(r.int_attribute("format")) + ", this build reads version " +
         std::to_string(expected.format) + " for " + expected.algorithm);
  if (r.string_attribute("algorithm") != expected.algorithm)
    fail("written by algorithm " + r.string_attribute("algorithm") + ", not " + expected.algorithm);
  if (r.int_attribute("n_nodes") != expected.nodes || r.int_attribute("dim") != expected.dim)
    fail("holds " + std::to_string(r.int_attribute("n_nodes")) + " " + nodes + " of " +
         std::to_string(r.int_attribute("dim")) + " parameters, this run has " + std::to_string(expected.nodes) +
         " of " + std::to_string(expected.dim));
  const std::int64_t step = r.int_attribute("step");
  if (step < 1 || step >= expected.step)
    fail("its " + std::string(steps) + " " + std::to_string(step) + " is not inside this run of " +
         std::to_string(expected.step) + " " + steps + "s");
  return step;
}

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
