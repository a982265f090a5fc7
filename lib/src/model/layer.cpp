#include "decent/model/layer.hpp"

namespace decent {

namespace {
std::string rows_message(const std::string& layer, const char* what, Eigen::Index got, Eigen::Index expected) {
  return layer + ": " + what + " has " + std::to_string(got) + " rows, expected " + std::to_string(expected);
}
}  // namespace

template <class T>
TensorShape BasicLayer<T>::bind(const TensorShape& input, Gain following) {
  if (bound_) throw std::logic_error(describe() + ": bind() called twice");
  if (input.channels < 1 || input.height < 1 || input.width < 1)
    throw shape_error(describe() + ": input shape " + input.to_string() + " is empty");
  parameters_.clear();
  parameter_count_ = 0;
  input_ = input;
  output_ = bind_impl(input, following);
  if (output_.size() < 1)
    throw shape_error(describe() + ": output shape " + output_.to_string() + " from input " + input.to_string() +
                      " is empty");
  bound_ = true;
  return output_;
}

template <class T>
Eigen::Index BasicLayer<T>::declare(std::string name, std::vector<Eigen::Index> shape, bool matrix) {
  ParameterSpec spec{std::move(name), parameter_count_, std::move(shape), matrix};
  parameter_count_ += spec.size();
  parameters_.push_back(std::move(spec));
  return parameters_.back().offset;
}

template <class T>
void BasicLayer<T>::initialize_impl(T* params, Rng&) const {
  for (Eigen::Index k = 0; k < parameter_count_; ++k) params[k] = T(0);
}

template <class T>
void BasicLayer<T>::initialize(T* params, Rng& rng) const {
  if (!bound_) throw std::logic_error(describe() + ": initialize() before bind()");
  initialize_impl(params, rng);
}

template <class T>
void BasicLayer<T>::forward(const T* params, ConstMap in, MutableMap out, const LayerPass& pass) const {
  if (!bound_) throw std::logic_error(describe() + ": forward() before bind()");
  if (in.rows() != input_.size()) throw std::invalid_argument(rows_message(describe(), "input", in.rows(), input_.size()));
  if (out.rows() != output_.size())
    throw std::invalid_argument(rows_message(describe(), "output", out.rows(), output_.size()));
  if (in.cols() != out.cols())
    throw std::invalid_argument(describe() + ": " + std::to_string(in.cols()) + " input samples but " +
                                std::to_string(out.cols()) + " output columns");
  forward_impl(params, in, out, pass);
}

template <class T>
void BasicLayer<T>::backward(const T* params, ConstMap in, ConstMap out, ConstMap d_out, MutableMap* d_in,
                             T* d_params, const LayerPass& pass) const {
  if (!bound_) throw std::logic_error(describe() + ": backward() before bind()");
  if (d_out.rows() != output_.size() || d_out.cols() != in.cols())
    throw std::invalid_argument(describe() + ": d_out is " + std::to_string(d_out.rows()) + " x " +
                                std::to_string(d_out.cols()) + ", expected " + std::to_string(output_.size()) + " x " +
                                std::to_string(in.cols()));
  if (d_in && (d_in->rows() != input_.size() || d_in->cols() != in.cols()))
    throw std::invalid_argument(rows_message(describe(), "d_in", d_in->rows(), input_.size()));
  backward_impl(params, in, out, d_out, d_in, d_params, pass);
}

template class BasicLayer<float>;
template class BasicLayer<double>;

}  // namespace decent
