#include "decent/model/gemm.hpp"

#include "model/gemm_detail.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
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

/// Instruction-set levels, to compare a kernel with the CPU and with Eigen's build: 1 SSE or AVX, 2 AVX2 + FMA,
/// 3 AVX-512 (F, BW, VL).
int kernel_level(std::string_view core) {
  const auto is = [&](std::string_view name) {
    return core.size() == name.size() && std::equal(core.begin(), core.end(), name.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const std::string_view avx512 : {"SkylakeX", "CooperLake", "SapphireRapids"})
    if (is(avx512)) return 3;
  for (const std::string_view avx2 : {"Haswell", "Zen"})
    if (is(avx2)) return 2;
  return 1;  // Prescott (SSE3, Debian 0.3.21's fallback on CPUs it does not know), Sandybridge, ...
}

int cpu_level() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return 3;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
#endif
  return 1;
}

/// The level Eigen's products in this library were compiled for.
constexpr int eigen_level() {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  return 3;
#elif defined(__AVX2__) && defined(__FMA__)
  return 2;
#else
  return 1;
#endif
}

const char* level_name(int level) { return level == 3 ? "avx512" : level == 2 ? "avx2" : "sse"; }

/// The core type to ask OpenBLAS for when the user did not: its dynamic-arch dispatch predates current CPUs and
/// would pick SSE3 kernels on them. Read by OpenBLAS when it is loaded, hence set before dlopen.
const char* core_for_this_cpu() {
  const int level = cpu_level();
  return level == 3 ? "SkylakeX" : level == 2 ? "Haswell" : nullptr;
}

/// "AMD EPYC" (the model name of /proc/cpuinfo), or "unknown CPU".
std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line))
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(colon + 1);
        while (!name.empty() && name.front() == ' ') name.erase(name.begin());
        return name;
      }
    }
  return "unknown CPU";
}

/// sgemm and the kernel name of a loaded OpenBLAS handle, or an error message.
std::string bind_openblas(void* lib, Backend& backend) {
  backend.sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
  const auto corename = reinterpret_cast<CorenameFn>(dlsym(lib, "openblas_get_corename"));
  const auto set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
  if (!backend.sgemm || !corename) return "libopenblas.so.0 has no cblas_sgemm or openblas_get_corename";
  if (set_threads) set_threads(1);
  const char* core = corename();
  backend.info.kernel = core ? core : "";
  return {};
}

/// Loads libopenblas.so.0 (one thread per process: decent runs one process per core) and binds its sgemm, or
/// returns an error message. OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: if the process already
/// holds a copy (a program linked against OpenBLAS loads it before main) whose kernel is below this CPU and the
/// user set no core type, a private copy is loaded into a namespace of its own (dlmopen) with the right one.
std::string load_openblas(Backend& backend) {
  const bool user_core = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  if (void* loaded = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD)) {
    const std::string error = bind_openblas(loaded, backend);
    if (!error.empty() || user_core || kernel_level(backend.info.kernel) >= cpu_level()) return error;
    const std::string early = backend.info.kernel;
    if (const char* core = core_for_this_cpu()) setenv("OPENBLAS_CORETYPE", core, 1);
    void* own = dlmopen(LM_ID_NEWLM, "libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    unsetenv("OPENBLAS_CORETYPE");  // the process's own copy, and its children, keep what they had
    if (!own) return {};           // keep the early copy; auto then judges its kernel
    Backend copy;
    if (!bind_openblas(own, copy).empty()) return {};
    backend.sgemm = copy.sgemm;
    backend.info.kernel = copy.info.kernel;
    backend.info.note = "a private copy: the process had loaded OpenBLAS with kernel " + early + " before decent";
    return {};
  }
  if (const char* core = core_for_this_cpu(); core && !user_core) setenv("OPENBLAS_CORETYPE", core, 0);
  void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    return std::string("cannot load libopenblas.so.0 (") + (why ? why : "unknown reason") +
           "; on Debian: apt-get install libopenblas0)";
  }
  return bind_openblas(lib, backend);
}

Backend choose() {
  Backend backend;
  backend.info.cpu = cpu_model() + " (" + level_name(cpu_level()) + ")";
  backend.info.eigen_isa = level_name(eigen_level());
  const char* env = std::getenv("DECENT_GEMM");
  const std::string wanted = env && *env ? env : "auto";
  if (wanted != "auto" && wanted != "eigen" && wanted != "openblas")
    throw std::invalid_argument("DECENT_GEMM must be auto, eigen or openblas, not '" + wanted + "'");
  const std::string eigen = std::string("eigen ") + level_name(eigen_level());
  if (wanted == "eigen") {
    backend.info.description = eigen + " (DECENT_GEMM=eigen)";
    return backend;
  }
  const std::string error = load_openblas(backend);
  const std::string note = backend.info.note.empty() ? "" : "; " + backend.info.note;
  if (wanted == "openblas") {
    if (!error.empty()) throw std::runtime_error("DECENT_GEMM=openblas: " + error);
    backend.info.backend = GemmBackend::openblas;
    backend.info.openblas_min_flops = 0;  // every product, as asked
    backend.info.description = "openblas " + backend.info.kernel + " (DECENT_GEMM=openblas" + note + ")";
    return backend;
  }
  // auto: OpenBLAS when its kernel uses at least the instruction set Eigen was compiled for (measured faster
  // there: bench/RESULTS.md P3), else Eigen.
  if (!error.empty() || kernel_level(backend.info.kernel) < eigen_level()) {
    backend.sgemm = nullptr;
    backend.info.description =
        error.empty() ? eigen + " (OpenBLAS kernel " + backend.info.kernel + " is below this build's " +
                            level_name(eigen_level()) + note + ")"
                      : eigen + " (" + error + ")";
    backend.info.kernel.clear();
    return backend;
  }
  backend.info.backend = GemmBackend::openblas;
  backend.info.openblas_min_flops = default_openblas_min_flops;
  backend.info.description = "openblas " + backend.info.kernel + " (products of >= " +
                             std::to_string(static_cast<long long>(default_openblas_min_flops)) +
                             " multiply-adds; smaller ones " + eigen + note + ")";
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

namespace {
const Backend& openblas_alone() {
  static const Backend loaded = [] {
    Backend candidate;
    if (!load_openblas(candidate).empty()) candidate.sgemm = nullptr;
    return candidate;
  }();
  return loaded;
}
}  // namespace

bool gemm_openblas(bool transpose_a, bool transpose_b, const Eigen::Ref<const Eigen::MatrixXf>& a,
                   const Eigen::Ref<const Eigen::MatrixXf>& b, Eigen::Ref<Eigen::MatrixXf> c) {
  const Backend& loaded = openblas_alone();
  const Shape s = shape_of(transpose_a, transpose_b, a, b, c);
  return loaded.sgemm && call_sgemm(loaded.sgemm, transpose_a, transpose_b, a, b, c, s);
}

std::string openblas_kernel() {
  const Backend& loaded = openblas_alone();
  return loaded.sgemm ? loaded.info.kernel : "none (libopenblas.so.0 did not load)";
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
