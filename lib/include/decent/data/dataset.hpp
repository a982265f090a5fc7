#pragma once
/// @file Samples in memory (features as columns) and the error type of the data readers.
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "decent/core/error.hpp"
#include "decent/core/tensor_shape.hpp"

namespace decent {

/// Samples in memory: features as columns (dim x N, float), class labels or regression targets.
/// A classification set has classes > 0, N labels in 0..classes-1 and empty targets; a regression
/// set has classes == 0, empty labels and N targets.
struct Dataset {
  std::string name;          ///< e.g. "fashion-mnist train"
  Eigen::MatrixXf features;  ///< dim x N, one sample per column
  std::vector<int> labels;   ///< N class ids 0..classes-1 (classification), else empty
  Eigen::VectorXf targets;   ///< N targets (regression), else empty
  int classes = 0;           ///< number of classes; 0 for regression
  /// N sensitive attributes Z in {0, 1} for group fairness (decent/data/sensitive.hpp), else empty.
  std::vector<int> groups;
  /// Shape of one sample (channels-last, decent/core/tensor_shape.hpp): {1, 28, 28} for IDX images; left at
  /// {0, 1, 1} by readers of flat data, for which shape() is {dim, 1, 1}.
  TensorShape sample_shape{0, 1, 1};

  /// Number of samples N.
  Eigen::Index size() const noexcept { return features.cols(); }
  /// Number of features per sample.
  Eigen::Index dim() const noexcept { return features.rows(); }
  /// The shape of one sample: sample_shape when set, else a flat vector of dim() values.
  TensorShape shape() const noexcept { return sample_shape.channels > 0 ? sample_shape : TensorShape{dim(), 1, 1}; }
  /// True for a classification set (classes > 0).
  bool classification() const noexcept { return classes > 0; }
};

/// Malformed input file. what() names the file and where the problem is (the byte offset in a binary
/// file, counted in the uncompressed stream for gzip files; the 1-based line in a text file) and what
/// was expected there.
class data_error : public input_error {
public:
  using input_error::input_error;
};

/// A copy of the samples `indices` (in that order; repeats allowed) with the same dim and classes, and their
/// labels, targets and sensitive attributes.
/// Throws std::out_of_range if an index is not in [0, data.size()).
Dataset subset(const Dataset& data, std::span<const Eigen::Index> indices, std::string name);

}  // namespace decent
