// Attention over the paged KV cache for a batch of rows from several sequences: the step every graph's attention
// block takes. A batch is cut into segments, one per sequence: that sequence's rows, at consecutive positions that
// continue its cached ones. The K/V rows of the batch are stored into the pool (converted to its element type),
// then each query row attends to its own sequence's keys through the fused paged kernel.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/attention_paged.hpp"
#include "kernels/kv_store.hpp"
#include "ops/attention.hpp"
#include "runtime/kv_pool.hpp"

namespace qtr::ops {

struct BatchSegment {
  SeqId seq;
  int64_t row0;    // first row of the batch that belongs to seq
  int64_t n_rows;  // its rows: row0 .. row0 + n_rows - 1, at positions pos0 .. pos0 + n_rows - 1
  int64_t pos0;    // = the sequence's cached length before this batch
};

// The kernels for the pool's element type on the chosen ISA.
struct KvKernels {
  kernels::KvStoreRowFn store = nullptr;
  kernels::PagedAttentionFn attend = nullptr;
};
KvKernels find_kv_kernels(kernels::Isa isa, kernels::KvType type);

// For layer `layer`: stores k and v ([n_rows][kv_dim], positions reserved in the pool) and writes
// out = attention(q) ([n_rows][n_head*head_dim]). shape.window > 0 limits each query to the last window keys.
// Rows are spread over threads; each row is computed by one thread, so the result does not depend on n_threads.
void attention_paged(KvPool& pool, int64_t layer, std::span<const BatchSegment> segments, const float* q,
                     const float* k, const float* v, float* out, const AttentionShape& shape, float scale,
                     int n_threads, const KvKernels& kernels);

}  // namespace qtr::ops
