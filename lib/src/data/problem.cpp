#include "decent/data/problem.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <sstream>
#include <string_view>

#include "decent/core/error.hpp"
#include "decent/core/random.hpp"
#include "decent/data/difficulty_partition.hpp"
#include "decent/data/dirichlet_split.hpp"
#include "decent/data/fair_partition.hpp"
#include "decent/data/idx.hpp"
#include "decent/data/libsvm.hpp"
#include "decent/data/partition.hpp"
#include "decent/data/sensitive.hpp"
#include "decent/data/synthetic.hpp"

namespace decent {

namespace {

constexpr std::uint64_t split_stream = 0x53504C54;   // "SPLT"
constexpr std::uint64_t subset_stream = 0x45564C53;  // "EVLS"
constexpr std::uint64_t part_stream = 0x50415254;    // "PART"

/// Node i's own teacher (synthetic heterogeneity > 0): per node, 80% of its samples train it and 20% join
/// the test set, so the test loss is the mean of the nodes' objectives.
void heterogeneous_regression(const DataOptions& o, LoadedData& data) {
  const Eigen::Index per_node = std::max<Eigen::Index>(2, o.synthetic_samples / o.nodes);
  const Eigen::Index train_per_node = per_node * 4 / 5, test_per_node = per_node - train_per_node;
  const auto parts = teacher_student_nodes(o.nodes, o.synthetic_dim, per_node, 0.1, o.synthetic_heterogeneity, o.seed);
  data.train.features.resize(o.synthetic_dim, o.nodes * train_per_node);
  data.train.targets.resize(o.nodes * train_per_node);
  data.test.features.resize(o.synthetic_dim, o.nodes * test_per_node);
  data.test.targets.resize(o.nodes * test_per_node);
  for (int i = 0; i < o.nodes; ++i) {
    const Dataset& part = parts[static_cast<std::size_t>(i)];
    data.train.features.middleCols(i * train_per_node, train_per_node) = part.features.leftCols(train_per_node);
    data.train.targets.segment(i * train_per_node, train_per_node) = part.targets.head(train_per_node);
    data.test.features.middleCols(i * test_per_node, test_per_node) = part.features.rightCols(test_per_node);
    data.test.targets.segment(i * test_per_node, test_per_node) = part.targets.tail(test_per_node);
    std::vector<Eigen::Index> mine(static_cast<std::size_t>(train_per_node));
    for (Eigen::Index k = 0; k < train_per_node; ++k) mine[static_cast<std::size_t>(k)] = i * train_per_node + k;
    data.by_node.push_back(std::move(mine));
  }
  data.train.name = "teacher-student nodes (train)";
  data.test.name = "teacher-student nodes (test)";
  std::ostringstream source;
  source << "synthetic teacher-student regression, a teacher per node (heterogeneity " << o.synthetic_heterogeneity << ")";
  data.source = source.str();
}

/// Splits `all` into train and test (the first `test_fraction` of a seeded permutation is the test set).
void split(const Dataset& all, double test_fraction, std::uint64_t seed, LoadedData& data) {
  const auto order = seeded_permutation(all.size(), derive_seed(seed, {split_stream}));
  const auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(all.size())));
  data.test = subset(all, std::span<const Eigen::Index>(order).first(n_test), all.name + " (test split)");
  data.train = subset(all, std::span<const Eigen::Index>(order).subspan(n_test), all.name + " (train split)");
}

}  // namespace

std::vector<Eigen::Index> seeded_permutation(Eigen::Index n, std::uint64_t seed) {
  std::vector<Eigen::Index> p(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  Rng rng(seed);
  for (Eigen::Index i = n - 1; i > 0; --i)
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(i) + 1))]);
  return p;
}

Dataset seeded_subset(const Dataset& data, Eigen::Index count, std::uint64_t seed, const std::string& suffix) {
  if (data.size() <= count) return data;
  auto order = seeded_permutation(data.size(), seed);
  order.resize(static_cast<std::size_t>(count));
  std::sort(order.begin(), order.end());
  return subset(data, order, data.name + " (" + suffix + ")");
}

LoadedData load_data(const DataOptions& o) {
  LoadedData data;
  std::string kind = o.dataset;
  const auto fmnist = std::filesystem::path(o.data_dir) / "train-images-idx3-ubyte.gz";
  if (kind == "auto") kind = std::filesystem::exists(fmnist) ? "fashion-mnist" : "synthetic";
  // The sensitive attributes belong to the samples in file order (train file, then test file), so they are
  // attached before any split.
  const auto attach = [&](std::initializer_list<Dataset*> sets) {
    attach_sensitive(std::span<Dataset* const>(sets.begin(), sets.size()), o.sensitive);
  };
  if (kind == "synthetic-fair" && has_sensitive(o.sensitive))
    throw input_error("dataset = synthetic-fair draws its own sensitive attribute; leave group-file and sensitive "
                      "unset (sensitive-correlation sets its alpha)");
  if (kind == "fashion-mnist") {
    data.train = load_fashion_mnist(o.data_dir, true);
    data.test = load_fashion_mnist(o.data_dir, false);
    attach({&data.train, &data.test});
    data.source = "Fashion-MNIST from " + o.data_dir;
  } else if (kind == "libsvm") {
    LibsvmOptions options;
    options.task = o.regression ? LibsvmTask::regression : LibsvmTask::classification;
    Dataset all = read_libsvm(o.train_file, o.train_file, options);
    if (o.test_file.empty()) {
      attach({&all});
      split(all, 0.2, o.seed, data);
      data.source = "LIBSVM " + o.train_file + " (20% held out for testing)";
    } else {
      data.train = std::move(all);
      options.dim = data.train.dim();
      data.test = read_libsvm(o.test_file, o.test_file, options);
      attach({&data.train, &data.test});
      data.source = "LIBSVM " + o.train_file + ", test " + o.test_file;
    }
  } else if (kind == "synthetic") {
    const Eigen::Index total = o.synthetic_samples + o.synthetic_samples / 4;
    if (o.regression && o.synthetic_heterogeneity > 0) {
      if (has_sensitive(o.sensitive))
        throw input_error("sensitive: a regression data set has no labels for a sensitive attribute");
      heterogeneous_regression(o, data);
    } else {
      Dataset all = o.regression ? teacher_student(o.synthetic_dim, total, 0.1, o.seed)
                                 : gaussian_mixture(o.synthetic_classes, o.synthetic_dim, total,
                                                    o.synthetic_separation, o.seed);
      attach({&all});
      split(all, 0.2, o.seed, data);
      data.source = o.regression ? "synthetic teacher-student regression"
                                 : "synthetic Gaussian mixture (" + std::to_string(o.synthetic_classes) + " classes)";
    }
    if (o.dataset == "auto") data.source += " (Fashion-MNIST not found at " + o.data_dir + ")";
  } else if (kind == "synthetic-fair") {
    const Eigen::Index total = o.synthetic_samples + o.synthetic_samples / 4;
    split(synthetic_fair(total, o.sensitive.correlation, o.seed), 0.2, o.seed, data);
    std::ostringstream source;
    source << "synthetic-fair: 2-D Gaussians of Hamman and Dutta, P(Z = 1 | Y = 1) = " << o.sensitive.correlation;
    data.source = source.str();
  } else {
    throw input_error("dataset: '" + o.dataset + "' is not allowed (allowed: auto, fashion-mnist, libsvm, synthetic, "
                      "synthetic-fair)");
  }
  // The eval set: a fixed, seeded subset of the test set.
  data.test = seeded_subset(data.test, o.eval_samples, derive_seed(o.seed, {subset_stream}), "eval subset");
  return data;
}

std::vector<std::vector<Eigen::Index>> partition_data(const LoadedData& data, const PartitionOptions& o) {
  const Dataset& train = data.train;
  const std::uint64_t seed = derive_seed(o.seed, {part_stream});
  if (!data.by_node.empty()) return data.by_node;
  if (o.partition == "iid") return partition_iid(train.size(), o.nodes, seed);
  if (!train.classification())
    throw input_error("partition: " + o.partition + " needs class labels; use partition = iid for regression");
  if (o.partition == "shards") return partition_shards(train.labels, o.nodes, o.shards_per_node, seed);
  if (o.partition.rfind("fair-", 0) == 0) return partition_fair(train, o.partition, o.nodes, o.positive, seed);
  if (o.partition.rfind("difficulty:", 0) == 0) {
    DifficultyOrder order{};
    try {
      order = parse_difficulty_order(std::string_view(o.partition).substr(11));
    } catch (const std::invalid_argument& e) {
      throw input_error("partition = " + o.partition + ": " + e.what());
    }
    if (o.difficulty.size() != static_cast<std::size_t>(train.size()))
      throw input_error("partition = " + o.partition + ": needs every training sample's difficulty score (the "
                        "expert's loss), got " + std::to_string(o.difficulty.size()) + " scores for " +
                        std::to_string(train.size()) + " samples");
    try {
      return partition_difficulty(o.difficulty, o.nodes, order, seed);
    } catch (const std::invalid_argument& e) {
      throw input_error("partition = " + o.partition + ": " + e.what());
    }
  }
  if (o.partition == "dirichlet-split" || o.partition == "dirichlet-mix") {
    if (o.split_min_size > train.size() / o.nodes)
      throw input_error("split-min-size: " + std::to_string(o.split_min_size) + " samples per node is more than " +
                        std::to_string(train.size()) + " training samples over " + std::to_string(o.nodes) +
                        " nodes allow");
    try {
      const auto split = o.partition == "dirichlet-mix" ? partition_dirichlet_mix : partition_dirichlet_split;
      return split(train.labels, train.classes, o.nodes, o.alpha, o.split_min_size, seed);
    } catch (const std::invalid_argument& e) {
      throw input_error("partition = " + o.partition + ": " + e.what());
    }
  }
  if (o.partition != "dirichlet")
    throw input_error("partition: '" + o.partition + "' is not allowed (allowed: iid, dirichlet, dirichlet-split, "
                      "dirichlet-mix, shards, fair-iid, fair-heterogeneity:P, fair-synergy, difficulty:inc|dec|rand)");
  const Eigen::Index per_node = o.per_node > 0 ? o.per_node : train.size() / o.nodes;
  return partition_dirichlet(train.labels, train.classes, o.nodes, o.alpha, per_node, seed);
}

}  // namespace decent
