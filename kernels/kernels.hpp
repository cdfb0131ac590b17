// Kernel entry points. Names follow docs/kernels.md:  <op>_<weight type>_<activation type>[_<tile>]__<isa>.
// Every kernel computes a contiguous range of output rows so the caller can split rows across threads; a row's
// dot product is always summed in the same order, so results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qtr::kernels {

// y[t][r] = dot(w[r][0..n_in), x[t][0..n_in)) for t in [0, n_tokens), r in [row_begin, row_end).
// w: [n_out][n_in] row-major; x: [n_tokens][x_stride]; y: [n_tokens][y_stride]. One source (gemm_f32_core.hpp)
// compiled per ISA; every variant gives the same bits.
using GemmF32Fn = void (*)(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                           int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens);
void gemm_f32_f32__scalar(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens);
#if defined(__x86_64__)
void gemm_f32_f32__avx2(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                        int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens);
void gemm_f32_f32__avx512(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens);
#endif

// IEEE half / bfloat16 -> float, exactly.
float fp16_to_fp32(uint16_t h);
inline float bf16_to_fp32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}
void convert_f16_to_f32__scalar(const uint16_t* src, float* dst, size_t n);
void convert_bf16_to_f32__scalar(const uint16_t* src, float* dst, size_t n);

}  // namespace qtr::kernels
