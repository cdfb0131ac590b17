// AVX-512 (F, BW, VL, VNNI) kernels for packed Q4_0 / Q8_0 tiles (layout: kernels/packed_tiles.hpp).
// One 512-bit register = 16 rows x 4 bytes; vpdpbusd multiplies them by 4 broadcast activation bytes.
// Up to 8 tokens share each unpacked weight register (prefill); the same code with 1 token is the decode path.
#include <immintrin.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

#ifndef QTR_PREFETCH_BYTES
#define QTR_PREFETCH_BYTES 2048
#endif
// Weights stream from memory once per token: prefetching a few blocks ahead keeps enough requests in flight.
constexpr int64_t kPrefetchBytes = QTR_PREFETCH_BYTES;

// The block's quants and, when it starts a pair, the pair's scale line (the stream is sequential).
inline void prefetch_block(const uint8_t* q, int64_t bytes) {
  for (int64_t i = -64; i < bytes; i += 64) _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchBytes + i), _MM_HINT_T0);
}

inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

inline void store_rows(float* y, __m512 v, int64_t valid) {
  if (valid >= 16) _mm512_storeu_ps(y, v);
  else _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << valid) - 1), v);
}

// Q4_0: weights are unsigned nibbles q (u8 operand), activations signed (s8 operand); dot(q - 8, a) is
// dot(q, a) - 8 * sum(a).
template <int T>
void tile_q4_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  // With few tokens, one accumulator per token would chain 8 dependent vpdpbusd per block; A independent
  // accumulators per token shorten the chains (integer sums: the order does not change the result).
  constexpr int A = T == 1 ? 4 : T == 2 ? 2 : 1;
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.scales(tile, b))));
    __m512i dot[T][A];
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < A; ++i) dot[t][i] = _mm512_setzero_si512();
    }
    const uint8_t* q = g.quants(tile, b);
    prefetch_block(q, tiles::kChunksQ4_0 * 64);
    for (int c = 0; c < 4; ++c) {
      const __m512i w = _mm512_loadu_si512(q + c * 64);
      const __m512i lo = _mm512_and_si512(w, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), low4);
      for (int t = 0; t < T; ++t) {
        const ActBlock& a = act[t * g.nb + b];
        __m512i& d = dot[t][c % A];
        d = _mm512_dpbusd_epi32(d, lo, broadcast4(a.qs + 4 * c));
        d = _mm512_dpbusd_epi32(d, hi, broadcast4(a.qs + 16 + 4 * c));
      }
    }
    for (int t = 0; t < T; ++t) {
      const ActBlock& a = act[t * g.nb + b];
      __m512i sum = dot[t][0];
      for (int i = 1; i < A; ++i) sum = _mm512_add_epi32(sum, dot[t][i]);
      const __m512i adjusted = _mm512_sub_epi32(sum, _mm512_set1_epi32(8 * a.sum));
      const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(a.d));
      acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(s, _mm512_cvtepi32_ps(adjusted)));
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * y_stride, acc[t], valid);
}

// Q8_0: weights signed (s8 operand); activations biased to unsigned (a + 128, u8 operand), and the bias removed
// with 128 * sum(w), itself computed by vpdpbusd against a vector of 128s.
template <int T>
void tile_q8_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  constexpr int A = T == 1 ? 4 : T == 2 ? 2 : 1;  // independent accumulators per token (see tile_q4_0)
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.scales(tile, b))));
    __m512i dot[T][A];
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < A; ++i) dot[t][i] = _mm512_setzero_si512();
    }
    __m512i correction[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    const uint8_t* q = g.quants(tile, b);
    prefetch_block(q, tiles::kChunksQ8_0 * 64);
    for (int c = 0; c < 8; ++c) {
      const __m512i w = _mm512_loadu_si512(q + c * 64);
      correction[c % 2] = _mm512_dpbusd_epi32(correction[c % 2], bias, w);
      for (int t = 0; t < T; ++t) {
        const __m512i a = _mm512_xor_si512(broadcast4(act[t * g.nb + b].qs + 4 * c), bias);
        dot[t][c % A] = _mm512_dpbusd_epi32(dot[t][c % A], a, w);
      }
    }
    const __m512i total_correction = _mm512_add_epi32(correction[0], correction[1]);
    for (int t = 0; t < T; ++t) {
      const ActBlock& a = act[t * g.nb + b];
      __m512i sum = dot[t][0];
      for (int i = 1; i < A; ++i) sum = _mm512_add_epi32(sum, dot[t][i]);
      const __m512i exact = _mm512_sub_epi32(sum, total_correction);
      const __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(a.d));
      acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(s, _mm512_cvtepi32_ps(exact)));
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * y_stride, acc[t], valid);
}

}  // namespace

void gemm_q4_0_q8a_16x8__avx512vnni(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                                    int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y,
                                    int64_t y_stride) {
  tiles::run<tile_q4_0<1>, tile_q4_0<2>, tile_q4_0<4>, tile_q4_0<8>>(packed, n_rows, k, tiles::kChunksQ4_0, tile_begin,
                                                                    tile_end, act, n_tokens, y, y_stride);
}

void gemm_q8_0_q8a_16x8__avx512vnni(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                                    int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y,
                                    int64_t y_stride) {
  tiles::run<tile_q8_0<1>, tile_q8_0<2>, tile_q8_0<4>, tile_q8_0<8>>(packed, n_rows, k, tiles::kChunksQ8_0, tile_begin,
                                                                    tile_end, act, n_tokens, y, y_stride);
}

}  // namespace qtr::kernels
