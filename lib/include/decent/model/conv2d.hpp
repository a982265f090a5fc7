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
/// The samples are unfolded, a chunk at a time that fits in cache, into a (in k k) x (chunk Ho Wo) matrix of
/// patches (im2col; its transpose for one input channel) and multiplied by W (decent::gemm); the backward pass
/// unfolds them again rather than keeping them, and sums the chunks' weight gradients. A 1x1 convolution with
/// stride 1 and no padding multiplies the input directly. A convolution of one input channel (an image's first
/// layer, where the product's m would be the few output channels) is computed directly, register-blocked over 8
/// positions and 8 channels; its patches are unfolded only when an input gradient is asked for.
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
  /// How the product sees the input: directly (1x1, stride 1, no padding), as patches (in k k) x (B Ho Wo), or, for
  /// one input channel, as their transpose (B Ho Wo) x (k k), which is filled by longer runs.
  enum class Layout { direct, patches, positions };
  Layout layout() const noexcept {
    if (options_.kernel == 1 && options_.stride == 1 && options_.pad == 0) return Layout::direct;
    return in_c_ == 1 ? Layout::positions : Layout::patches;
  }
  /// Patch values unfolded at a time (1 MiB of floats; of 256 KiB, 1 and 4 MiB the fastest on lenet5 and
  /// cnn-small, bench/README.md P8): they stay in cache.
  static constexpr Eigen::Index patch_values = 262144;
  /// Samples per chunk: as many as patch_values allow (at least 1; all of them for the direct layout).
  Eigen::Index chunk_samples(Eigen::Index samples) const;
  void unfold(const T* in, Eigen::Index samples, T* cols) const;
  void fold_add(const T* cols, Eigen::Index samples, T* d_in) const;
  void unfold_positions(const T* in, Eigen::Index samples, T* cols) const;
  void fold_add_positions(const T* cols, Eigen::Index samples, T* d_in) const;
  // One input channel: the image zero-padded (with room for a block's reads past the row), the direct forward
  // pass, and the weights' gradient.
  Eigen::Index padded_width() const noexcept { return in_w_ + 2 * options_.pad + 8 * options_.stride + options_.kernel; }
  const T* pad_image(const T* image) const;
  void direct_forward(const T* params, const T* in, Eigen::Index samples, T* out) const;
  void direct_weight_gradient(const T* in, const T* d_out, Eigen::Index samples, T* dw) const;
  // out = W * patches(in) + b for `samples` samples, with `cols` as the patches' buffer.
  void multiply(const T* params, const T* in, Eigen::Index samples, T* out, T* cols) const;

  Conv2dOptions options_;
  Gain gain_ = Gain::linear;
  Eigen::Index in_c_ = 0, in_h_ = 0, in_w_ = 0, out_h_ = 0, out_w_ = 0, patch_ = 0;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  mutable Vector cols_;    // one chunk's patches
  mutable Vector d_cols_;  // their gradient in the backward pass
  mutable Vector padded_, block_weights_;  // one input channel: the padded image, a block of weights or their sums
};

}  // namespace decent
