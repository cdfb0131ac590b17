// Causal grouped-query attention of one sequence over its KV cache, through the chosen ISA's kernel.
#pragma once

#include <cstdint>

#include "kernels/attention.hpp"

namespace qtr::ops {

struct AttentionShape {
  int64_t n_head;     // query heads
  int64_t n_head_kv;  // key/value heads (n_head % n_head_kv == 0)
  int64_t head_dim;
  int64_t window = 0;  // sliding window in tokens (0: full causal attention)
};

// For each query row t (at position pos0 + t) and head h: out = softmax(q·K[0..pos] * scale) V[0..pos], where
// K/V rows hold n_head_kv heads of head_dim and query head h reads kv head h / (n_head / n_head_kv). When
// shape.window > 0, a query at position p sees only keys p - window + 1 .. p (sliding-window layers).
// q: [n_tokens][n_head*head_dim]; k, v: [n_ctx][n_head_kv*head_dim]; out: [n_tokens][n_head*head_dim].
// Rows are split over threads; each row is computed by one thread, so results do not depend on the thread count.
void attention(const float* q, const float* k, const float* v, float* out, int64_t n_tokens, int64_t pos0,
               const AttentionShape& shape, float scale, int n_threads, kernels::AttentionFn kernel);

}  // namespace qtr::ops
