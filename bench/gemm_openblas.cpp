// OpenBLAS's sgemm on the products of one MLP step (bench/gemm_shapes.hpp), through decent's own run-time loading
// of libopenblas.so.0 (decent::detail::gemm_openblas): the benchmark links no BLAS, so OpenBLAS picks its kernel
// as it does in decent-train (docs/performance.md, "Matrix products"), not before main.
#include <chrono>
#include <random>
#include <stdexcept>

#include <Eigen/Core>

#include "gemm_shapes.hpp"
#include "model/gemm_detail.hpp"

namespace decent::bench::openblas {

namespace {

Eigen::MatrixXf random_matrix(int rows, int cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = uniform(engine);
  return m;
}

template <class Op>
double seconds_per_call(int reps, Op&& op) {
  op();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) op();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
}

void product(bool ta, bool tb, const Eigen::MatrixXf& a, const Eigen::MatrixXf& b, Eigen::MatrixXf& c) {
  if (!detail::gemm_openblas(ta, tb, a, b, c)) throw std::runtime_error("libopenblas.so.0 did not load");
}

}  // namespace

std::array<double, 5> mlp_products(const MlpShape& s, int reps) {
  const auto w1 = random_matrix(s.hidden, s.input, 1), w2 = random_matrix(s.classes, s.hidden, 2);
  const auto x = random_matrix(s.input, s.batch, 3), d2 = random_matrix(s.classes, s.batch, 4);
  const auto d1 = random_matrix(s.hidden, s.batch, 5);
  auto h = random_matrix(s.hidden, s.batch, 6), z = random_matrix(s.classes, s.batch, 7);
  auto dw2 = random_matrix(s.classes, s.hidden, 8), dh = random_matrix(s.hidden, s.batch, 9);
  auto dw1 = random_matrix(s.hidden, s.input, 10);
  return {seconds_per_call(reps, [&] { product(false, false, w1, x, h); }),
          seconds_per_call(reps, [&] { product(false, false, w2, h, z); }),
          seconds_per_call(reps, [&] { product(false, true, d2, h, dw2); }),
          seconds_per_call(reps, [&] { product(true, false, w2, d2, dh); }),
          seconds_per_call(reps, [&] { product(false, true, d1, x, dw1); })};
}

std::string core_name() { return detail::openblas_kernel(); }

}  // namespace decent::bench::openblas
