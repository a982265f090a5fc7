// Eigen's products of one MLP step; compiled twice (bench/CMakeLists.txt) with different SIMD flags, the
// namespace given by DECENT_BENCH_GEMM_VARIANT.
#include <Eigen/Dense>
#include <chrono>

#include "gemm_shapes.hpp"

#ifndef DECENT_BENCH_GEMM_VARIANT
#error "compile with -DDECENT_BENCH_GEMM_VARIANT=avx2 or avx512"
#endif

namespace decent::bench::DECENT_BENCH_GEMM_VARIANT {

namespace {

template <class Op>
double seconds_per_call(int reps, Op&& op) {
  op();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) op();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
}

}  // namespace

std::array<double, 5> mlp_products(const MlpShape& s, int reps) {
  using Matrix = Eigen::MatrixXf;
  const Matrix w1 = Matrix::Random(s.hidden, s.input), w2 = Matrix::Random(s.classes, s.hidden);
  const Matrix x = Matrix::Random(s.input, s.batch), d2 = Matrix::Random(s.classes, s.batch);
  const Matrix d1 = Matrix::Random(s.hidden, s.batch);
  Matrix h(s.hidden, s.batch), z(s.classes, s.batch), dw2(s.classes, s.hidden), dh(s.hidden, s.batch),
      dw1(s.hidden, s.input);
  h.setRandom();
  return {seconds_per_call(reps, [&] { h.noalias() = w1 * x; }),
          seconds_per_call(reps, [&] { z.noalias() = w2 * h; }),
          seconds_per_call(reps, [&] { dw2.noalias() = d2 * h.transpose(); }),
          seconds_per_call(reps, [&] { dh.noalias() = w2.transpose() * d2; }),
          seconds_per_call(reps, [&] { dw1.noalias() = d1 * x.transpose(); })};
}

bool avx512() {
#ifdef __AVX512F__
  return true;
#else
  return false;
#endif
}

}  // namespace decent::bench::DECENT_BENCH_GEMM_VARIANT
