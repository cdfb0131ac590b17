// Causal grouped-query attention of one sequence over contiguous K/V (the straightforward form; the paged,
// fused kernels come with the KV-cache manager). One source (attention_core.hpp) is compiled per ISA.
#pragma once

#include <cstdint>

#include "kernels/attention_paged.hpp"  // the fused kernels over the paged KV cache
#include "kernels/matmul.hpp"

namespace qtr::kernels {

struct AttentionArgs {
  const float* q;     // [n_tokens][n_head * head_dim]
  const float* k;     // [n_ctx][n_head_kv * head_dim]
  const float* v;     // [n_ctx][n_head_kv * head_dim]
  float* out;         // [n_tokens][n_head * head_dim]
  float* scratch;     // per calling thread: pos0 + n_tokens floats
  int64_t n_tokens, pos0, n_head, n_head_kv, head_dim;
  float scale;
  int64_t window = 0;  // sliding-window attention: a query at position p sees keys p - window + 1 .. p (0: all)
};

// Rows r in [row_begin, row_end) of the (token, head) grid, r = t * n_head + h: query row t (at position pos0 + t)
// of head h attends to keys 0 .. pos0 + t (the last `window` of them when window > 0) of kv head
// h / (n_head / n_head_kv).
using AttentionFn = void (*)(const AttentionArgs& args, int64_t row_begin, int64_t row_end);

void attention_f32__scalar(const AttentionArgs& args, int64_t row_begin, int64_t row_end);
#if defined(__x86_64__)
void attention_f32__avx2(const AttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_f32__avx512(const AttentionArgs& args, int64_t row_begin, int64_t row_end);
#endif

AttentionFn find_attention(Isa isa);

}  // namespace qtr::kernels
