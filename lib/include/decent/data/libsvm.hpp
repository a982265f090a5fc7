#pragma once
/// @file Reader for the LIBSVM / SVMlight sparse text format, into dense features.
#include <string>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"

namespace decent {

/// Whether a LIBSVM file's first column is a class label or a regression target.
enum class LibsvmTask {
  classification,  ///< labels: distinct values, sorted, become classes 0..C-1
  regression,      ///< targets: the values as they are
};

/// How to read a LIBSVM file.
struct LibsvmOptions {
  Eigen::Index dim = 0;                          ///< feature count; 0 = the largest index in the file
  LibsvmTask task = LibsvmTask::classification;  ///< how the first column is read
};

/// Reads a LIBSVM file: one sample per line, `label idx:val idx:val ...`, with 1-based, strictly
/// increasing feature indices; missing features are 0 (sparse rows become dense columns, index k is
/// feature row k-1). Blank lines are skipped, and `#` starts a comment up to the end of the line.
/// Classification: the distinct label values, sorted ascending, become classes 0..C-1 (for example
/// {-1, +1} -> {0, 1}, {1, 2, 3} -> {0, 1, 2}, {0, 5} -> {0, 1}); regression: targets keep the values.
/// Throws data_error naming the file and the 1-based line for: a missing file, a non-numeric or
/// non-finite label or value, a regression target outside the float range, a feature without ':', an
/// index that is not a positive integer, indices that do not increase, an index above opts.dim (when
/// given), dense features of more than 2^27 values (512 MiB; dim x samples, reported at the line that
/// crosses it), and a file without any sample.
/// Throws std::invalid_argument if opts.dim < 0.
Dataset read_libsvm(const std::string& path, std::string name, LibsvmOptions opts = {});

}  // namespace decent
