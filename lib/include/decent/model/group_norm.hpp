#pragma once
/// @file Group normalization: per-sample statistics, so a model stays a pure function of its parameters.
#include "decent/model/layer.hpp"

namespace decent {

/// y = (x - mean) / sqrt(var + eps) * scale[c] + shift[c], mean and (biased) variance taken per sample over the
/// channels of one group (C / G consecutive channels) at every position. No running statistics: training and
/// inference compute the same function. Blocks: `scale` [C] (initialized to 1), `shift` [C] (0). Works on images
/// and flat vectors (G = 1 on a flat vector is layer normalization). Spec: `groupnorm(G)`, `gn(G)`, `gn(G,eps=E)`;
/// G defaults to 8.
template <class T>
class GroupNorm final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  /// Throws std::invalid_argument for groups < 1 or eps <= 0.
  explicit GroupNorm(Eigen::Index groups, double eps = 1e-5);
  Eigen::Index groups() const noexcept { return groups_; }
  double eps() const noexcept { return eps_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return "gn"; }
  std::string describe_impl() const override;
  GainRole gain_role_impl() const override { return GainRole::transparent; }
  void initialize_impl(T* params, Rng& rng) const override;
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<GroupNorm>(*this); }

private:
  Eigen::Index groups_;
  double eps_;
  Eigen::Index channels_ = 0, positions_ = 0;
  mutable Eigen::Matrix<T, Eigen::Dynamic, 1> mean_, rstd_;  // per (group, sample) of the last forward pass
};

}  // namespace decent
