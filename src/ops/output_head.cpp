#include <cstring>

#include "ops.hpp"

namespace qtr::ops {

void output_head(const float* x, std::span<const int64_t> rows, const float* norm, int64_t n_embd, float eps,
                 const Matrix& output, float* scratch, float* logits, float* hidden, int n_threads, Workspace& ws) {
  const auto n = static_cast<int64_t>(rows.size());
  if (n == 0) return;
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(scratch + i * n_embd, x + rows[static_cast<size_t>(i)] * n_embd, sizeof(float) * n_embd);
  }
  rmsnorm(scratch, norm, scratch, n_embd, n, eps);
  if (hidden) std::memcpy(hidden, scratch, sizeof(float) * n * n_embd);
  if (logits) matmul(output, scratch, logits, n, n_threads, ws);
}

}  // namespace qtr::ops
