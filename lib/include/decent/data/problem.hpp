#pragma once
/// @file What a run trains and evaluates on: a data set loaded by name (Fashion-MNIST, LIBSVM, synthetic),
/// split into train and a fixed eval subset, and partitioned over the nodes. decent-train's data keys map
/// one to one onto these options (docs/config.md, "Data").
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"
#include "decent/data/sensitive.hpp"

namespace decent {

/// Where the data comes from and how the eval set is cut (decent-train's data keys).
struct DataOptions {
  /// auto (fashion-mnist if installed, else synthetic) | fashion-mnist | libsvm | synthetic | synthetic-fair
  std::string dataset = "auto";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string train_file, test_file;  ///< libsvm: the files (no test file: 20% of train held out)
  bool regression = false;            ///< a regression task (model = linear): LIBSVM targets, teacher-student data
  int synthetic_classes = 10, synthetic_dim = 32;
  std::int64_t synthetic_samples = 20000;
  double synthetic_separation = 3.0;
  double synthetic_heterogeneity = 0;  ///< regression: > 0 gives every node its own teacher (and its own samples)
  int nodes = 16;                      ///< for heterogeneous synthetic data
  std::int64_t eval_samples = 2000;    ///< the eval set: a seeded subset of the test set of at most this size
  std::uint64_t seed = 1;
  SensitiveOptions sensitive;  ///< a sensitive attribute per sample (group fairness), attached before any split
};

/// A loaded data set.
struct LoadedData {
  Dataset train, test;  ///< test: the eval subset
  std::string source;   ///< one line for run headers
  /// Heterogeneous synthetic data only: node i's training samples (then partitioning is fixed).
  std::vector<std::vector<Eigen::Index>> by_node;
};

/// Loads the data set of `options` (throws data_error for malformed files, input_error for bad options).
LoadedData load_data(const DataOptions& options);

/// How training samples are divided among the nodes (decent-train's partition keys).
struct PartitionOptions {
  /// iid | dirichlet | dirichlet-split | dirichlet-mix | shards | fair-iid | fair-heterogeneity:P | fair-synergy |
  /// difficulty:inc|dec|rand
  std::string partition = "dirichlet";
  double alpha = 0.1;                   ///< dirichlet, dirichlet-split: concentration
  std::int64_t per_node = 0;            ///< dirichlet: samples per node (0: train size / nodes)
  std::int64_t split_min_size = 10;     ///< dirichlet-split: the fewest samples a node may get
  int shards_per_node = 2;              ///< shards: label-sorted shards per node
  int positive = 1;                     ///< fair-*: Y = 1[label == positive]
  /// difficulty:*: every training sample's difficulty score (the expert's loss, expert.hpp), in sample order
  std::vector<float> difficulty;
  int nodes = 16;
  std::uint64_t seed = 1;
};

/// Every node's training sample indices (data.by_node when the data fixes them). input_error for a
/// label-based partition of regression data.
std::vector<std::vector<Eigen::Index>> partition_data(const LoadedData& data, const PartitionOptions& options);

/// A seeded random permutation of 0 .. n-1 (Fisher-Yates on decent's own stream, the same everywhere).
std::vector<Eigen::Index> seeded_permutation(Eigen::Index n, std::uint64_t seed);

/// A seeded choice of at most `count` samples of `data`, kept in their original order.
Dataset seeded_subset(const Dataset& data, Eigen::Index count, std::uint64_t seed, const std::string& suffix);

}  // namespace decent
