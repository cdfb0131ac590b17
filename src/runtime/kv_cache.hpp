// KvCache — the keys and values of one sequence, contiguous per layer (a simple form; the paged manager replaces
// it for many sequences).
#pragma once

#include <cstdint>
#include <vector>

namespace qtr {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim)
      : n_ctx_(n_ctx), kv_dim_(kv_dim),
        k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)) {
    for (auto& k : k_) k.assign(static_cast<size_t>(n_ctx * kv_dim), 0.0f);
    for (auto& v : v_) v.assign(static_cast<size_t>(n_ctx * kv_dim), 0.0f);
  }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  float* k(int64_t layer) { return k_[static_cast<size_t>(layer)].data(); }  // [n_ctx][kv_dim]
  float* v(int64_t layer) { return v_[static_cast<size_t>(layer)].data(); }  // [n_ctx][kv_dim]

 private:
  int64_t n_ctx_, kv_dim_;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace qtr
