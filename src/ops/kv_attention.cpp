#include "kv_attention.hpp"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace qtr::ops {

KvKernels find_kv_kernels(kernels::Isa isa, kernels::KvType type) {
  return {kernels::find_kv_store_row(isa), kernels::find_paged_attention(isa, type)};
}

void attention_paged(KvPool& pool, int64_t layer, std::span<const BatchSegment> segments, const float* q,
                     const float* k, const float* v, float* out, const AttentionShape& s, float scale, int n_threads,
                     const KvKernels& kernels) {
  const int64_t kv_dim = s.n_head_kv * s.head_dim, q_dim = s.n_head * s.head_dim;
  const kernels::KvType type = pool.type();
  // 1. The batch's keys and values into the cache.
  for (const BatchSegment& seg : segments) {
    for (int64_t i = 0; i < seg.n_rows; ++i) {
      const int64_t row = seg.row0 + i, pos = seg.pos0 + i;
      kernels.store(type, k + row * kv_dim, pool.k_row(seg.seq, layer, pos), kv_dim);
      kernels.store(type, v + row * kv_dim, pool.v_row(seg.seq, layer, pos), kv_dim);
    }
  }
  // 2. Each segment's page pointers, then the (segment, row range) work items, spread over threads.
  struct Work {
    size_t segment;
    int64_t begin, end;  // rows of the segment's (token, head) grid
  };
  std::vector<std::vector<const uint8_t*>> k_pages(segments.size()), v_pages(segments.size());
  std::vector<kernels::PagedAttentionArgs> args(segments.size());
  std::vector<Work> work;
  // Later rows attend to more keys: small chunks, interleaved, balance the threads. A chunk holds whole groups of
  // query heads sharing a kv head, so the kernel reads each K/V row once per group.
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t kChunk = group * std::max<int64_t>(1, 8 / group);
  int64_t total_keys = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const BatchSegment& seg = segments[i];
    const int64_t n_pages = pool.page_count(seg.seq, layer);
    k_pages[i].resize(static_cast<size_t>(n_pages));
    v_pages[i].resize(static_cast<size_t>(n_pages));
    pool.page_pointers(seg.seq, layer, k_pages[i], v_pages[i]);
    kernels::PagedAttentionArgs& a = args[i];
    a.q = q + seg.row0 * q_dim;
    a.out = out + seg.row0 * q_dim;
    a.n_tokens = seg.n_rows;
    a.pos0 = seg.pos0;
    a.n_head = s.n_head;
    a.n_head_kv = s.n_head_kv;
    a.head_dim = s.head_dim;
    a.scale = scale;
    a.window = s.window;
    a.kv = {type, pool.page_size(), pool.row_bytes(), k_pages[i].data(), v_pages[i].data()};
    const int64_t rows = seg.n_rows * s.n_head;
    for (int64_t b = 0; b < rows; b += kChunk) work.push_back({i, b, std::min(rows, b + kChunk)});
    total_keys += rows * (seg.pos0 + seg.n_rows);
  }
  const int threads = total_keys < 4096 ? 1 : n_threads;
#pragma omp parallel num_threads(threads)
  {
    const auto nt = static_cast<size_t>(omp_get_num_threads()), it = static_cast<size_t>(omp_get_thread_num());
    for (size_t w = it; w < work.size(); w += nt) {
      kernels.attend(args[work[w].segment], work[w].begin, work[w].end);
    }
  }
}

}  // namespace qtr::ops
