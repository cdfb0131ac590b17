// Quantized matrix multiplication: weights packed once at load into interleaved row tiles, activations quantized
// to int8 blocks per call, integer dot products, float accumulation.
//
// Naming grammar (docs/kernels.md):  <op>_<weights>_<activations>_<tile rows>x<tile tokens>__<isa>
//   op          gemm (any number of tokens; one token is the decode case)
//   weights     the GGUF type the kernel consumes (q4_0, q8_0, ...)
//   activations q8a: qtr's int8 activation block (ActBlock below)
//   tile        rows interleaved per packed tile x tokens per micro-kernel step
//   isa         scalar | avx2 | avx512vnni | neon
// e.g. gemm_q4_0_q8a_16x8__avx512vnni.
//
// Determinism: every kernel for a weight type computes exactly the same numbers. Integer block dot products are
// exact, and the float accumulation is y += (d_w * d_a) * float(dot), unfused, block after block in order of k. So
// results do not depend on the ISA or the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "qtr/tensor_type.hpp"

namespace qtr::kernels {

enum class Isa { scalar, avx2, avx512vnni, neon };
const char* isa_name(Isa isa);

inline constexpr int kActBlock = 32;

// One block of 32 quantized activations: x[i] ~ d * qs[i], qs in [-127, 127]; sum = sum of qs.
struct ActBlock {
  float d;
  int32_t sum;
  int8_t qs[kActBlock];
};
static_assert(sizeof(ActBlock) == 40);

// Quantizes n_tokens rows of k floats (k a multiple of 32; rows x_stride floats apart) into
// out[n_tokens][k / 32]: d = max|x| / 127, q = round-to-nearest-even(x / d).
void quantize_activations(const float* x, int64_t n_tokens, int64_t k, int64_t x_stride, ActBlock* out);

// The same in two terms: out[2t] quantizes row t as above, out[2t + 1] quantizes its residual x - d * q (computed
// in float, unfused) the same way. Running a kernel over the 2 * n_tokens rows and adding the two results of
// each token gives W . x with inputs carried to about 15 bits instead of 8, for twice the integer work.
void quantize_activations_x2(const float* x, int64_t n_tokens, int64_t k, int64_t x_stride, ActBlock* out);

struct MatmulKernel {
  std::string_view name;
  TensorType weight_type;
  Isa isa;
  int tile_rows;    // rows interleaved per packed tile (the pack and the compute agree on it)
  int tile_tokens;  // tokens per micro-kernel step
  // Bytes of the packed form of an n_rows x k matrix (padded to whole tiles, 64-byte aligned tiles).
  size_t (*packed_size)(int64_t n_rows, int64_t k);
  // Packs tiles [tile_begin, tile_end) of `src` (n_rows GGUF rows of k elements) into `dst`.
  void (*pack)(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
  // y[t * y_stride + r] = row r of W . token t, for the rows of tiles [tile_begin, tile_end) (< n_rows) and
  // tokens t in [0, n_tokens); act: [n_tokens][k / 32].
  void (*gemm)(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
               const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride);
  // True for the in-place kernels (`__rows`): they read the GGUF rows where they lie, `pack` is a plain copy
  // (used only by tests), and a tile is one row.
  bool in_place = false;
  // Optional: the two-term form. act holds 2 * n_tokens rows, each token's main row then its residual row
  // (quantize_activations_x2); y[t] = (gemm of the main row) + (gemm of the residual row), the same bits as running
  // `gemm` over the 2 * n_tokens rows and adding each pair, without storing the terms. nullptr: the caller does
  // exactly that.
  void (*gemm_x2)(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                  const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) = nullptr;
};

// The F32 matmul for an ISA (every ISA has one).
using GemmF32Fn = void (*)(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                           int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens);
GemmF32Fn find_gemm_f32(Isa isa);

// The kernel for a weight type on an ISA, or nullptr when there is none. repacked = false asks for the in-place
// kernel of the type instead (the same numbers from the GGUF row layout; to measure what packing buys).
const MatmulKernel* find_matmul_kernel(TensorType type, Isa isa, bool repacked = true);
// Every registered kernel (for tests and benchmarks).
std::span<const MatmulKernel> all_matmul_kernels();

// The best ISA this machine supports, or the one QTR_ISA names (scalar|avx2|avx512vnni|neon; "avx512" is
// accepted for avx512vnni). Throws qtr::Error(invalid_argument) when QTR_ISA names one the machine lacks.
Isa select_isa(const char* override_name);
bool isa_supported(Isa isa);

}  // namespace qtr::kernels
