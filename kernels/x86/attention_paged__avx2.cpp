// attention_paged_core.hpp compiled for AVX2 + FMA + F16C, with hand-written block steps (as the AVX-512 file, 8
// lanes wide):
//  - scores: 8 keys at a time, one accumulator register per key, summed into one vector of 8 scores by a shuffle
//    tree (21 instructions for 8 keys);
//  - softmax: the block's 16 scores in two registers (exp as exp_nonpositive, vectorised);
//  - accumulate: per 8-element chunk of head_dim, the cluster's accumulators stay in registers while each value
//    chunk is widened straight from the page (F16C, or int8 -> f32 times the block scale) and multiplied in.
// head_dim not a multiple of 8 falls back to the generic steps.
#include <immintrin.h>

#include "kernels/attention_paged_core.hpp"

namespace qtr::kernels {
namespace {

alignas(64) constexpr float kZeroRow[kPagedAttentionMaxHeadDim] = {};  // stands in for keys past the block's end

// The shuffle tree below leaves the sum of input i in lane kTreeOrder[i] (its own inverse).
constexpr int kTreeOrder[8] = {0, 2, 1, 3, 4, 6, 5, 7};

// Lane l of the result = the horizontal sum of a[kTreeOrder[l]].
inline __m256 tree_sum8(const __m256 (&a)[8]) {
  __m256 l1[4], l2[2];
  for (int i = 0; i < 4; ++i) {
    l1[i] = _mm256_add_ps(_mm256_permute2f128_ps(a[i], a[i + 4], 0x20), _mm256_permute2f128_ps(a[i], a[i + 4], 0x31));
  }
  for (int i = 0; i < 2; ++i) {
    l2[i] = _mm256_add_ps(_mm256_shuffle_ps(l1[i], l1[i + 2], _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm256_shuffle_ps(l1[i], l1[i + 2], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  return _mm256_add_ps(_mm256_shuffle_ps(l2[0], l2[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm256_shuffle_ps(l2[0], l2[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// exp(x) for x <= 0, as exp_nonpositive (attention_core.hpp) with fused multiply-adds.
inline __m256 exp_nonpositive8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Elements x .. x + 7 of a K/V slice, widened to f32.
template <KvType T>
inline __m256 load8(const uint8_t* src, int64_t x) {
  if constexpr (T == KvType::f32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(src) + x);
  } else if constexpr (T == KvType::f16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * x)));
  } else {
    const uint8_t* block = src + (x / 32) * 34;
    uint16_t h;
    std::memcpy(&h, block, 2);
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 2 + x % 32));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(h)));
  }
}

template <KvType T, int C>
inline void accumulate_cluster(const uint8_t* const* v, int64_t n, int64_t d, float* acc, const float* alpha,
                               const float (*p)[kPagedBlock]) {
  for (int64_t x = 0; x < d; x += 8) {
    __m256 a[C];
    for (int g = 0; g < C; ++g) a[g] = _mm256_mul_ps(_mm256_load_ps(acc + g * d + x), _mm256_set1_ps(alpha[g]));
    for (int64_t i = 0; i < n; ++i) {
      const __m256 vi = load8<T>(v[i], x);
      for (int g = 0; g < C; ++g) a[g] = _mm256_fmadd_ps(_mm256_set1_ps(p[g][i]), vi, a[g]);
    }
    for (int g = 0; g < C; ++g) _mm256_store_ps(acc + g * d + x, a[g]);
  }
}

struct Avx2Ops : PagedOpsBase<Avx2Ops> {
  static void f16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i))));
    }
    for (; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = _cvtsh_ss(h);
    }
  }
  static void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t x = 0; x < n; x += 8) _mm256_storeu_ps(dst + x, load8<KvType::q8_0>(src, x));
  }

  static void scores(const float* q, int64_t c, const float* const* k, int64_t n, int64_t d, float scale,
                     float (*s)[kPagedBlock]) {
    if (d % 8 != 0) return PagedOpsBase::scores(q, c, k, n, d, scale, s);
    for (int64_t half = 0; half < 2; ++half) {
      if (half * 8 >= n) {
        for (int64_t g = 0; g < c; ++g) _mm256_store_ps(s[g] + 8, _mm256_setzero_ps());
        break;
      }
      const float* rows[8];
      for (int i = 0; i < 8; ++i) {
        const int64_t key = half * 8 + kTreeOrder[i];
        rows[i] = key < n ? k[key] : kZeroRow;
      }
      for (int64_t g = 0; g < c; ++g) {
        const float* qg = q + g * d;
        __m256 acc[8];
        for (auto& r : acc) r = _mm256_setzero_ps();
        for (int64_t x = 0; x < d; x += 8) {
          const __m256 qv = _mm256_loadu_ps(qg + x);
#pragma GCC unroll 8
          for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(rows[i] + x), acc[i]);
        }
        _mm256_store_ps(s[g] + half * 8, _mm256_mul_ps(tree_sum8(acc), _mm256_set1_ps(scale)));
      }
    }
  }

  static float softmax(float* s, int64_t n, float& m, float& l) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 active0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), iota));
    const __m256 active1 =
        _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n) - 8), iota));
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    const __m256 s0 = _mm256_blendv_ps(minus_inf, _mm256_load_ps(s), active0);
    const __m256 s1 = _mm256_blendv_ps(minus_inf, _mm256_load_ps(s + 8), active1);
    const float block_max = hmax8(_mm256_max_ps(s0, s1));
    const float m_new = block_max > m ? block_max : m;
    const float alpha = m == -INFINITY ? 0.0f : exp_nonpositive(m - m_new);
    const __m256 mv = _mm256_set1_ps(m_new);
    const __m256 p0 = _mm256_and_ps(exp_nonpositive8(_mm256_sub_ps(s0, mv)), active0);
    const __m256 p1 = _mm256_and_ps(exp_nonpositive8(_mm256_sub_ps(s1, mv)), active1);
    _mm256_store_ps(s, p0);
    _mm256_store_ps(s + 8, p1);
    l = l * alpha + hsum8(_mm256_add_ps(p0, p1));
    m = m_new;
    return alpha;
  }

  template <KvType T>
  static void accumulate(const uint8_t* const* v, int64_t n, int64_t d, float* acc, int64_t c, const float* alpha,
                         const float (*p)[kPagedBlock], float* tile) {
    if (d % 8 != 0) return PagedOpsBase::accumulate<T>(v, n, d, acc, c, alpha, p, tile);
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

void attention_paged_f32__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f32, Avx2Ops>(args, row_begin, row_end);
}
void attention_paged_f16__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f16, Avx2Ops>(args, row_begin, row_end);
}
void attention_paged_q8_0__avx2(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::q8_0, Avx2Ops>(args, row_begin, row_end);
}

}  // namespace qtr::kernels
