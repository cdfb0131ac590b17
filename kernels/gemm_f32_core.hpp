// The F32 matmul, written once and compiled in each ISA's file with that file's flags (the compiler vectorises the
// 16 explicit lanes; no FMA contraction, so every ISA gives the same bits). Included only by
// kernels/*/gemm_f32_f32__*.cpp; everything here has internal linkage.
#pragma once

#include <cstdint>

namespace qtr::kernels {
namespace {

inline void gemm_f32_rows(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens) {
  constexpr int64_t L = 16;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x + t * x_stride;
    for (int64_t r = row_begin; r < row_end; ++r) {
      const float* wr = w + r * n_in;
      float acc[L] = {};
      int64_t i = 0;
      for (; i + L <= n_in; i += L) {
        for (int64_t l = 0; l < L; ++l) acc[l] += wr[i + l] * xt[i + l];
      }
      for (; i < n_in; ++i) acc[i % L] += wr[i] * xt[i];
      for (int64_t width = L / 2; width > 0; width /= 2) {
        for (int64_t l = 0; l < width; ++l) acc[l] += acc[l + width];
      }
      y[t * y_stride + r] = acc[0];
    }
  }
}

}  // namespace
}  // namespace qtr::kernels
