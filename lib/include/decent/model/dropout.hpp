#pragma once
/// @file Dropout driven by the node's own random stream.
#include "decent/model/layer.hpp"

namespace decent {

/// Inverted dropout: while training, each value is kept with probability 1 - p and scaled by 1 / (1 - p), else
/// zeroed, one uniform draw per value from LayerPass::rng in storage order (so a node's run is reproducible and
/// independent of the rank count); at inference the identity. No parameters. Spec: `dropout(P)`, 0 <= P < 1.
template <class T>
class Dropout final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  /// Throws std::invalid_argument for p outside [0, 1).
  explicit Dropout(double p);
  double p() const noexcept { return p_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain) override { return input; }
  std::string kind_impl() const override { return "dropout"; }
  std::string describe_impl() const override;
  GainRole gain_role_impl() const override { return GainRole::transparent; }
  bool stochastic_impl() const override { return p_ > 0; }
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Dropout>(*this); }

private:
  double p_;
  mutable Eigen::Matrix<T, Eigen::Dynamic, 1> mask_;  // 0 or 1 / (1 - p) per value of the last training pass
};

}  // namespace decent
