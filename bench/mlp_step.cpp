// P3: one training step of decent's MLP (784-256-10, batch 64, one thread): Model::loss_and_gradient plus an
// Sgd step with momentum 0.9, as decent-train takes it. Alongside, the five matrix products of that step with
// Eigen (the library's AVX2+FMA flags, and AVX-512) and OpenBLAS sgemm, to show where the step's time goes.
//
//   decent-bench-mlp [--batch 64] [--hidden 256] [--repeats 7] [--target-seconds 0.2] [--products 1]
//                    [--label mlp_step]
//   decent-bench-mlp --crossover 1 [--repeats 7]
//
// The step's products go through decent::gemm, whose backend DECENT_GEMM picks (docs/performance.md); the
// line's "gemm" field says which. --label names the step's case (run_all runs it again with DECENT_GEMM=eigen
// as "mlp_step_eigen"). --products 0 times the step alone (for profilers: valgrind does not know AVX-512
// instructions); --inner K forces K steps per sample. --crossover 1 times square products n x n x n, Eigen's
// against OpenBLAS's, for the size above which decent::gemm hands products to OpenBLAS.
// One JSON line per case (see measure.hpp); "mlp_step" is seconds per step, samples/s = batch / that.
#include <functional>
#include <iostream>
#include <numeric>

#include "decent/core/random.hpp"
#include "decent/model/gemm.hpp"
#include "decent/model/mlp.hpp"
#include "decent/optim/sgd.hpp"
#include "gemm_shapes.hpp"
#include "measure.hpp"
#include "model/gemm_detail.hpp"

using namespace decent;
using bench::Line;

namespace decent::bench {
std::array<double, 5> mlp_product_flops(const MlpShape& s) {
  const double b = s.batch, in = s.input, h = s.hidden, c = s.classes;
  return {2 * h * in * b, 2 * c * h * b, 2 * c * b * h, 2 * h * c * b, 2 * h * b * in};
}
}  // namespace decent::bench

namespace {

/// Seconds per call of `op`, the mean of enough back-to-back calls to fill about `seconds`.
double seconds_per_call(const std::function<void()>& op, double seconds) {
  op();
  int k = 1;
  for (;;) {
    const double start = bench::now();
    for (int i = 0; i < k; ++i) op();
    const double took = bench::now() - start;
    if (took >= seconds || k >= (1 << 24)) return took / k;
    k = static_cast<int>(std::min<double>(1 << 24, k * std::max(2.0, 1.2 * seconds / std::max(took, 1e-9))));
  }
}

/// Square products C = A B of n x n x n: Eigen's kernel (the library's flags) against OpenBLAS's sgemm,
/// interleaved per repeat; one line per size with both medians.
void crossover(int repeats) {
  for (const int n : {4, 8, 12, 16, 24, 32, 48, 64, 96, 128}) {
    Rng rng(derive_seed(5, {static_cast<std::uint64_t>(n)}));
    Eigen::MatrixXf a(n, n), b(n, n), c(n, n);
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(rng.normal());
    for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(rng.normal());
    std::vector<double> eigen, blas;
    for (int r = 0; r < repeats; ++r) {
      eigen.push_back(seconds_per_call([&] { c.noalias() = a * b; }, 0.02));
      blas.push_back(seconds_per_call([&] {
        if (!detail::gemm_openblas(false, false, a, b, c)) throw std::runtime_error("libopenblas.so.0 did not load");
      }, 0.02));
    }
    const double e = bench::median(eigen), o = bench::median(blas);
    Line("P3", "gemm_crossover_" + std::to_string(n)).field("n", n).field("multiply_adds", double(n) * n * n)
        .field("eigen_s", e).field("openblas_s", o).samples("s", blas).print();
    std::fprintf(stderr, "P3 crossover n = %3d (%8d multiply-adds): eigen %.3g s, openblas %.3g s, ratio %.2f\n", n,
                 n * n * n, e, o, o / e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::Options options(argc, argv, 1);
    if (options.number("crossover", 0) != 0) {
      const int repeats = static_cast<int>(options.number("repeats", 7));
      options.check_all_used();
      crossover(repeats);
      return 0;
    }
    bench::MlpShape shape;
    shape.batch = static_cast<int>(options.number("batch", 64));
    shape.hidden = static_cast<int>(options.number("hidden", 256));
    const int repeats = static_cast<int>(options.number("repeats", 7));
    const double seconds = options.number("target-seconds", 0.2);
    const bool with_products = options.number("products", 1) != 0;
    const int forced = static_cast<int>(options.number("inner", 0));
    const std::string label = options.text("label", "mlp_step");
    options.check_all_used();

    const Mlp model(shape.input, {shape.hidden}, shape.classes);
    Eigen::VectorXf params(model.parameter_count()), grad(model.parameter_count());
    Rng rng(derive_seed(3, {0}));
    model.initialize(params, rng);
    Batch batch;
    batch.x.resize(shape.input, shape.batch);
    for (Eigen::Index i = 0; i < batch.x.size(); ++i) batch.x.data()[i] = static_cast<float>(rng.uniform());
    for (int j = 0; j < shape.batch; ++j) batch.labels.push_back(static_cast<int>(rng.below(10)));
    SgdOptions sgd_options;
    sgd_options.momentum = 0.9f;
    const Sgd sgd(sgd_options);
    SgdState state;
    float sink = 0;
    const std::function<void()> step = [&] {
      sink += model.loss_and_gradient(params, batch, grad);
      sgd.step(params, grad, state, 0.01f);
    };
    const auto timed = [](int k, const std::function<void()>& op) { return bench::mean_seconds(k, op); };
    step();
    const int k = forced > 0 ? forced
                             : std::max(1, static_cast<int>(std::lround(seconds / std::max(timed(1, step), 1e-9))));
    // The products: about a tenth of a sample's time each.
    const int product_reps = std::max(1, k / 10);

    std::vector<double> steps;
    std::array<std::vector<double>, 3> products;  // summed over the five products, per variant
    std::array<std::array<std::vector<double>, 5>, 3> each;
    for (int r = 0; r < repeats; ++r) {
      steps.push_back(timed(k, step));
      if (!with_products) continue;
      const std::array<std::array<double, 5>, 3> t{bench::avx2::mlp_products(shape, product_reps),
                                                   bench::avx512::mlp_products(shape, product_reps),
                                                   bench::openblas::mlp_products(shape, product_reps)};
      for (int v = 0; v < 3; ++v) {
        products[v].push_back(std::accumulate(t[v].begin(), t[v].end(), 0.0));
        for (int p = 0; p < 5; ++p) each[v][p].push_back(t[v][p]);
      }
    }
    if (!std::isfinite(sink)) throw std::runtime_error("the loss diverged");

    if (!with_products) {
      Line("P3", label).field("batch", shape.batch).field("gemm", gemm_info().description).field("inner", k)
          .samples("s", steps).print();
      return 0;
    }
    const auto flops = bench::mlp_product_flops(shape);
    const double total_flops = std::accumulate(flops.begin(), flops.end(), 0.0);
    const std::string core = bench::openblas::core_name();
    Line("P3", label).field("model", "mlp " + std::to_string(shape.input) + "-" + std::to_string(shape.hidden) + "-10")
        .field("batch", shape.batch).field("gemm", gemm_info().description)
        .field("params", static_cast<double>(model.parameter_count())).field("inner", k).samples("s", steps).print();
    const char* variants[3] = {"eigen_avx2", "eigen_avx512", "openblas"};
    for (int v = 0; v < 3; ++v) {
      Line line("P3", std::string("gemm_") + variants[v]);
      line.field("flops", total_flops).field("inner", product_reps);
      if (v == 2) line.field("openblas_core", core);
      if (v < 2) line.field("avx512", (v == 0 ? bench::avx2::avx512() : bench::avx512::avx512()) ? 1 : 0);
      for (int p = 0; p < 5; ++p) line.field(std::string("median_s_p") + std::to_string(p), bench::median(each[v][p]));
      line.samples("s", products[v]).print();
    }
    const double step_s = bench::median(steps);
    std::fprintf(stderr, "P3 mlp step: %.3f ms = %.0f samples/s (%.1f GFLOP/s in its products; gemm: %s)\n",
                 1e3 * step_s, shape.batch / step_s, total_flops / step_s / 1e9, gemm_info().description.c_str());
    for (int v = 0; v < 3; ++v) {
      std::fprintf(stderr, "P3 %-12s products %.3f ms (%.1f GFLOP/s):", variants[v], 1e3 * bench::median(products[v]),
                   total_flops / bench::median(products[v]) / 1e9);
      for (int p = 0; p < 5; ++p)
        std::fprintf(stderr, "  %s %.1f GF/s", bench::mlp_product_names[p], flops[p] / bench::median(each[v][p]) / 1e9);
      std::fprintf(stderr, "\n");
    }
    std::fprintf(stderr, "P3 OpenBLAS core: %s\n", core.c_str());
  } catch (const std::exception& e) {
    std::cerr << "decent-bench-mlp: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
