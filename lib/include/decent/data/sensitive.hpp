#pragma once
/// @file The sensitive attribute Z in {0, 1} of every sample, for group fairness (Hamman and Dutta, ICLR 2024,
/// arXiv 2307.11333): read from a file, derived from the class, or drawn with the paper's synthetic data. All
/// draws are seeded per sample through derive_seed.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "decent/data/dataset.hpp"

namespace decent {

/// Where Z comes from: the config keys group-file, sensitive and sensitive-correlation (give at most one source).
struct SensitiveOptions {
  /// A text file of 0/1 values (blank separated, '#' starts a comment), one per sample of every set in order.
  std::string group_file;
  /// "" or "classes:LIST", LIST a comma list of distinct class ids (classes:0,2,6): Z follows membership in LIST.
  std::string sensitive;
  /// alpha of the classes rule: P(Z = 1) is alpha for a label in LIST, 1 - alpha otherwise (1: Z = 1[label in LIST]).
  double correlation = 0.95;
  /// The run seed of the classes rule's draws.
  std::uint64_t seed = 1;
};

/// True if `options` gives a source of Z (a group file or a rule).
bool has_sensitive(const SensitiveOptions& options) noexcept;

/// The class ids of `spec` = "classes:LIST", ascending. Throws input_error naming the key sensitive for another form,
/// an empty list, a repeated class or a class outside [0, classes).
std::vector<int> parse_sensitive_classes(std::string_view spec, int classes);

/// Sets the groups of every set in `sets` (file order: {&train, &test}) from `options`; a no-op without a source,
/// and no set changes on an error. Throws input_error (data_error for the group file); the classes rule needs labels.
void attach_sensitive(std::span<Dataset* const> sets, const SensitiveOptions& options);

/// The paper's "synth3", named "synthetic-fair": sample j has label j % 2, x ~ N([2, 2], [[5, 1], [1, 5]]) if 1 else
/// N([-2, -2], [[10, 1], [1, 3]]), Z = 1 with probability correlation if 1 else 1 - correlation; one stream per sample.
/// Throws std::invalid_argument unless samples >= 2 and correlation is in [0, 1].
Dataset synthetic_fair(Eigen::Index samples, double correlation, std::uint64_t seed);

}  // namespace decent
