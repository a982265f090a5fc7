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
            for (Eigen::Index i = 0; i < run; ++i) dst[i] = T(0);
            continue;
          }
          for (Eigen::Index i = 0; i < lo * c; ++i) dst[i] = T(0);
          const T* row = src + c * (x0 + in_w_ * iy);
          for (Eigen::Index i = lo * c; i < hi * c; ++i) dst[i] = row[i];
          for (Eigen::Index i = hi * c; i < run; ++i) dst[i] = T(0);
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
          const T* src = col + run * ky;
          T* row = dst_image + c * (x0 + in_w_ * iy);
          for (Eigen::Index i = lo * c; i < hi * c; ++i) row[i] += src[i];
        }
      }
  }
}

// One-channel inputs: the patches transposed, (B Ho Wo) x (k k), so that each column (one kernel offset) is filled
// by runs of Wo pixels of an input row (contiguous for stride 1) instead of runs of k values.
template <class T>
void Conv2d<T>::unfold_positions(const T* in, Eigen::Index samples, T* cols) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, p = options_.pad;
  const Eigen::Index positions = out_h_ * out_w_ * samples, image = in_h_ * in_w_;
  for (Eigen::Index ky = 0; ky < k; ++ky)
    for (Eigen::Index kx = 0; kx < k; ++kx) {
      T* column = cols + positions * (kx + k * ky);
      // Output columns whose input pixel lies inside the row: ox in [lo, hi).
      const Eigen::Index lo = std::min(out_w_, std::max<Eigen::Index>(0, (p - kx + s - 1) / s));
      const Eigen::Index hi = std::max(lo, std::min(out_w_, (in_w_ + p - kx + s - 1) / s));
      for (Eigen::Index b = 0; b < samples; ++b)
        for (Eigen::Index oy = 0; oy < out_h_; ++oy) {
          T* dst = column + out_w_ * (oy + out_h_ * b);
          const Eigen::Index iy = oy * s - p + ky;
          if (iy < 0 || iy >= in_h_) {
            for (Eigen::Index ox = 0; ox < out_w_; ++ox) dst[ox] = T(0);
            continue;
          }
          const T* row = in + b * image + in_w_ * iy;
          const Eigen::Index shift = kx - p;  // ox * s + shift is inside the row for ox in [lo, hi)
          for (Eigen::Index ox = 0; ox < lo; ++ox) dst[ox] = T(0);
          for (Eigen::Index ox = lo; ox < hi; ++ox) dst[ox] = row[ox * s + shift];
          for (Eigen::Index ox = hi; ox < out_w_; ++ox) dst[ox] = T(0);
        }
    }
}

template <class T>
void Conv2d<T>::fold_add_positions(const T* cols, Eigen::Index samples, T* d_in) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, p = options_.pad;
  const Eigen::Index positions = out_h_ * out_w_ * samples, image = in_h_ * in_w_;
  for (Eigen::Index ky = 0; ky < k; ++ky)
    for (Eigen::Index kx = 0; kx < k; ++kx) {
      const T* column = cols + positions * (kx + k * ky);
      const Eigen::Index lo = std::min(out_w_, std::max<Eigen::Index>(0, (p - kx + s - 1) / s));
      const Eigen::Index hi = std::max(lo, std::min(out_w_, (in_w_ + p - kx + s - 1) / s));
      for (Eigen::Index b = 0; b < samples; ++b)
        for (Eigen::Index oy = 0; oy < out_h_; ++oy) {
          const Eigen::Index iy = oy * s - p + ky;
          if (iy < 0 || iy >= in_h_) continue;
          const T* src = column + out_w_ * (oy + out_h_ * b);
          T* row = d_in + b * image + in_w_ * iy;
          const Eigen::Index shift = kx - p;
          for (Eigen::Index ox = lo; ox < hi; ++ox) row[ox * s + shift] += src[ox];
        }
    }
}

// One input channel (an image's first layer): a register-blocked direct convolution instead of patches and a
// product whose m is the (small) channel count. 8 output positions x 8 channels are summed at a time over the
// k k kernel offsets of a zero-padded copy of the image; both loops have a fixed length, so they vectorize.
namespace {
constexpr Eigen::Index block = 8;
}
template <class T>
using Lanes = Eigen::Array<T, block, 1>;

template <class T>
const T* Conv2d<T>::pad_image(const T* image) const {
  const Eigen::Index p = options_.pad, pw = padded_width(), ph = in_h_ + 2 * p;
  T* padded = detail::grow(padded_, pw * ph);
  for (Eigen::Index y = 0; y < ph; ++y)
    for (Eigen::Index x = 0; x < pw; ++x) {
      const Eigen::Index iy = y - p, ix = x - p;
      padded[y * pw + x] = iy >= 0 && iy < in_h_ && ix >= 0 && ix < in_w_ ? image[iy * in_w_ + ix] : T(0);
    }
  return padded;
}

template <class T>
void Conv2d<T>::direct_forward(const T* params, const T* in, Eigen::Index samples, T* out) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, oc = options_.out_channels, kk = k * k;
  const Eigen::Index pw = padded_width();
  T* weights = detail::grow(block_weights_, kk * block);
  for (Eigen::Index b = 0; b < samples; ++b) {
    const T* padded = pad_image(in + b * in_h_ * in_w_);
    T* y = out + b * oc * out_h_ * out_w_;
    for (Eigen::Index c0 = 0; c0 < oc; c0 += block) {
      const Eigen::Index nc = std::min(block, oc - c0);
      for (Eigen::Index r = 0; r < kk; ++r)
        for (Eigen::Index c = 0; c < block; ++c) weights[r * block + c] = c < nc ? params[c0 + c + oc * r] : T(0);
      Lanes<T> bias_lanes;
      for (Eigen::Index c = 0; c < block; ++c) bias_lanes[c] = options_.bias && c < nc ? params[oc * kk + c0 + c] : T(0);
      for (Eigen::Index oy = 0; oy < out_h_; ++oy)
        for (Eigen::Index ox0 = 0; ox0 < out_w_; ox0 += block) {
          const Eigen::Index nx = std::min(block, out_w_ - ox0);
          Lanes<T> acc[block];
          for (Eigen::Index j = 0; j < block; ++j) acc[j] = bias_lanes;
          for (Eigen::Index ky = 0; ky < k; ++ky) {
            const T* row = padded + (oy * s + ky) * pw + ox0 * s;
            for (Eigen::Index kx = 0; kx < k; ++kx) {
              const Lanes<T> w = Eigen::Map<const Lanes<T>>(weights + (kx + k * ky) * block);
#pragma GCC unroll 8
              for (Eigen::Index j = 0; j < block; ++j) acc[j] += w * row[j * s + kx];
            }
          }
          // Stored lane by lane (a short copy the compiler would otherwise hand to a slow `rep movs`).
          for (Eigen::Index j = 0; j < nx; ++j) {
            T* to = y + c0 + oc * (ox0 + j + out_w_ * oy);
#pragma GCC unroll 8
            for (Eigen::Index c = 0; c < block; ++c)
              if (c < nc) to[c] = acc[j][c];
          }
        }
    }
  }
}

template <class T>
void Conv2d<T>::direct_weight_gradient(const T* in, const T* d_out, Eigen::Index samples, T* dw) const {
  const Eigen::Index k = options_.kernel, s = options_.stride, oc = options_.out_channels, kk = k * k;
  const Eigen::Index pw = padded_width();
  T* sums = detail::grow(block_weights_, kk * block);
  for (Eigen::Index c0 = 0; c0 < oc; c0 += block) {
    const Eigen::Index nc = std::min(block, oc - c0);
    for (Eigen::Index i = 0; i < kk * block; ++i) sums[i] = T(0);
    for (Eigen::Index b = 0; b < samples; ++b) {
      const T* padded = pad_image(in + b * in_h_ * in_w_);
      const T* dy = d_out + b * oc * out_h_ * out_w_;
      for (Eigen::Index oy = 0; oy < out_h_; ++oy)
        for (Eigen::Index ox0 = 0; ox0 < out_w_; ox0 += block) {
          const Eigen::Index nx = std::min(block, out_w_ - ox0);
          Lanes<T> g[block];  // the block's output gradients, zero past its positions and channels
          for (Eigen::Index j = 0; j < block; ++j) {
            const T* from = dy + c0 + oc * (ox0 + j + out_w_ * oy);
#pragma GCC unroll 8
            for (Eigen::Index c = 0; c < block; ++c) g[j][c] = j < nx && c < nc ? from[c] : T(0);
          }
          for (Eigen::Index ky = 0; ky < k; ++ky) {
            const T* row = padded + (oy * s + ky) * pw + ox0 * s;
            for (Eigen::Index kx = 0; kx < k; ++kx) {
              Eigen::Map<Lanes<T>> sum(sums + (kx + k * ky) * block);
              Lanes<T> total = sum;
#pragma GCC unroll 8
              for (Eigen::Index j = 0; j < block; ++j) total += g[j] * row[j * s + kx];
              sum = total;
            }
          }
        }
    }
    for (Eigen::Index r = 0; r < kk; ++r)
      for (Eigen::Index c = 0; c < nc; ++c) dw[c0 + c + oc * r] = sums[r * block + c];
  }
}

template <class T>
void Conv2d<T>::multiply(const T* params, const T* in, Eigen::Index samples, T* out, T* cols) const {
  const Eigen::Index positions = out_h_ * out_w_ * samples, oc = options_.out_channels;
  const Eigen::Map<const Matrix> w(params, oc, patch_);
  Eigen::Map<Matrix> y(out, oc, positions);
  switch (layout()) {
    case Layout::direct: gemm(false, false, w, Eigen::Map<const Matrix>(in, in_c_, positions), y); break;
    case Layout::patches:
      unfold(in, samples, cols);
      gemm(false, false, w, Eigen::Map<const Matrix>(cols, patch_, positions), y);
      break;
    case Layout::positions:
      unfold_positions(in, samples, cols);
      gemm(false, true, w, Eigen::Map<const Matrix>(cols, positions, patch_), y);
      break;
  }
  if (options_.bias) y.colwise() += Eigen::Map<const Vector>(params + w.size(), oc);
}

template <class T>
Eigen::Index Conv2d<T>::chunk_samples(Eigen::Index samples) const {
  if (layout() == Layout::direct) return samples;
  const Eigen::Index per_sample = out_h_ * out_w_ * patch_;
  return std::min(samples, std::max<Eigen::Index>(1, patch_values / per_sample));
}

template <class T>
void Conv2d<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass&) const {
  if (layout() == Layout::positions) {
    direct_forward(params, in.data(), in.cols(), out.data());
    return;
  }
  const Eigen::Index samples = in.cols(), chunk = chunk_samples(samples);
  T* cols = layout() == Layout::direct ? nullptr : detail::grow(cols_, out_h_ * out_w_ * patch_ * chunk);
  const Eigen::Index in_size = in.rows(), out_size = out.rows();
  for (Eigen::Index b = 0; b < samples; b += chunk)
    multiply(params, in.data() + b * in_size, std::min(chunk, samples - b), out.data() + b * out_size, cols);
}

template <class T>
void Conv2d<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T* d_params,
                              const LayerPass&) const {
  const Eigen::Index samples = in.cols(), oc = options_.out_channels, chunk = chunk_samples(samples);
  const Eigen::Index in_size = in.rows(), out_size = d_out.rows();
  const Layout kind = layout();
  Eigen::Map<Matrix> dw(d_params, oc, patch_);
  const Eigen::Map<const Matrix> w(params, oc, patch_);
  if (options_.bias)
    Eigen::Map<Vector>(d_params + dw.size(), oc) =
        Eigen::Map<const Matrix>(d_out.data(), oc, out_h_ * out_w_ * samples).rowwise().sum();
  if (kind == Layout::positions && !d_in) {
    direct_weight_gradient(in.data(), d_out.data(), samples, d_params);
    return;
  }
  if (d_in) d_in->setZero();
  T* cols = kind == Layout::direct ? nullptr : detail::grow(cols_, out_h_ * out_w_ * patch_ * chunk);
  T* d_cols = kind == Layout::direct || !d_in ? nullptr : detail::grow(d_cols_, out_h_ * out_w_ * patch_ * chunk);
  // The patches are unfolded again, a chunk of samples at a time, so that they stay in cache; the weights'
  // gradient sums the chunks' products.
  for (Eigen::Index b = 0; b < samples; b += chunk) {
    const Eigen::Index n = std::min(chunk, samples - b), positions = out_h_ * out_w_ * n;
    const T* x = in.data() + b * in_size;
    const Eigen::Map<const Matrix> dy(d_out.data() + b * out_size, oc, positions);
    const bool more = b > 0;
    T* dx = d_in ? d_in->data() + b * in_size : nullptr;
    switch (kind) {
      case Layout::direct:
        gemm(false, true, dy, Eigen::Map<const Matrix>(x, in_c_, positions), dw, more);
        if (dx) {
          Eigen::Map<Matrix> d(dx, in_c_, positions);
          gemm(true, false, w, dy, d);
        }
        break;
      case Layout::patches:
        unfold(x, n, cols);
        gemm(false, true, dy, Eigen::Map<const Matrix>(cols, patch_, positions), dw, more);
        if (dx) {
          Eigen::Map<Matrix> dc(d_cols, patch_, positions);
          gemm(true, false, w, dy, dc);
          fold_add(d_cols, n, dx);
        }
        break;
      case Layout::positions:
        unfold_positions(x, n, cols);
        gemm(false, false, dy, Eigen::Map<const Matrix>(cols, positions, patch_), dw, more);
        if (dx) {
          Eigen::Map<Matrix> dc(d_cols, positions, patch_);
          gemm(true, false, dy, w, dc);
          fold_add_positions(d_cols, n, dx);
        }
        break;
    }
  }
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace decent
