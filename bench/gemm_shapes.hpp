#pragma once
/// @file The five matrix products of one MLP training step (input -> hidden -> classes, batch B), timed with
/// Eigen compiled for AVX2+FMA (the library's flags), Eigen compiled with AVX-512, and OpenBLAS's sgemm.
/// Only plain numbers cross these functions, so each variant can be compiled with its own flags.
#include <array>
#include <string>

namespace decent::bench {

/// Sizes of a one-hidden-layer MLP step.
struct MlpShape {
  int input = 784, hidden = 256, classes = 10, batch = 64;
};

/// The products, as the MLP computes them (column-major, samples as columns).
inline constexpr std::array<const char*, 5> mlp_product_names{
    "fwd1 W1*X",    // hidden x input  . input x B
    "fwd2 W2*H",    // classes x hidden . hidden x B
    "dW2 D2*H^T",   // classes x B . B x hidden
    "dH W2^T*D2",   // hidden x classes . classes x B
    "dW1 D1*X^T"};  // hidden x B . B x input

/// Floating-point operations of each product (2 m n k).
std::array<double, 5> mlp_product_flops(const MlpShape& shape);

// Mean seconds per product over `reps` back-to-back calls of each, on fixed random operands.
// avx512() says whether that variant's code was compiled with AVX-512 (only where the CPU has it).
namespace avx2 {
std::array<double, 5> mlp_products(const MlpShape& shape, int reps);
bool avx512();
}
namespace avx512 {
std::array<double, 5> mlp_products(const MlpShape& shape, int reps);
bool avx512();
}
namespace openblas {
std::array<double, 5> mlp_products(const MlpShape& shape, int reps);
/// The kernel of the OpenBLAS copy decent loads (openblas_get_corename), e.g. "SkylakeX" or "Prescott".
std::string core_name();
}  // namespace openblas

}  // namespace decent::bench
