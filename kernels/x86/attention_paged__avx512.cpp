// attention_paged_core.hpp compiled for AVX-512 (F, BW, VL, DQ) + F16C, with hand-written block steps:
//  - scores: 16 keys at once, one accumulator register per key (q chunk times k chunk, fused), the 16 registers
//    summed into one vector of 16 scores by a shuffle tree (45 instructions for 16 keys, no horizontal sums);
//  - softmax: the block's 16 scores in one register (exp as exp_nonpositive, vectorised);
//  - accumulate: per 16-element chunk of head_dim, the cluster's accumulators stay in registers while each value
//    chunk is widened straight from the page (F16C, or int8 -> f32 times the block scale) and multiplied in.
// head_dim not a multiple of 16 falls back to the generic steps.
#include <immintrin.h>

#include "kernels/attention_paged_core.hpp"

namespace qtr::kernels {
namespace {

alignas(64) constexpr float kZeroRow[kPagedAttentionMaxHeadDim] = {};  // stands in for keys past the block's end

// The shuffle tree below leaves the sum of input i in lane kTreeOrder[i]; the order is its own inverse, so feeding
// key kTreeOrder[i] into input i gives the scores in key order.
constexpr int kTreeOrder[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};


// Lane l of the result = the horizontal sum of a[kTreeOrder[l]].
inline __m512 tree_sum16(const __m512 (&a)[16]) {
  __m512 l1[8], l2[4], l3[2];
  for (int i = 0; i < 8; ++i) {
    l1[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[i], a[i + 8], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_f32x4(a[i], a[i + 8], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  for (int i = 0; i < 4; ++i) {
    l2[i] = _mm512_add_ps(_mm512_shuffle_f32x4(l1[i], l1[i + 4], _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_f32x4(l1[i], l1[i + 4], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  for (int i = 0; i < 2; ++i) {
    l3[i] = _mm512_add_ps(_mm512_shuffle_ps(l2[i], l2[i + 2], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_ps(l2[i], l2[i + 2], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(l3[0], l3[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// exp(x) for x <= 0, as exp_nonpositive (attention_core.hpp) with fused multiply-adds.
inline __m512 exp_nonpositive16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(t, n);
  __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

// Elements x .. x + 15 of a K/V slice, widened to f32.
template <KvType T>
inline __m512 load16(const uint8_t* src, int64_t x) {
  if constexpr (T == KvType::f32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(src) + x);
  } else if constexpr (T == KvType::f16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * x)));
  } else {
    const uint8_t* block = src + (x / 32) * 34;
    uint16_t h;
    std::memcpy(&h, block, 2);
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2 + x % 32));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(_cvtsh_ss(h)));
  }
}

// accumulate for a cluster of C heads: C accumulator registers per 16-element chunk.
template <KvType T, int C>
inline void accumulate_cluster(const uint8_t* const* v, int64_t n, int64_t d, float* acc, const float* alpha,
                               const float (*p)[kPagedBlock]) {
  for (int64_t x = 0; x < d; x += 16) {
    __m512 a[C];
    for (int g = 0; g < C; ++g) a[g] = _mm512_mul_ps(_mm512_load_ps(acc + g * d + x), _mm512_set1_ps(alpha[g]));
    for (int64_t i = 0; i < n; ++i) {
      const __m512 vi = load16<T>(v[i], x);
      for (int g = 0; g < C; ++g) a[g] = _mm512_fmadd_ps(_mm512_set1_ps(p[g][i]), vi, a[g]);
    }
    for (int g = 0; g < C; ++g) _mm512_store_ps(acc + g * d + x, a[g]);
  }
}

struct Avx512Ops : PagedOpsBase<Avx512Ops> {
  static void f16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i))));
    }
    for (; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = _cvtsh_ss(h);
    }
  }
  static void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t x = 0; x < n; x += 16) _mm512_storeu_ps(dst + x, load16<KvType::q8_0>(src, x));
  }

  static void scores(const float* q, int64_t c, const float* const* k, int64_t n, int64_t d, float scale,
                     float (*s)[kPagedBlock]) {
    if (d % 16 != 0) return PagedOpsBase::scores(q, c, k, n, d, scale, s);
    const float* rows[16];
    for (int i = 0; i < 16; ++i) rows[i] = kTreeOrder[i] < n ? k[kTreeOrder[i]] : kZeroRow;
    for (int64_t g = 0; g < c; ++g) {
      const float* qg = q + g * d;
      __m512 acc[16];
      for (auto& r : acc) r = _mm512_setzero_ps();
      for (int64_t x = 0; x < d; x += 16) {
        const __m512 qv = _mm512_loadu_ps(qg + x);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(rows[i] + x), acc[i]);
      }
      _mm512_store_ps(s[g], _mm512_mul_ps(tree_sum16(acc), _mm512_set1_ps(scale)));
    }
  }

  static float softmax(float* s, int64_t n, float& m, float& l) {
    const auto active = static_cast<__mmask16>((1u << n) - 1);
    const __m512 sv = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), active, s);
    const float block_max = _mm512_reduce_max_ps(sv);
    const float m_new = block_max > m ? block_max : m;
    const float alpha = m == -INFINITY ? 0.0f : exp_nonpositive(m - m_new);
    const __m512 pv = _mm512_maskz_mov_ps(active, exp_nonpositive16(_mm512_sub_ps(sv, _mm512_set1_ps(m_new))));
    _mm512_storeu_ps(s, pv);
    l = l * alpha + _mm512_reduce_add_ps(pv);
    m = m_new;
    return alpha;
  }

  template <KvType T>
  static void accumulate(const uint8_t* const* v, int64_t n, int64_t d, float* acc, int64_t c, const float* alpha,
                         const float (*p)[kPagedBlock], float* tile) {
    if (d % 16 != 0) return PagedOpsBase::accumulate<T>(v, n, d, acc, c, alpha, p, tile);
    switch (c) {
      case 1: return accumulate_cluster<T, 1>(v, n, d, acc, alpha, p);
      case 2: return accumulate_cluster<T, 2>(v, n, d, acc, alpha, p);
      case 3: return accumulate_cluster<T, 3>(v, n, d, acc, alpha, p);
      case 4: return accumulate_cluster<T, 4>(v, n, d, acc, alpha, p);
      case 5: return accumulate_cluster<T, 5>(v, n, d, acc, alpha, p);
      case 6: return accumulate_cluster<T, 6>(v, n, d, acc, alpha, p);
      case 7: return accumulate_cluster<T, 7>(v, n, d, acc, alpha, p);
      default: return accumulate_cluster<T, 8>(v, n, d, acc, alpha, p);
    }
  }
};

}  // namespace

void attention_paged_f32__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f32, Avx512Ops>(args, row_begin, row_end);
}
void attention_paged_f16__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f16, Avx512Ops>(args, row_begin, row_end);
}
void attention_paged_q8_0__avx512(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::q8_0, Avx512Ops>(args, row_begin, row_end);
}

}  // namespace qtr::kernels
