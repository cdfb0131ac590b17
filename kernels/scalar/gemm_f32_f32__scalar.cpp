// gemm_f32_core.hpp compiled with this file's flags (scalar).
#include "kernels/gemm_f32_core.hpp"
#include "kernels/kernels.hpp"

namespace qtr::kernels {

void gemm_f32_f32__scalar(const float* w, int64_t n_in, int64_t row_begin, int64_t row_end, const float* x,
                        int64_t x_stride, float* y, int64_t y_stride, int64_t n_tokens) {
  gemm_f32_rows(w, n_in, row_begin, row_end, x, x_stride, y, y_stride, n_tokens);
}

}  // namespace qtr::kernels
