// OpenBLAS's sgemm on the products of one MLP step (bench/gemm_shapes.hpp). Set OPENBLAS_NUM_THREADS=1 and,
// on CPUs OpenBLAS 0.3.21 does not recognise, OPENBLAS_CORETYPE (bench/run_all does both).
#include <chrono>
#include <limits>
#include <random>
#include <vector>

#include "gemm_shapes.hpp"

#ifdef DECENT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace decent::bench::openblas {

#ifdef DECENT_BENCH_HAVE_OPENBLAS

namespace {

std::vector<float> random_matrix(int rows, int cols, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> m(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
  for (float& v : m) v = uniform(engine);
  return m;
}

template <class Op>
double seconds_per_call(int reps, Op&& op) {
  op();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) op();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
}

}  // namespace

std::array<double, 5> mlp_products(const MlpShape& s, int reps) {
  const auto w1 = random_matrix(s.hidden, s.input, 1), w2 = random_matrix(s.classes, s.hidden, 2);
  const auto x = random_matrix(s.input, s.batch, 3), d2 = random_matrix(s.classes, s.batch, 4);
  const auto d1 = random_matrix(s.hidden, s.batch, 5);
  auto h = random_matrix(s.hidden, s.batch, 6), z = random_matrix(s.classes, s.batch, 7);
  auto dw2 = random_matrix(s.classes, s.hidden, 8), dh = random_matrix(s.hidden, s.batch, 9);
  auto dw1 = random_matrix(s.hidden, s.input, 10);
  const auto no = CblasNoTrans, yes = CblasTrans;
  const auto cm = CblasColMajor;
  return {
      seconds_per_call(reps, [&] { cblas_sgemm(cm, no, no, s.hidden, s.batch, s.input, 1, w1.data(), s.hidden, x.data(), s.input, 0, h.data(), s.hidden); }),
      seconds_per_call(reps, [&] { cblas_sgemm(cm, no, no, s.classes, s.batch, s.hidden, 1, w2.data(), s.classes, h.data(), s.hidden, 0, z.data(), s.classes); }),
      seconds_per_call(reps, [&] { cblas_sgemm(cm, no, yes, s.classes, s.hidden, s.batch, 1, d2.data(), s.classes, h.data(), s.hidden, 0, dw2.data(), s.classes); }),
      seconds_per_call(reps, [&] { cblas_sgemm(cm, yes, no, s.hidden, s.batch, s.classes, 1, w2.data(), s.classes, d2.data(), s.classes, 0, dh.data(), s.hidden); }),
      seconds_per_call(reps, [&] { cblas_sgemm(cm, no, yes, s.hidden, s.input, s.batch, 1, d1.data(), s.hidden, x.data(), s.input, 0, dw1.data(), s.hidden); })};
}

const char* core_name() { return openblas_get_corename(); }

#else  // built without OpenBLAS: no numbers

std::array<double, 5> mlp_products(const MlpShape&, int) {
  constexpr double none = std::numeric_limits<double>::quiet_NaN();
  return {none, none, none, none, none};
}

const char* core_name() { return "none (built without OpenBLAS)"; }

#endif

}  // namespace decent::bench::openblas
