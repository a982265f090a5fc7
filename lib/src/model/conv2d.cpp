#include "decent/model/conv2d.hpp"

#include <algorithm>

#include "decent/model/gemm.hpp"
#include "model/init.hpp"

namespace decent {

template <class T>
Conv2d<T>::Conv2d(Conv2dOptions options) : options_(options) {
  if (options.out_channels < 1)
    throw std::invalid_argument("conv: channels must be >= 1, got " + std::to_string(options.out_channels));
  if (options.kernel < 1) throw std::invalid_argument("conv: kernel must be >= 1, got " + std::to_string(options.kernel));
  if (options.stride < 1) throw std::invalid_argument("conv: stride must be >= 1, got " + std::to_string(options.stride));
  if (options.pad < 0) throw std::invalid_argument("conv: pad must be >= 0, got " + std::to_string(options.pad));
}

template <class T>
std::string Conv2d<T>::describe_impl() const {
  return "conv(" + std::to_string(options_.out_channels) + "," + std::to_string(options_.kernel) +
         ",stride=" + std::to_string(options_.stride) + ",pad=" + std::to_string(options_.pad) +
         ",bias=" + (options_.bias ? "1" : "0") + ")";
}

template <class T>
TensorShape Conv2d<T>::bind_impl(const TensorShape& input, Gain following) {
  if (input.flat())
    throw shape_error(this->describe() + " needs an image input (CxHxW), got a flat vector of " +
                      std::to_string(input.size()) + " values (set input-shape, or flatten later)");
  const Eigen::Index k = options_.kernel, s = options_.stride, p = options_.pad;
  if (input.height + 2 * p < k || input.width + 2 * p < k)
    throw shape_error(this->describe() + ": input " + input.to_string() + " (padded by " + std::to_string(p) +
                      ") is smaller than the " + std::to_string(k) + "x" + std::to_string(k) + " kernel");
  in_c_ = input.channels;
  in_h_ = input.height;
  in_w_ = input.width;
  out_h_ = (in_h_ + 2 * p - k) / s + 1;
  out_w_ = (in_w_ + 2 * p - k) / s + 1;
  patch_ = in_c_ * k * k;
  gain_ = following;
  this->declare("weight", {options_.out_channels, in_c_, k, k}, true);
  if (options_.bias) this->declare("bias", {options_.out_channels});
  return {options_.out_channels, out_h_, out_w_};
}

template <class T>
void Conv2d<T>::initialize_impl(T* params, Rng& rng) const {
  const Eigen::Index k2 = options_.kernel * options_.kernel, weights = options_.out_channels * patch_;
  detail::normal_fill(params, weights, detail::init_stddev(gain_, in_c_ * k2, options_.out_channels * k2), rng);
  if (options_.bias)
    for (Eigen::Index o = 0; o < options_.out_channels; ++o) params[weights + o] = T(0);
}

// Patch column q = ox + Wo (oy + Ho b) holds, at row ci + in (kx + k ky), input pixel (oy s - p + ky, ox s - p + kx)
// of sample b, or 0 outside the image. For a fixed ky the k in-row pixels are one contiguous run of k * in values
// in the channels-last input, so rows are copied run by run.
template <class T>
void Conv2d<T>::unfold(const T* in, Eigen::Index samples, T* cols) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, p = options_.pad, c = in_c_;
  const Eigen::Index run = k * c, image = in_h_ * in_w_ * c;
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* src = in + b * image;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        T* col = cols + patch_ * (ox + out_w_ * (oy + out_h_ * b));
        const Eigen::Index x0 = ox * s - p;
        const Eigen::Index lo = std::max<Eigen::Index>(0, -x0), hi = std::min<Eigen::Index>(k, in_w_ - x0);
        for (Eigen::Index ky = 0; ky < k; ++ky) {
          T* dst = col + run * ky;
          const Eigen::Index iy = oy * s - p + ky;
          if (iy < 0 || iy >= in_h_ || hi <= lo) {
            std::fill(dst, dst + run, T(0));
            continue;
          }
          std::fill(dst, dst + lo * c, T(0));
          const T* row = src + c * (x0 + lo + in_w_ * iy);
          std::copy(row, row + (hi - lo) * c, dst + lo * c);
          std::fill(dst + hi * c, dst + run, T(0));
        }
      }
  }
}

// The adjoint of unfold: adds every patch entry back onto the input pixel it was copied from.
template <class T>
void Conv2d<T>::fold_add(const T* cols, Eigen::Index samples, T* d_in) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, p = options_.pad, c = in_c_;
  const Eigen::Index run = k * c, image = in_h_ * in_w_ * c;
  for (Eigen::Index b = 0; b < samples; ++b) {
    T* dst_image = d_in + b * image;
    for (Eigen::Index oy = 0; oy < out_h_; ++oy)
      for (Eigen::Index ox = 0; ox < out_w_; ++ox) {
        const T* col = cols + patch_ * (ox + out_w_ * (oy + out_h_ * b));
        const Eigen::Index x0 = ox * s - p;
        const Eigen::Index lo = std::max<Eigen::Index>(0, -x0), hi = std::min<Eigen::Index>(k, in_w_ - x0);
        if (hi <= lo) continue;
        for (Eigen::Index ky = 0; ky < k; ++ky) {
          const Eigen::Index iy = oy * s - p + ky;
          if (iy < 0 || iy >= in_h_) continue;
          const T* src = col + run * ky + lo * c;
          T* row = dst_image + c * (x0 + lo + in_w_ * iy);
          for (Eigen::Index i = 0, n = (hi - lo) * c; i < n; ++i) row[i] += src[i];
        }
      }
  }
}

template <class T>
void Conv2d<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass&) const {
  const Eigen::Index samples = in.cols(), positions = out_h_ * out_w_ * samples, oc = options_.out_channels;
  const Eigen::Map<const Matrix> w(params, oc, patch_);
  Eigen::Map<Matrix> y(out.data(), oc, positions);
  if (direct()) {
    gemm(false, false, w, Eigen::Map<const Matrix>(in.data(), in_c_, positions), y);
  } else {
    T* cols = detail::grow(cols_, patch_ * positions);
    unfold(in.data(), samples, cols);
    gemm(false, false, w, Eigen::Map<const Matrix>(cols, patch_, positions), y);
  }
  if (options_.bias) y.colwise() += Eigen::Map<const Vector>(params + w.size(), oc);
}

template <class T>
void Conv2d<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T* d_params,
                              const LayerPass&) const {
  const Eigen::Index samples = in.cols(), positions = out_h_ * out_w_ * samples, oc = options_.out_channels;
  const Eigen::Map<const Matrix> dy(d_out.data(), oc, positions);
  const Eigen::Map<const Matrix> patches(direct() ? in.data() : cols_.data(), patch_, positions);
  Eigen::Map<Matrix> dw(d_params, oc, patch_);
  gemm(false, true, dy, patches, dw);
  if (options_.bias) Eigen::Map<Vector>(d_params + dw.size(), oc) = dy.rowwise().sum();
  if (!d_in) return;
  const Eigen::Map<const Matrix> w(params, oc, patch_);
  if (direct()) {
    Eigen::Map<Matrix> dx(d_in->data(), in_c_, positions);
    gemm(true, false, w, dy, dx);
    return;
  }
  T* d_cols = detail::grow(d_cols_, patch_ * positions);
  Eigen::Map<Matrix> dc(d_cols, patch_, positions);
  gemm(true, false, w, dy, dc);
  d_in->setZero();
  fold_add(d_cols, samples, d_in->data());
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace decent
