#include "decent/optim/sgd.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace decent {

namespace {

// `!(v >= lo)` rather than `v < lo` so that NaN is rejected too.
void require(bool ok, const char* option, float value, const char* allowed) {
  if (ok) return;
  std::ostringstream message;
  message << "sgd option " << option << " = " << value << " is out of range: allowed " << allowed;
  throw std::invalid_argument(message.str());
}

}  // namespace

Sgd::Sgd(SgdOptions options) : options_(options) {
  require(options_.momentum >= 0 && options_.momentum < 1, "momentum", options_.momentum, "[0, 1)");
  if (options_.nesterov && !(options_.momentum > 0))
    throw std::invalid_argument("sgd option nesterov = true needs momentum > 0");
  require(options_.weight_decay >= 0 && std::isfinite(options_.weight_decay), "weight_decay",
          options_.weight_decay, ">= 0 and finite");
  require(options_.clip_value >= 0 && std::isfinite(options_.clip_value), "clip_value", options_.clip_value,
          ">= 0 and finite (0 = off)");
  require(options_.clip_norm >= 0 && std::isfinite(options_.clip_norm), "clip_norm", options_.clip_norm,
          ">= 0 and finite (0 = off)");
}

void Sgd::step(Eigen::Ref<Eigen::VectorXf> params, Eigen::Ref<Eigen::VectorXf> grad, SgdState& state,
               float lr) const {
  if (params.size() != grad.size())
    throw std::invalid_argument("sgd step: params has " + std::to_string(params.size()) + " entries but grad has " +
                                std::to_string(grad.size()));
  const SgdOptions& o = options_;

  if (o.clip_value > 0) grad = grad.cwiseMax(-o.clip_value).cwiseMin(o.clip_value);
  if (o.clip_norm > 0) {
    const float norm = grad.norm();
    if (norm > o.clip_norm) grad *= o.clip_norm / norm;
  }
  if (o.weight_decay > 0) grad += o.weight_decay * params;

  if (o.momentum > 0) {
    Eigen::VectorXf& buf = state.momentum;
    if (state.steps == 0) {
      buf = grad;  // torch creates the buffer as a copy of the first gradient
    } else {
      if (buf.size() != grad.size())
        throw std::invalid_argument("sgd step: momentum buffer has " + std::to_string(buf.size()) +
                                    " entries but grad has " + std::to_string(grad.size()) +
                                    " (one SgdState per node and parameter vector)");
      buf = o.momentum * buf + grad;
    }
    if (o.nesterov)
      params -= lr * (grad + o.momentum * buf);
    else
      params -= lr * buf;
  } else {
    params -= lr * grad;
  }
  ++state.steps;
}

}  // namespace decent
