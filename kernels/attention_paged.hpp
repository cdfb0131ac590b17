// Fused causal grouped-query attention of one sequence over its paged KV cache (docs/kernels.md, "Paged
// attention"; design: issue 5). Keys and values stay in the cache's element type (f32, f16 or q8_0) and are
// converted on the fly; the softmax is online (running max, rescaled sum and accumulator), so no O(n_keys) scratch.
//
// Names: attention_paged_<kv type>__<isa>, e.g. attention_paged_f16__avx512. One source (attention_paged_core.hpp)
// is compiled per ISA; each ISA file supplies its own K/V row conversions (F16C, int8 widening, NEON).
#pragma once

#include <cstdint>

#include "kernels/kv_types.hpp"
#include "kernels/matmul.hpp"

namespace qtr::kernels {

// The K and V pages of one (sequence, layer). Key j is row j % page_size of page j / page_size; a row is
// n_head_kv * head_dim elements of `type` (row_bytes = kv_row_bytes(type, n_head_kv * head_dim)), kv head g's slice
// starting at element g * head_dim. Pages wholly below a sliding window may be nullptr (never read).
struct PagedKvView {
  KvType type;
  int64_t page_size;
  int64_t row_bytes;
  const uint8_t* const* k_pages;  // [n_pages]
  const uint8_t* const* v_pages;  // [n_pages]
};

struct PagedAttentionArgs {
  const float* q;  // [n_tokens][n_head * head_dim], the queries at positions pos0 .. pos0 + n_tokens - 1
  float* out;      // [n_tokens][n_head * head_dim]
  int64_t n_tokens, pos0, n_head, n_head_kv, head_dim;
  float scale;
  int64_t window = 0;  // 0: full causal; else a query at position p sees keys p - window + 1 .. p
  PagedKvView kv;
};

// Largest head_dim the kernels accept (their per-thread scratch lives on the stack). q8_0 needs head_dim % 32 == 0.
inline constexpr int64_t kPagedAttentionMaxHeadDim = 512;

// Rows r in [row_begin, row_end) of the (token, head) grid, r = t * n_head + h, as AttentionFn: query t (position
// pos0 + t) of head h attends to keys first .. pos0 + t of kv head h / (n_head / n_head_kv). Inside the range, the
// consecutive rows of one token that share a kv head are computed together, so each K/V row is read and converted
// once for all of them (GQA). Each row's arithmetic is the same however the rows are split or grouped: results do
// not depend on the thread count.
using PagedAttentionFn = void (*)(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);

void attention_paged_f32__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_f16__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_q8_0__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
#if defined(__x86_64__)
void attention_paged_f32__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_f16__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_q8_0__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_f32__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_f16__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_q8_0__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
#endif
#if defined(__aarch64__)
void attention_paged_f32__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_f16__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
void attention_paged_q8_0__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end);
#endif

// The kernel for a KV element type on an ISA (avx512vnni picks the AVX-512 variants). Every (isa, type) has one.
PagedAttentionFn find_paged_attention(Isa isa, KvType type);
// Its name, e.g. "attention_paged_f16__avx512" (tests and benchmarks).
const char* paged_attention_name(Isa isa, KvType type);

}  // namespace qtr::kernels
