#include "kernels/kernels.hpp"

namespace qtr::kernels {

void gemm_f32_f32__scalar(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                          int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x + t * x_stride;
    for (int64_t r = row_begin; r < row_end; ++r) {
      const float* wr = w + r * n_in;
      // Eight partial sums, combined in a fixed order: vectorisable by the compiler, deterministic everywhere.
      float acc[8] = {};
      int64_t i = 0;
      for (; i + 8 <= n_in; i += 8) {
        for (int k = 0; k < 8; ++k) acc[k] += wr[i + k] * xt[i + k];
      }
      for (; i < n_in; ++i) acc[i % 8] += wr[i] * xt[i];
      y[t * y_stride + r] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
  }
}

}  // namespace qtr::kernels
