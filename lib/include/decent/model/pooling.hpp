#pragma once
/// @file Pooling over channels-last images: max, average, and global average.
#include <cstdint>
#include <vector>

#include "decent/model/layer.hpp"

namespace decent {

/// The reduction of a Pool2d layer.
enum class PoolKind { max, average };

/// Max or average over k x k windows every `stride` pixels, per channel, no padding: output size
/// floor((H - k) / stride) + 1 per side. Max pooling passes the gradient to the first maximum of each window
/// (row-major order; NaN counts as the maximum, so it propagates); average
/// pooling spreads it evenly. No parameters. Spec: `maxpool(K)`, `avgpool(K)`, `maxpool(K,stride=S)` (stride defaults to K).
template <class T>
class Pool2d final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  /// Throws std::invalid_argument for kernel or stride < 1.
  Pool2d(PoolKind kind, Eigen::Index kernel, Eigen::Index stride);
  PoolKind reduction() const noexcept { return kind_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return kind_ == PoolKind::max ? "maxpool" : "avgpool"; }
  std::string describe_impl() const override;
  GainRole gain_role_impl() const override { return GainRole::transparent; }
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Pool2d>(*this); }

private:
  PoolKind kind_;
  Eigen::Index kernel_, stride_;
  Eigen::Index c_ = 0, h_ = 0, w_ = 0, out_h_ = 0, out_w_ = 0;
  mutable std::vector<std::int32_t> argmax_;  // max, training: per output value, its input's offset in the sample
  mutable Eigen::Index argmax_samples_ = 0;  // samples argmax_ describes (0 after an inference pass)
  mutable Eigen::Matrix<T, Eigen::Dynamic, 1> rows_;  // max, inference: the maxima over a window's rows
};

/// Mean over all positions per channel: C x H x W -> C. No parameters. Spec: `gap` (or `globalavgpool`).
template <class T>
class GlobalAvgPool final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;

protected:
  TensorShape bind_impl(const TensorShape& input, Gain) override { return {input.channels, 1, 1}; }
  std::string kind_impl() const override { return "gap"; }
  std::string describe_impl() const override { return "gap"; }
  GainRole gain_role_impl() const override { return GainRole::transparent; }
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<GlobalAvgPool>(*this); }
};

}  // namespace decent
