// The shape of an attention layer's heads (see kv_attention.hpp for the attention over the paged KV cache).
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

}  // namespace qtr::ops
