// P8: one training step of a layer preset (lenet5, cnn-small; 1x28x28 inputs, batch 64, one thread):
// Model::loss_and_gradient plus an Sgd step with momentum 0.9, as decent-train takes it; and the evaluation pass
// (Model::evaluate over eval-batch samples, inference). Inputs are uniform in [0, 1), labels uniform.
//
//   decent-bench-cnn [--model cnn-small] [--batch 64] [--eval-batch 1024] [--repeats 7] [--target-seconds 0.3]
//                    [--profile 0]
//
// One JSON line per case (measure.hpp): "cnn_step" (seconds per step) and "cnn_eval" (seconds per eval batch).
// --profile 1 also prints, to stderr, each layer's forward and backward time in the step (median of the repeats).
#include <functional>
#include <iostream>

#include "decent/core/random.hpp"
#include "decent/model/factory.hpp"
#include "decent/model/gemm.hpp"
#include "decent/model/layer_model.hpp"
#include "decent/optim/sgd.hpp"
#include "measure.hpp"

using namespace decent;
using bench::Line;

namespace {

double timed(int k, const std::function<void()>& op) { return bench::mean_seconds(k, op); }

int calls_for(double seconds, const std::function<void()>& op) {
  op();
  return std::max(1, static_cast<int>(std::lround(seconds / std::max(timed(1, op), 1e-9))));
}

/// Each layer's forward and backward time over the batch, layer by layer with buffers of its own.
void profile(const Network<float>& net, const float* params, const Eigen::MatrixXf& x, int repeats, bool train) {
  const Sequence<float>& layers = net.layers();
  const std::size_t n = layers.size();
  const Eigen::Index batch = x.cols();
  std::vector<Eigen::MatrixXf> outputs(n), grads(n + 1);
  std::vector<std::unique_ptr<Layer>> copies;
  for (std::size_t i = 0; i < n; ++i) {
    copies.push_back(layers.layer(i).clone());
    outputs[i].resize(layers.layer(i).output_shape().size(), batch);
    grads[i].resize(layers.layer(i).input_shape().size(), batch);
  }
  grads[n] = Eigen::MatrixXf::Constant(net.classes(), batch, 1e-3f);
  Eigen::VectorXf d_params(net.parameter_count());
  const LayerPass training{train, nullptr};  // the presets have no dropout
  std::vector<std::vector<double>> forward(n), backward(n);
  for (int r = 0; r < repeats; ++r)
    for (std::size_t i = 0; i < n; ++i) {
      const Eigen::MatrixXf& in = i == 0 ? x : outputs[i - 1];
      const Layer& layer = *copies[i];
      const float* p = params + layers.offset(i);
      forward[i].push_back(timed(5, [&] {
        layer.forward(p, Layer::ConstMap(in.data(), in.rows(), batch), Layer::MutableMap(outputs[i].data(), outputs[i].rows(), batch), training);
      }));
    }
  for (int r = 0; r < (train ? repeats : 0); ++r)
    for (std::size_t i = n; i-- > 0;) {
      const Eigen::MatrixXf& in = i == 0 ? x : outputs[i - 1];
      const Layer& layer = *copies[i];
      layer.forward(params + layers.offset(i), Layer::ConstMap(in.data(), in.rows(), batch),
                    Layer::MutableMap(outputs[i].data(), outputs[i].rows(), batch), training);
      Layer::MutableMap d_in(grads[i].data(), grads[i].rows(), batch);
      backward[i].push_back(timed(5, [&] {
        layer.backward(params + layers.offset(i), Layer::ConstMap(in.data(), in.rows(), batch),
                       Layer::ConstMap(outputs[i].data(), outputs[i].rows(), batch),
                       Layer::ConstMap(grads[i + 1].data(), grads[i + 1].rows(), batch), i == 0 ? nullptr : &d_in,
                       d_params.data() + layers.offset(i), training);
      }));
    }
  double total = 0;
  const auto median_or_zero = [](const std::vector<double>& v) { return v.empty() ? 0.0 : bench::median(v); };
  for (std::size_t i = 0; i < n; ++i) total += median_or_zero(forward[i]) + median_or_zero(backward[i]);
  std::fprintf(stderr, "P8 %s pass of %lld samples, layer by layer:\n", train ? "training" : "inference",
               static_cast<long long>(batch));
  for (std::size_t i = 0; i < n; ++i) {
    const double f = median_or_zero(forward[i]), b = median_or_zero(backward[i]);
    std::fprintf(stderr, "P8 layer %2zu %-36s forward %7.3f ms  backward %7.3f ms  (%4.1f%%)\n", i,
                 layers.layer(i).describe().c_str(), 1e3 * f, 1e3 * b, 100 * (f + b) / total);
  }
  std::fprintf(stderr, "P8 layers in all: %.3f ms\n", 1e3 * total);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::Options options(argc, argv, 1);
    const std::string name = options.text("model", "cnn-small");
    const int batch = static_cast<int>(options.number("batch", 64));
    const int eval_batch = static_cast<int>(options.number("eval-batch", 1024));
    const int repeats = static_cast<int>(options.number("repeats", 7));
    const double seconds = options.number("target-seconds", 0.3);
    const bool with_profile = options.number("profile", 0) != 0;
    options.check_all_used();

    ModelOptions mo;
    mo.name = name;
    mo.input = {1, 28, 28};
    mo.classes = 10;
    const auto model = make_model(mo);
    const auto* layered = dynamic_cast<const LayerModel*>(model.get());
    Eigen::VectorXf params(model->parameter_count()), grad(model->parameter_count());
    Rng rng(derive_seed(3, {0}));
    model->initialize(params, rng);
    const auto samples = [&](int count, Batch& b) {
      b.x.resize(784, count);
      for (Eigen::Index i = 0; i < b.x.size(); ++i) b.x.data()[i] = static_cast<float>(rng.uniform());
      b.labels.clear();
      for (int j = 0; j < count; ++j) b.labels.push_back(static_cast<int>(rng.below(10)));
    };
    Batch train, eval;
    samples(batch, train);
    samples(eval_batch, eval);
    SgdOptions sgd_options;
    sgd_options.momentum = 0.9f;
    const Sgd sgd(sgd_options);
    SgdState state;
    float sink = 0;
    const std::function<void()> step = [&] {
      sink += model->loss_and_gradient(params, train, grad);
      sgd.step(params, grad, state, 1e-4f);
    };
    const std::function<void()> evaluate = [&] { sink += static_cast<float>(model->evaluate(params, eval).loss); };
    const int k_step = calls_for(seconds, step), k_eval = calls_for(seconds, evaluate);
    std::vector<double> steps, evals;
    for (int r = 0; r < repeats; ++r) {  // interleaved, so drifting load hits both alike
      steps.push_back(timed(k_step, step));
      evals.push_back(timed(k_eval, evaluate));
    }
    if (!std::isfinite(sink)) throw std::runtime_error("the loss diverged");
    Line("P8", "cnn_step").field("model", name).field("batch", batch).field("gemm", gemm_info().description)
        .field("params", static_cast<double>(model->parameter_count())).field("inner", k_step).samples("s", steps).print();
    Line("P8", "cnn_eval").field("model", name).field("batch", eval_batch).field("gemm", gemm_info().description)
        .field("inner", k_eval).samples("s", evals).print();
    const double s = bench::median(steps), e = bench::median(evals);
    std::fprintf(stderr, "P8 %s step (batch %d): %.3f ms = %.0f samples/s; eval (batch %d): %.3f ms = %.0f samples/s; gemm: %s\n",
                 name.c_str(), batch, 1e3 * s, batch / s, eval_batch, 1e3 * e, eval_batch / e, gemm_info().description.c_str());
    if (with_profile && layered) {
      profile(layered->network(), params.data(), train.x, repeats, true);
      profile(layered->network(), params.data(), eval.x, repeats, false);
    }
  } catch (const std::exception& e) {
    std::cerr << "decent-bench-cnn: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
