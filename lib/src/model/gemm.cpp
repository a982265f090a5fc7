#include "decent/model/gemm.hpp"

#include "model/gemm_detail.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace decent {
namespace {

// cblas.h's values, so that the library needs no BLAS headers at build time.
constexpr int col_major = 102, no_trans = 111, trans = 112;
using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc);
using CorenameFn = char* (*)();
using SetThreadsFn = void (*)(int);

// Below this many multiply-adds (m n k) a product stays with Eigen: OpenBLAS's call and packing overhead
// is then a large share of the product. Measured on square products (`decent-bench-mlp --crossover 1`,
// docs/performance.md): from n = 24 (13824) on, both the Haswell and the SkylakeX kernel beat Eigen's AVX2
// product at every size; at n = 16 Haswell's ties it, at n = 8 it is 1.5x slower.
constexpr double default_openblas_min_flops = 13824;

struct Backend {
  GemmInfo info;
  SgemmFn sgemm = nullptr;
};

/// OpenBLAS kernels with AVX2 or better: faster than Eigen's AVX2 products (bench/RESULTS.md, P3). Older
/// or generic kernels (Debian's 0.3.21 falls back to "Prescott", SSE3, on CPUs it does not know) are not.
bool fast_kernel(std::string_view core) {
  for (const std::string_view fast : {"Haswell", "Zen", "SkylakeX", "CooperLake", "SapphireRapids"})
    if (core.size() == fast.size() && std::equal(core.begin(), core.end(), fast.begin(), [](char x, char y) {
          return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
        }))
      return true;
  return false;
}

/// The core type to ask OpenBLAS for when the user did not: its dynamic-arch dispatch predates current
/// CPUs and would pick SSE3 kernels on them. Read by OpenBLAS when it is loaded, hence set before dlopen.
const char* core_for_this_cpu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

/// Loads libopenblas.so.0 (one thread per process: decent runs one process per core) and returns its sgemm
/// and kernel name, or an error message.
std::string load_openblas(Backend& backend) {
  if (const char* core = core_for_this_cpu(); core && !std::getenv("OPENBLAS_CORETYPE"))
    setenv("OPENBLAS_CORETYPE", core, 0);
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    return std::string("cannot load libopenblas.so.0 (") + (why ? why : "unknown reason") +
           "; on Debian: apt-get install libopenblas0)";
  }
  backend.sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
  const auto corename = reinterpret_cast<CorenameFn>(dlsym(lib, "openblas_get_corename"));
  const auto set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
  if (!backend.sgemm || !corename) return "libopenblas.so.0 has no cblas_sgemm or openblas_get_corename";
  if (set_threads) set_threads(1);
  const char* core = corename();
  backend.info.kernel = core ? core : "";
  return {};
}

Backend choose() {
  Backend backend;
  const char* env = std::getenv("DECENT_GEMM");
  const std::string wanted = env && *env ? env : "auto";
  if (wanted != "auto" && wanted != "eigen" && wanted != "openblas")
    throw std::invalid_argument("DECENT_GEMM must be auto, eigen or openblas, not '" + wanted + "'");
  if (wanted == "eigen") {
    backend.info.description = "eigen (DECENT_GEMM=eigen)";
    return backend;
  }
  const std::string error = load_openblas(backend);
  if (wanted == "openblas") {
    if (!error.empty()) throw std::runtime_error("DECENT_GEMM=openblas: " + error);
    backend.info.backend = GemmBackend::openblas;
    backend.info.openblas_min_flops = 0;  // every product, as asked
    backend.info.description = "openblas " + backend.info.kernel + " (DECENT_GEMM=openblas)";
    return backend;
  }
  if (!error.empty() || !fast_kernel(backend.info.kernel)) {
    backend.sgemm = nullptr;
    backend.info.description = error.empty() ? "eigen (OpenBLAS kernel " + backend.info.kernel + " is slower)"
                                             : "eigen (" + error + ")";
    backend.info.kernel.clear();
    return backend;
  }
  backend.info.backend = GemmBackend::openblas;
  backend.info.openblas_min_flops = default_openblas_min_flops;
  backend.info.description = "openblas " + backend.info.kernel + " (products of >= " +
                             std::to_string(static_cast<long long>(default_openblas_min_flops)) +
                             " multiply-adds; smaller ones eigen)";
  return backend;
}

const Backend& backend() {
  static const Backend chosen = choose();
  return chosen;
}

/// m, n, k of C = op(A) op(B); throws for shapes that do not match.
struct Shape {
  Eigen::Index m, n, k;
};
template <class ConstRef, class Ref>
Shape shape_of(bool transpose_a, bool transpose_b, const ConstRef& a, const ConstRef& b, const Ref& c) {
  const Shape s{transpose_a ? a.cols() : a.rows(), transpose_b ? b.rows() : b.cols(),
                transpose_a ? a.rows() : a.cols()};
  if ((transpose_b ? b.cols() : b.rows()) != s.k || c.rows() != s.m || c.cols() != s.n)
    throw std::invalid_argument("gemm: shapes do not match");
  return s;
}

/// Through `sgemm` if the product is non-empty and fits its int arguments; false otherwise.
bool call_sgemm(SgemmFn sgemm, bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
                const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c, const Shape& s,
                bool accumulate = false) {
  constexpr Eigen::Index limit = std::numeric_limits<int>::max();
  for (const Eigen::Index v : {s.m, s.n, s.k, a.outerStride(), b.outerStride(), c.outerStride()})
    if (v <= 0 || v > limit) return false;
  sgemm(col_major, transpose_a ? trans : no_trans, transpose_b ? trans : no_trans, static_cast<int>(s.m),
        static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, a.data(), static_cast<int>(a.outerStride()), b.data(),
        static_cast<int>(b.outerStride()), accumulate ? 1.0f : 0.0f, c.data(), static_cast<int>(c.outerStride()));
  return true;
}

template <class ConstRef, class Ref>
void eigen_product(bool transpose_a, bool transpose_b, const ConstRef& a, const ConstRef& b, Ref& c, bool accumulate) {
  if (accumulate) {
    if (!transpose_a && !transpose_b)
      c.noalias() += a * b;
    else if (!transpose_a)
      c.noalias() += a * b.transpose();
    else if (!transpose_b)
      c.noalias() += a.transpose() * b;
    else
      c.noalias() += a.transpose() * b.transpose();
    return;
  }
  if (!transpose_a && !transpose_b)
    c.noalias() = a * b;
  else if (!transpose_a)
    c.noalias() = a * b.transpose();
  else if (!transpose_b)
    c.noalias() = a.transpose() * b;
  else
    c.noalias() = a.transpose() * b.transpose();
}

}  // namespace

const GemmInfo& gemm_info() { return backend().info; }

namespace detail {

bool gemm_openblas(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
                   const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c) {
  static const Backend loaded = [] {
    Backend candidate;
    if (!load_openblas(candidate).empty()) candidate.sgemm = nullptr;
    return candidate;
  }();
  const Shape s = shape_of(transpose_a, transpose_b, a, b, c);
  return loaded.sgemm && call_sgemm(loaded.sgemm, transpose_a, transpose_b, a, b, c, s);
}

}  // namespace detail

void gemm(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
          const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c, bool accumulate) {
  const Shape s = shape_of(transpose_a, transpose_b, a, b, c);
  const Backend& chosen = backend();
  const double flops = static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  if (chosen.sgemm && flops >= chosen.info.openblas_min_flops &&
      call_sgemm(chosen.sgemm, transpose_a, transpose_b, a, b, c, s, accumulate))
    return;
  eigen_product(transpose_a, transpose_b, a, b, c, accumulate);
}

void gemm(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXd>& a,
          const Eigen::Ref<const Eigen::MatrixXd>& b, Eigen::Ref<Eigen::MatrixXd> c, bool accumulate) {
  shape_of(transpose_a, transpose_b, a, b, c);
  eigen_product(transpose_a, transpose_b, a, b, c, accumulate);
}

}  // namespace decent
