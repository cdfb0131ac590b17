// The paged attention loop, written once and compiled in each ISA's file (kernels/*/attention_paged__*.cpp) with
// that file's flags and that file's `Ops` (K/V conversions, optionally hand-written block steps; see PagedOpsBase).
// The conversions are exact (a half widens exactly; float(q) * d is one rounding on every ISA), so every ISA feeds
// the same floats to the block steps; the generic steps are plain C++ the compiler vectorises (no FMA contraction
// in kernels/), hand-written ones reassociate the dot products and fuse multiply-adds (a few ulp; see
// tests/kernels/paged_attention_conformance.cpp for the bound).
//
// Per query row (token t, head h), keys first .. last are visited in blocks of kBlock keys aligned to absolute key
// index (block b = keys b*kBlock .. b*kBlock + kBlock - 1, clipped to first .. last), so the block boundaries
// depend neither on the page size nor on how rows are grouped or split across threads. For each block:
//   s_i = (q . k_i) * scale                 (dot with kLanes independent lanes, fixed combination order)
//   m'  = max(m, max_i s_i);  alpha = exp(m - m')  (0 on the first block; 1 exactly when the max is unchanged)
//   p_i = exp(s_i - m');  l = l * alpha + sum_i p_i;  acc = acc * alpha + sum_i p_i v_i   (i in key order)
// and finally out = acc * (1 / l). The heads of one token that share a kv head (GQA) are processed together: each
// K/V block is converted once for all of them, and each head keeps its own m, l and acc.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/attention_core.hpp"  // exp_nonpositive, dot
#include "kernels/attention_paged.hpp"

namespace qtr::kernels {
namespace {

constexpr int64_t kPagedBlock = 16;   // keys per online-softmax step
constexpr int64_t kPagedCluster = 8;  // query heads sharing one converted K/V block at most

// The per-block steps. An ISA file derives its Ops from PagedOpsBase<Ops> (CRTP), supplies the conversions
//   static void f16_to_f32(const uint8_t* src, float* dst, int64_t n);   // n IEEE halves, any alignment
//   static void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n);  // n / 32 Q8_0 blocks: x = fp16(d) * q
// and may replace scores / softmax / accumulate with hand-written ones (same contract, its own rounding).
template <class Self>
struct PagedOpsBase {
  // Key/value slice `src` as an f32 row of d: in place for f32, else widened into dst.
  template <KvType T>
  static const float* widen(const uint8_t* src, float* dst, int64_t d) {
    if constexpr (T == KvType::f32) {
      return reinterpret_cast<const float*>(src);
    } else if constexpr (T == KvType::f16) {
      Self::f16_to_f32(src, dst, d);
      return dst;
    } else {
      Self::q8_0_to_f32(src, dst, d);
      return dst;
    }
  }

  // s[g][i] = scale * (q_g . k_i) for heads g < c (q_g = q + g * d) and keys i < n.
  static void scores(const float* q, int64_t c, const float* const* k, int64_t n, int64_t d, float scale,
                     float (*s)[kPagedBlock]) {
    for (int64_t g = 0; g < c; ++g) {
      for (int64_t i = 0; i < n; ++i) s[g][i] = dot(q + g * d, k[i], d) * scale;
    }
  }

  // One online-softmax step of one head: scores s[0..n) become weights exp(s_i - m'), m and l are updated, and the
  // factor alpha = exp(m - m') that the accumulator must be scaled by is returned (0 on the first block, exactly 1
  // when the max did not change).
  static float softmax(float* s, int64_t n, float& m, float& l) {
    float block_max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) block_max = s[i] > block_max ? s[i] : block_max;
    const float m_new = block_max > m ? block_max : m;
    const float alpha = m == -INFINITY ? 0.0f : exp_nonpositive(m - m_new);
    for (int64_t i = 0; i < n; ++i) s[i] = exp_nonpositive(s[i] - m_new);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += s[i];
    l = l * alpha + sum;
    m = m_new;
    return alpha;
  }

  // acc_g = acc_g * alpha[g] + sum_i p[g][i] v_i (i in order) for heads g < c (acc_g = acc + g * d); v[i] points at
  // value i's slice in the cache; tile is [kPagedBlock][d] scratch.
  template <KvType T>
  static void accumulate(const uint8_t* const* v, int64_t n, int64_t d, float* acc, int64_t c, const float* alpha,
                         const float (*p)[kPagedBlock], float* tile) {
    const float* rows[kPagedBlock];
    for (int64_t i = 0; i < n; ++i) rows[i] = Self::template widen<T>(v[i], tile + i * d, d);
    for (int64_t g = 0; g < c; ++g) {
      float* ag = acc + g * d;
      if (alpha[g] != 1.0f) {
        for (int64_t x = 0; x < d; ++x) ag[x] *= alpha[g];
      }
      for (int64_t i = 0; i < n; ++i) {
        const float pi = p[g][i];
        const float* vi = rows[i];
        for (int64_t x = 0; x < d; ++x) ag[x] += pi * vi[x];
      }
    }
  }
};

template <KvType T, class Ops>
void paged_attention_rows(const PagedAttentionArgs& a, int64_t row_begin, int64_t row_end) {
  const int64_t d = a.head_dim, q_row = a.n_head * d;
  const int64_t group = a.n_head / a.n_head_kv;
  const int64_t slice_bytes = static_cast<int64_t>(kv_row_bytes(T, d));  // one kv head's slice of a row
  alignas(64) float tile[kPagedBlock * kPagedAttentionMaxHeadDim];
  alignas(64) float acc[kPagedCluster * kPagedAttentionMaxHeadDim];
  alignas(64) float p[kPagedCluster][kPagedBlock];
  float m[kPagedCluster], l[kPagedCluster], alpha[kPagedCluster];
  const float* k_rows[kPagedBlock];
  const uint8_t* k_src[kPagedBlock];
  const uint8_t* v_src[kPagedBlock];
  const PagedKvView& kv = a.kv;
  for (int64_t r = row_begin; r < row_end;) {
    const int64_t t = r / a.n_head, h0 = r % a.n_head, kvh = h0 / group;
    // The cluster: heads h0 .. h0 + c - 1 of token t, all reading kv head kvh, all inside the range.
    const int64_t c = std::min({row_end - r, (kvh + 1) * group - h0, kPagedCluster});
    const int64_t last = a.pos0 + t;
    const int64_t first = a.window > 0 && last >= a.window ? last - a.window + 1 : 0;
    const float* q = a.q + t * q_row + h0 * d;
    for (int64_t g = 0; g < c; ++g) {
      m[g] = -INFINITY;
      l[g] = 0.0f;
    }
    std::fill(acc, acc + c * d, 0.0f);
    for (int64_t b0 = first - first % kPagedBlock; b0 <= last; b0 += kPagedBlock) {
      const int64_t j0 = std::max(first, b0), n = std::min(last, b0 + kPagedBlock - 1) - j0 + 1;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = j0 + i, offset = (j % kv.page_size) * kv.row_bytes + kvh * slice_bytes;
        k_src[i] = kv.k_pages[j / kv.page_size] + offset;
        v_src[i] = kv.v_pages[j / kv.page_size] + offset;
        k_rows[i] = Ops::template widen<T>(k_src[i], tile + i * d, d);
      }
      // Prefetch the next block's K and V slices: rows lie row_bytes apart (other kv heads in between) and pages
      // anywhere, which the hardware prefetchers do not follow far enough ahead.
      for (int64_t j = b0 + kPagedBlock; j <= std::min(last, b0 + 2 * kPagedBlock - 1); ++j) {
        const int64_t offset = (j % kv.page_size) * kv.row_bytes + kvh * slice_bytes;
        const uint8_t* kj = kv.k_pages[j / kv.page_size] + offset;
        const uint8_t* vj = kv.v_pages[j / kv.page_size] + offset;
        for (int64_t x = 0; x < slice_bytes; x += 64) {
          __builtin_prefetch(kj + x);
          __builtin_prefetch(vj + x);
        }
        __builtin_prefetch(kj + slice_bytes - 1);
        __builtin_prefetch(vj + slice_bytes - 1);
      }
      Ops::scores(q, c, k_rows, n, d, a.scale, p);
      for (int64_t g = 0; g < c; ++g) alpha[g] = Ops::softmax(p[g], n, m[g], l[g]);
      Ops::template accumulate<T>(v_src, n, d, acc, c, alpha, p, tile);
    }
    float* out = a.out + t * q_row + h0 * d;
    for (int64_t g = 0; g < c; ++g) {
      const float inv = 1.0f / l[g];
      for (int64_t x = 0; x < d; ++x) out[g * d + x] = acc[g * d + x] * inv;
    }
    r += c;
  }
}

}  // namespace
}  // namespace qtr::kernels
