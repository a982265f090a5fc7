#include "decent/model/activation.hpp"

#include <cmath>
#include <numbers>

namespace decent {

template <class T>
std::string Activation<T>::kind_impl() const {
  switch (kind_) {
    case ActivationKind::relu: return "relu";
    case ActivationKind::tanh: return "tanh";
    case ActivationKind::gelu: return "gelu";
  }
  return "?";
}

template <class T>
void Activation<T>::forward_impl(const T*, ConstMap in, MutableMap out, const LayerPass&) const {
  switch (kind_) {
    case ActivationKind::relu: out = in.cwiseMax(T(0)); return;
    case ActivationKind::tanh: out = in.array().tanh(); return;
    case ActivationKind::gelu: {
      const T* x = in.data();
      T* y = out.data();
      const T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>;
      for (Eigen::Index i = 0, n = in.size(); i < n; ++i) y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * inv_sqrt2));
      return;
    }
  }
}

template <class T>
void Activation<T>::backward_impl(const T*, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in, T*,
                                  const LayerPass&) const {
  if (!d_in) return;
  const T* g = d_out.data();
  T* d = d_in->data();
  const Eigen::Index n = d_out.size();
  switch (kind_) {
    case ActivationKind::relu: {
      // Passes where the output was positive (the input was, too).
      const T* y = out.data();
      for (Eigen::Index i = 0; i < n; ++i) d[i] = y[i] > 0 ? g[i] : T(0);
      return;
    }
    case ActivationKind::tanh: {
      const T* y = out.data();
      for (Eigen::Index i = 0; i < n; ++i) d[i] = g[i] * (T(1) - y[i] * y[i]);
      return;
    }
    case ActivationKind::gelu: {
      // d/dx x Phi(x) = Phi(x) + x phi(x).
      const T* x = in.data();
      const T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>, inv_sqrt_2pi = std::numbers::inv_sqrtpi_v<T> * inv_sqrt2;
      for (Eigen::Index i = 0; i < n; ++i) {
        const T cdf = T(0.5) * (T(1) + std::erf(x[i] * inv_sqrt2));
        const T pdf = inv_sqrt_2pi * std::exp(T(-0.5) * x[i] * x[i]);
        d[i] = g[i] * (cdf + x[i] * pdf);
      }
      return;
    }
  }
}

template class Activation<float>;
template class Activation<double>;

}  // namespace decent
