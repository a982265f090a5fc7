#pragma once
// Test support: central finite differences in double against a layer's or a network's analytic gradient.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "decent/model/layer.hpp"
#include "decent/model/network.hpp"

namespace decent::test {

using MatrixD = Eigen::MatrixXd;
using VectorD = Eigen::VectorXd;

inline void fill_normal(double* values, Eigen::Index n, Rng& rng, double scale = 1) {
  for (Eigen::Index k = 0; k < n; ++k) values[k] = scale * rng.normal();
}

/// Up to `limit` coordinates of 0..n-1, spread evenly (all of them when n <= limit).
inline std::vector<Eigen::Index> probe_coordinates(Eigen::Index n, Eigen::Index limit) {
  std::vector<Eigen::Index> out;
  if (n <= limit) {
    for (Eigen::Index k = 0; k < n; ++k) out.push_back(k);
    return out;
  }
  for (Eigen::Index j = 0; j < limit; ++j) out.push_back(j * (n - 1) / (limit - 1));
  return out;
}

/// Checks d f / d v[k] for the probed coordinates against central differences of f (step h), with
/// |analytic - numeric| <= tol * max(1, |numeric|). Returns the largest such relative error.
inline double check_derivatives(const std::function<double()>& f, double* v, const double* analytic, Eigen::Index n,
                                Eigen::Index limit = 400, double h = 1e-5, double tol = 1e-6) {
  double worst = 0;
  for (const Eigen::Index k : probe_coordinates(n, limit)) {
    const double saved = v[k];
    v[k] = saved + h;
    const double up = f();
    v[k] = saved - h;
    const double down = f();
    v[k] = saved;
    const double numeric = (up - down) / (2 * h);
    const double error = std::abs(analytic[k] - numeric) / std::max(1.0, std::abs(numeric));
    worst = std::max(worst, error);
    INFO("coordinate " << k << " of " << n << ": analytic " << analytic[k] << ", numeric " << numeric);
    REQUIRE(error <= tol);
  }
  return worst;
}

/// The gradient of L = sum(R .* layer(x)) with respect to the layer's parameters and its input, checked by
/// finite differences, for a bound layer, `batch` samples and a seeded stream. Parameters are the layer's own
/// initialization plus N(0, 0.1^2) noise (so zero biases and unit scales are moved off their special values).
inline void check_layer_gradients(BasicLayer<double>& layer, Eigen::Index batch, std::uint64_t seed,
                                  LayerPass pass = {}, double tol = 1e-6) {
  Rng rng(seed);
  const Eigen::Index in_rows = layer.input_shape().size(), out_rows = layer.output_shape().size();
  VectorD params(std::max<Eigen::Index>(1, layer.parameter_count()));
  layer.initialize(params.data(), rng);
  for (Eigen::Index k = 0; k < layer.parameter_count(); ++k) params[k] += 0.1 * rng.normal();
  MatrixD x(in_rows, batch), r(out_rows, batch), y(out_rows, batch), dx(in_rows, batch);
  fill_normal(x.data(), x.size(), rng);
  fill_normal(r.data(), r.size(), rng);
  VectorD grad(std::max<Eigen::Index>(1, layer.parameter_count()));
  // A stochastic layer draws from a copy of the same stream every pass, so every pass is the same function.
  Rng stream_start = pass.rng ? *pass.rng : Rng();
  const auto forward = [&](Rng& stream) {
    LayerPass p = pass;
    if (pass.rng) p.rng = &stream;
    layer.forward(params.data(), BasicLayer<double>::ConstMap(x.data(), in_rows, batch),
                  BasicLayer<double>::MutableMap(y.data(), out_rows, batch), p);
    return p;
  };
  const auto loss = [&]() {
    Rng stream = stream_start;
    forward(stream);
    return (r.array() * y.array()).sum();
  };
  {
    Rng stream = stream_start;
    const LayerPass p = forward(stream);
    BasicLayer<double>::MutableMap d_in(dx.data(), in_rows, batch);
    layer.backward(params.data(), BasicLayer<double>::ConstMap(x.data(), in_rows, batch),
                   BasicLayer<double>::ConstMap(y.data(), out_rows, batch),
                   BasicLayer<double>::ConstMap(r.data(), out_rows, batch), &d_in, grad.data(), p);
  }
  if (layer.parameter_count() > 0) {
    INFO("parameters of " << layer.describe());
    check_derivatives(loss, params.data(), grad.data(), layer.parameter_count(), 400, 1e-5, tol);
  }
  INFO("input of " << layer.describe());
  check_derivatives(loss, x.data(), dx.data(), x.size(), 400, 1e-5, tol);
}

/// The gradient of a network's mean loss (and of the objective's extras) with respect to its parameters, by
/// finite differences at `params` (a feature gradient is checked as the derivative of <G, features>, so do not
/// combine it with dropout, whose mask features() does not apply).
inline void check_network_gradient(const Network<double>& net, VectorD params, const MatrixD& x,
                                   const BasicObjective<double>& objective, Eigen::Index limit = 300,
                                   double tol = 1e-6) {
  const Network<double>::ConstMap xs(x.data(), x.rows(), x.cols());
  VectorD grad(net.parameter_count());
  Rng stream_start = objective.rng ? *objective.rng : Rng();
  BasicObjective<double> o = objective;
  Rng stream = stream_start;
  if (objective.rng) o.rng = &stream;
  net.loss_and_gradient(params.data(), xs, o, grad.data());
  VectorD scratch(net.parameter_count());
  // The plain objective without a stream is the inference loss: no gradient needed for the differences.
  const bool plain = objective.soft_targets.empty() && objective.sample_weights.empty() &&
                     objective.feature_gradient.empty() && !objective.rng;
  const auto total = [&]() {
    if (plain) return net.loss(params.data(), xs, objective.labels);
    Rng s = stream_start;
    BasicObjective<double> again = objective;
    if (objective.rng) again.rng = &s;
    double value = net.loss_and_gradient(params.data(), xs, again, scratch.data());
    if (!objective.feature_gradient.empty()) {
      // The injected gradient is d/dfeatures of <G, features>: add that term (the same dropout mask applies).
      const auto f = net.features(params.data(), xs);
      value += (f.array() * Eigen::Map<const MatrixD>(objective.feature_gradient.data(), f.rows(), f.cols()).array()).sum();
    }
    return value;
  };
  check_derivatives(total, params.data(), grad.data(), params.size(), limit, 1e-5, tol);
}

}  // namespace decent::test
