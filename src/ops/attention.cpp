#include "attention.hpp"

#include <omp.h>

#include <vector>

namespace qtr::ops {

void attention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
               const AttentionShape& s, float scale, int n_threads, kernels::AttentionFn kernel) {
  const int64_t rows = n_tokens * s.n_head;
  const int threads = (pos0 + n_tokens) * rows < 4096 ? 1 : n_threads;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> scratch(static_cast<size_t>(pos0 + n_tokens));
    const kernels::AttentionArgs args{q, k, v, out, scratch.data(), n_tokens, pos0, s.n_head, s.n_head_kv,
                                      s.head_dim, scale, s.window};
    // Later rows attend to more keys: interleave rows over threads in small chunks to balance the work.
    const int64_t nt = omp_get_num_threads(), it = omp_get_thread_num();
    constexpr int64_t kChunk = 8;
    for (int64_t begin = it * kChunk; begin < rows; begin += nt * kChunk) {
      kernel(args, begin, std::min(rows, begin + kChunk));
    }
  }
}

}  // namespace qtr::ops
