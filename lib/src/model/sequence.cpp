#include "decent/model/sequence.hpp"

#include <map>

namespace decent {

template <class T>
Sequence<T>::Sequence(const Sequence& other)
    : BasicLayer<T>(other), offsets_(other.offsets_), names_(other.names_), params_before_(other.params_before_),
      head_name_(other.head_name_), outputs_(other.outputs_.size()), output_at_(other.output_at_.size(), nullptr) {
  for (const auto& layer : other.layers_) layers_.push_back(layer->clone());
}

template <class T>
Sequence<T>& Sequence<T>::operator=(const Sequence& other) {
  if (this != &other) {
    Sequence copy(other);
    *this = std::move(copy);
  }
  return *this;
}

template <class T>
void Sequence<T>::add(std::unique_ptr<BasicLayer<T>> layer) {
  if (this->bound()) throw std::logic_error("Sequence::add after bind()");
  if (!layer) throw std::invalid_argument("Sequence::add: null layer");
  if (layer->bound()) throw std::invalid_argument("Sequence::add: layer " + layer->describe() + " is already bound");
  layers_.push_back(std::move(layer));
}

template <class T>
std::string Sequence<T>::describe_impl() const {
  std::string text;
  for (const auto& layer : layers_) text += (text.empty() ? "" : " ") + layer->describe();
  return text;
}

template <class T>
bool Sequence<T>::stochastic_impl() const {
  for (const auto& layer : layers_)
    if (layer->stochastic()) return true;
  return false;
}

template <class T>
TensorShape Sequence<T>::bind_impl(const TensorShape& input, Gain following) {
  if (layers_.empty()) throw shape_error("a layer sequence needs at least one layer");
  const std::size_t n = layers_.size();
  // Each layer's Gain is decided by what follows it: walk back from the end.
  std::vector<Gain> gains(n);
  Gain next = following;
  for (std::size_t i = n; i-- > 0;) {
    gains[i] = next;
    switch (layers_[i]->gain_role()) {
      case GainRole::opaque: next = Gain::linear; break;
      case GainRole::relu_activation: next = Gain::relu; break;
      case GainRole::linear_activation: next = Gain::linear; break;
      case GainRole::transparent: break;
    }
  }
  std::size_t last_dense = n;
  if (head_name_)
    for (std::size_t i = 0; i < n; ++i)
      if (layers_[i]->kind() == "dense") last_dense = i;
  std::map<std::string, int> counts;
  offsets_.clear();
  names_.clear();
  params_before_.assign(n, false);
  TensorShape shape = input;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string kind = layers_[i]->kind();
    names_.push_back(i == last_dense ? "head" : kind + std::to_string(++counts[kind]));
    params_before_[i] = any;
    shape = layers_[i]->bind(shape, gains[i]);
    offsets_.push_back(this->parameter_count());
    for (const ParameterSpec& p : layers_[i]->parameters())
      this->declare(names_[i] + "." + p.name, p.shape, p.matrix);
    any = any || layers_[i]->parameter_count() > 0;
  }
  outputs_.assign(n, Vector());
  output_at_.assign(n, nullptr);
  return shape;
}

template <class T>
void Sequence<T>::initialize_impl(T* params, Rng& rng) const {
  for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->initialize(params + offsets_[i], rng);
}

template <class T>
typename Sequence<T>::ConstMap Sequence<T>::run(const T* params, ConstMap in, const LayerPass& pass,
                                                std::size_t end) const {
  if (!this->bound()) throw std::logic_error("Sequence::run before bind()");
  if (end > layers_.size()) throw std::out_of_range("Sequence::run: end " + std::to_string(end) + " > size()");
  if (in.rows() != this->input_shape().size())
    throw std::invalid_argument("Sequence::run: input has " + std::to_string(in.rows()) + " rows, expected " +
                                std::to_string(this->input_shape().size()));
  const Eigen::Index batch = in.cols();
  batch_ = batch;
  ran_ = end;
  const T* current = in.data();
  Eigen::Index rows = in.rows();
  for (std::size_t i = 0; i < end; ++i) {
    const BasicLayer<T>& layer = *layers_[i];
    const Eigen::Index out_rows = layer.output_shape().size();
    if (layer.reshapes_only()) {
      output_at_[i] = current;
    } else {
      T* out = detail::grow(outputs_[i], out_rows * batch);
      layer.forward(params + offsets_[i], ConstMap(current, rows, batch), MutableMap(out, out_rows, batch), pass);
      output_at_[i] = out;
    }
    current = output_at_[i];
    rows = out_rows;
  }
  return ConstMap(current, rows, batch);
}

template <class T>
void Sequence<T>::back(const T* params, ConstMap in, ConstMap d_out, MutableMap* d_in, T* d_params,
                       const LayerPass& pass, std::size_t inject_at, const T* inject) const {
  const std::size_t n = layers_.size();
  if (ran_ != n || in.cols() != batch_ || (n > 0 && d_out.data() == nullptr))
    throw std::logic_error("Sequence::back needs run() over every layer on the same samples first");
  if (inject && (inject_at == 0 || inject_at > n))
    throw std::out_of_range("Sequence::back: inject_at " + std::to_string(inject_at) + " outside 1.." + std::to_string(n));
  const Eigen::Index batch = batch_;
  Eigen::Index widest = 0;
  for (const auto& layer : layers_) widest = std::max(widest, layer->input_shape().size());
  widest = std::max(widest, layers_.back()->output_shape().size());
  // The gradient with respect to the current layer's output: d_out, or one of the two buffers (which).
  const T* g = d_out.data();
  int which = -1;
  for (std::size_t i = n; i-- > 0;) {
    const BasicLayer<T>& layer = *layers_[i];
    const Eigen::Index out_rows = layer.output_shape().size(), in_rows = layer.input_shape().size();
    if (inject && i + 1 == inject_at) {
      const int target = which < 0 ? 0 : which;
      T* buffer = detail::grow(grads_[target], widest * batch);
      for (Eigen::Index k = 0, m = out_rows * batch; k < m; ++k) buffer[k] = g[k] + inject[k];
      g = buffer;
      which = target;
    }
    const bool want_input = d_in || params_before_[i];
    const T* input = i == 0 ? in.data() : output_at_[i - 1];
    if (layer.reshapes_only()) {
      if (i == 0 && d_in) *d_in = ConstMap(g, in_rows, batch);
      continue;  // the gradient's memory passes on unchanged
    }
    if (!want_input) {
      // Nothing before this layer needs a gradient: only its own parameters.
      layer.backward(params + offsets_[i], ConstMap(input, in_rows, batch), ConstMap(output_at_[i], out_rows, batch),
                     ConstMap(g, out_rows, batch), nullptr, d_params + offsets_[i], pass);
      break;
    }
    if (i == 0) {
      layer.backward(params + offsets_[i], ConstMap(input, in_rows, batch), ConstMap(output_at_[i], out_rows, batch),
                     ConstMap(g, out_rows, batch), d_in, d_params + offsets_[i], pass);
      break;
    }
    const int target = which == 0 ? 1 : 0;
    T* buffer = detail::grow(grads_[target], widest * batch);
    MutableMap d_input(buffer, in_rows, batch);
    layer.backward(params + offsets_[i], ConstMap(input, in_rows, batch), ConstMap(output_at_[i], out_rows, batch),
                   ConstMap(g, out_rows, batch), &d_input, d_params + offsets_[i], pass);
    g = buffer;
    which = target;
  }
}

template <class T>
void Sequence<T>::forward_impl(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const {
  out = run(params, in, pass, layers_.size());
}

template <class T>
void Sequence<T>::backward_impl(const T* params, ConstMap in, ConstMap, ConstMap d_out, MutableMap* d_in, T* d_params,
                                const LayerPass& pass) const {
  back(params, in, d_out, d_in, d_params, pass);
}

template class Sequence<float>;
template class Sequence<double>;

}  // namespace decent
