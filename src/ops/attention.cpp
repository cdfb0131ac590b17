#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qtr::ops {

void attention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
               const AttentionShape& s, float scale, int n_threads) {
  const int64_t q_row = s.n_head * s.head_dim, kv_row = s.n_head_kv * s.head_dim;
  const int64_t group = s.n_head / s.n_head_kv;
  const int threads = (pos0 + n_tokens) * n_tokens * s.n_head < 4096 ? 1 : n_threads;
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> scores(static_cast<size_t>(pos0 + n_tokens));
#pragma omp for collapse(2) schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < s.n_head; ++h) {
        const int64_t n_keys = pos0 + t + 1;
        const float* qh = q + t * q_row + h * s.head_dim;
        const int64_t kvh = h / group;
        float max_score = -INFINITY;
        for (int64_t j = 0; j < n_keys; ++j) {
          const float* kj = k + j * kv_row + kvh * s.head_dim;
          float dot = 0.0f;
          for (int64_t d = 0; d < s.head_dim; ++d) dot += qh[d] * kj[d];
          scores[j] = dot * scale;
          max_score = std::max(max_score, scores[j]);
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < n_keys; ++j) {
          scores[j] = std::exp(scores[j] - max_score);
          sum += scores[j];
        }
        float* oh = out + t * q_row + h * s.head_dim;
        for (int64_t d = 0; d < s.head_dim; ++d) oh[d] = 0.0f;
        for (int64_t j = 0; j < n_keys; ++j) {
          const float p = scores[j] / sum;
          const float* vj = v + j * kv_row + kvh * s.head_dim;
          for (int64_t d = 0; d < s.head_dim; ++d) oh[d] += p * vj[d];
        }
      }
    }
  }
}

}  // namespace qtr::ops
