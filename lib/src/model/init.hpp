// Private: the layers' initialization rules (docs/models.md, "Initialization").
#pragma once

#include <cmath>

#include <Eigen/Core>

#include "decent/core/random.hpp"
#include "decent/model/layer.hpp"

namespace decent::detail {

/// He normal (variance 2 / fan_in) before ReLU or GELU, Glorot normal (variance 2 / (fan_in + fan_out)) otherwise.
inline double init_stddev(Gain gain, Eigen::Index fan_in, Eigen::Index fan_out) {
  const auto in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  return gain == Gain::relu ? std::sqrt(2 / in) : std::sqrt(2 / (in + out));
}

/// params[0 .. n) = stddev * N(0, 1), drawn in order and rounded to T.
template <class T>
void normal_fill(T* params, Eigen::Index n, double stddev, Rng& rng) {
  for (Eigen::Index k = 0; k < n; ++k) params[k] = static_cast<T>(static_cast<float>(stddev * rng.normal()));
}

}  // namespace decent::detail
