// Test fixture shared by the paged attention conformance program (tests/kernels) and the GoogleTest suite
// (tests/cpp/test_paged_attention.cpp): random K/V rows of one (sequence, layer) written into pages through
// kv_store_row, pages scattered in memory in a shuffled order, and the pages wholly below `first_live_key` left
// out (nullptr), as the cache does for sliding-window layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/attention_paged.hpp"
#include "kernels/kv_store.hpp"

namespace qtr::kernels::testing {

struct PagedKvFixture {
  KvType type = KvType::f32;
  int64_t page_size = 16, n_head_kv = 1, head_dim = 32, n_keys = 0, row_bytes = 0;
  std::vector<float> k, v;          // the rows as written, [n_keys][n_head_kv * head_dim]
  std::vector<float> k_cached, v_cached;  // what the cache holds, widened back to f32 (kv_load_row)
  std::vector<uint8_t> storage;     // every page, 64-byte aligned inside
  std::vector<const uint8_t*> k_pages, v_pages;

  PagedKvView view() const { return {type, page_size, row_bytes, k_pages.data(), v_pages.data()}; }
};

// K rows are N(0, 1) times 1 or 4 (some keys dominate the softmax), V rows N(0, 1) times 1, 0.01 or 30.
inline PagedKvFixture make_paged_kv(KvType type, int64_t page_size, int64_t n_head_kv, int64_t head_dim,
                                    int64_t n_keys, int64_t first_live_key, std::mt19937& rng) {
  PagedKvFixture f;
  f.type = type;
  f.page_size = page_size;
  f.n_head_kv = n_head_kv;
  f.head_dim = head_dim;
  f.n_keys = n_keys;
  const int64_t kv_dim = n_head_kv * head_dim;
  f.row_bytes = static_cast<int64_t>(kv_row_bytes(type, kv_dim));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  f.k.resize(static_cast<size_t>(n_keys * kv_dim));
  f.v.resize(f.k.size());
  for (int64_t j = 0; j < n_keys; ++j) {
    const float ks = j % 5 == 2 ? 4.0f : 1.0f;
    const float vs = j % 7 == 3 ? 30.0f : j % 3 == 1 ? 0.01f : 1.0f;
    for (int64_t x = 0; x < kv_dim; ++x) {
      f.k[static_cast<size_t>(j * kv_dim + x)] = normal(rng) * ks;
      f.v[static_cast<size_t>(j * kv_dim + x)] = normal(rng) * vs;
    }
  }
  const int64_t n_pages = (n_keys + page_size - 1) / page_size;
  const int64_t page_bytes = (page_size * f.row_bytes + 63) / 64 * 64;
  f.storage.assign(static_cast<size_t>(2 * n_pages * page_bytes + 64), 0xA5);
  uint8_t* base = f.storage.data() + (64 - reinterpret_cast<uintptr_t>(f.storage.data()) % 64) % 64;
  // Slot s of the storage holds K page (s odd) / V page (s even) in reverse order, so neighbours in the page table
  // are not neighbours in memory.
  f.k_pages.assign(static_cast<size_t>(n_pages), nullptr);
  f.v_pages.assign(static_cast<size_t>(n_pages), nullptr);
  std::vector<uint8_t*> k_pages(static_cast<size_t>(n_pages)), v_pages(static_cast<size_t>(n_pages));
  for (int64_t p = 0; p < n_pages; ++p) {
    k_pages[p] = base + (2 * (n_pages - 1 - p) + 1) * page_bytes;
    v_pages[p] = base + (2 * (n_pages - 1 - p)) * page_bytes;
  }
  f.k_cached.resize(f.k.size());
  f.v_cached.resize(f.v.size());
  for (int64_t j = 0; j < n_keys; ++j) {
    uint8_t* kr = k_pages[j / page_size] + (j % page_size) * f.row_bytes;
    uint8_t* vr = v_pages[j / page_size] + (j % page_size) * f.row_bytes;
    kv_store_row(type, f.k.data() + j * kv_dim, kr, kv_dim);
    kv_store_row(type, f.v.data() + j * kv_dim, vr, kv_dim);
    kv_load_row(type, kr, f.k_cached.data() + j * kv_dim, kv_dim);
    kv_load_row(type, vr, f.v_cached.data() + j * kv_dim, kv_dim);
  }
  for (int64_t p = 0; p < n_pages; ++p) {
    const bool live = (p + 1) * page_size > first_live_key;
    f.k_pages[p] = live ? k_pages[p] : nullptr;
    f.v_pages[p] = live ? v_pages[p] : nullptr;
  }
  return f;
}

// The first key any of n_tokens queries at pos0 .. pos0 + n_tokens - 1 can see.
inline int64_t first_visible_key(int64_t pos0, int64_t window) {
  return window > 0 && pos0 >= window ? pos0 - window + 1 : 0;
}

// Attention of query row (t, h) in double precision over the given K/V rows: explicit scores, then softmax.
inline std::vector<double> naive_attention_row(const float* q, const std::vector<float>& k, const std::vector<float>& v,
                                               int64_t t, int64_t h, int64_t pos0, int64_t n_head,
                                               int64_t n_head_kv, int64_t head_dim, double scale, int64_t window) {
  const int64_t d = head_dim, kv_dim = n_head_kv * d, g = h / (n_head / n_head_kv);
  const int64_t last = pos0 + t, first = window > 0 && last >= window ? last - window + 1 : 0;
  const float* qh = q + (t * n_head + h) * d;
  std::vector<double> scores;
  double max_score = -INFINITY;
  for (int64_t j = first; j <= last; ++j) {
    double s = 0;
    for (int64_t x = 0; x < d; ++x) s += static_cast<double>(qh[x]) * k[static_cast<size_t>(j * kv_dim + g * d + x)];
    scores.push_back(s * scale);
    max_score = std::max(max_score, s * scale);
  }
  double sum = 0;
  for (double& s : scores) sum += (s = std::exp(s - max_score));
  std::vector<double> out(static_cast<size_t>(d), 0.0);
  for (int64_t j = first; j <= last; ++j) {
    const double p = scores[static_cast<size_t>(j - first)] / sum;
    for (int64_t x = 0; x < d; ++x) out[x] += p * v[static_cast<size_t>(j * kv_dim + g * d + x)];
  }
  return out;
}

}  // namespace qtr::kernels::testing
