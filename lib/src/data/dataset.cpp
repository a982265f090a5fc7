#include "decent/data/dataset.hpp"

#include <utility>

namespace decent {

Dataset subset(const Dataset& data, std::span<const Eigen::Index> indices, std::string name) {
  const Eigen::Index n = data.size();
  // Inconsistent sizes would make the copies below read out of bounds.
  if (!data.labels.empty() && static_cast<Eigen::Index>(data.labels.size()) != n)
    throw std::invalid_argument("subset: data set '" + data.name + "' has " + std::to_string(data.labels.size()) +
                                " labels for " + std::to_string(n) + " samples");
  if (data.targets.size() > 0 && data.targets.size() != n)
    throw std::invalid_argument("subset: data set '" + data.name + "' has " + std::to_string(data.targets.size()) +
                                " targets for " + std::to_string(n) + " samples");
  if (!data.groups.empty() && static_cast<Eigen::Index>(data.groups.size()) != n)
    throw std::invalid_argument("subset: data set '" + data.name + "' has " + std::to_string(data.groups.size()) +
                                " sensitive attributes for " + std::to_string(n) + " samples");
  for (std::size_t k = 0; k < indices.size(); ++k)
    if (indices[k] < 0 || indices[k] >= n)
      throw std::out_of_range("subset: indices[" + std::to_string(k) + "] = " + std::to_string(indices[k]) +
                              " is outside [0, " + std::to_string(n) + ") of data set '" + data.name + "'");

  const auto count = static_cast<Eigen::Index>(indices.size());
  Dataset out;
  out.name = std::move(name);
  out.classes = data.classes;
  out.sample_shape = data.sample_shape;
  out.features.resize(data.dim(), count);
  for (Eigen::Index k = 0; k < count; ++k) out.features.col(k) = data.features.col(indices[k]);
  if (!data.labels.empty()) {
    out.labels.resize(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) out.labels[k] = data.labels[static_cast<std::size_t>(indices[k])];
  }
  if (!data.groups.empty()) {
    out.groups.resize(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) out.groups[k] = data.groups[static_cast<std::size_t>(indices[k])];
  }
  if (data.targets.size() > 0) {
    out.targets.resize(count);
    for (Eigen::Index k = 0; k < count; ++k) out.targets(k) = data.targets(indices[k]);
  }
  return out;
}

}  // namespace decent
