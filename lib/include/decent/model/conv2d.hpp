#pragma once
/// @file 2-D convolution over channels-last images, as im2col and one matrix product per mini-batch.
#include "decent/model/layer.hpp"

namespace decent {

/// Options of a Conv2d layer (square kernels).
struct Conv2dOptions {
  Eigen::Index out_channels = 1;
  Eigen::Index kernel = 3;
  Eigen::Index stride = 1;
  Eigen::Index pad = 0;  ///< zero padding on every side
  bool bias = true;
};

/// Cross-correlation y[o, oy, ox] = b[o] + sum_{ci, ky, kx} W[o, ci, kx, ky] x[ci, oy s - p + ky, ox s - p + kx]
/// (zero outside the image). Output size floor((H + 2p - k) / s) + 1 per side. Blocks: `weight`
/// [out, in, k, k] with entry (o, ci, kx, ky) at o + out (ci + in (kx + k ky)) (a matrix out x (in k k) for
/// low-rank compression), then `bias` [out]. Initialization: normal with the Gain's variance, fan-in in k k,
/// fan-out out k k; zero bias. Spec: `conv(C,K)`, `conv(C,K,stride=S,pad=P,bias=0)` (also positional
/// `conv(C,K,S,P)`).
///
/// The mini-batch is unfolded into one (in k k) x (B Ho Wo) matrix of patches (im2col), multiplied by W in one
/// product (decent::gemm), and the patches are kept for the backward pass; a 1x1 convolution with stride 1 and no
/// padding multiplies the input directly.
template <class T>
class Conv2d final : public BasicLayer<T> {
public:
  using typename BasicLayer<T>::ConstMap;
  using typename BasicLayer<T>::MutableMap;
  using typename BasicLayer<T>::Matrix;
  /// Throws std::invalid_argument for out_channels, kernel or stride < 1, or pad < 0.
  explicit Conv2d(Conv2dOptions options);
  const Conv2dOptions& options() const noexcept { return options_; }

protected:
  TensorShape bind_impl(const TensorShape& input, Gain following) override;
  std::string kind_impl() const override { return "conv"; }
  std::string describe_impl() const override;
  void initialize_impl(T* params, Rng& rng) const override;
  void forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const override;
  void backward_impl(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T* d_params,
                     const LayerPass& pass) const override;
  std::unique_ptr<BasicLayer<T>> clone_impl() const override { return std::make_unique<Conv2d>(*this); }

private:
  bool direct() const noexcept { return options_.kernel == 1 && options_.stride == 1 && options_.pad == 0; }
  void unfold(const T* in, Eigen::Index samples, T* cols) const;
  void fold_add(const T* cols, Eigen::Index samples, T* d_in) const;

  Conv2dOptions options_;
  Gain gain_ = Gain::linear;
  Eigen::Index in_c_ = 0, in_h_ = 0, in_w_ = 0, out_h_ = 0, out_w_ = 0, patch_ = 0;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  mutable Vector cols_;    // the forward pass's patches, patch x (B Ho Wo)
  mutable Vector d_cols_;  // their gradient in the backward pass
};

}  // namespace decent
