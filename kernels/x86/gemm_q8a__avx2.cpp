// AVX2 (+FMA, F16C) kernels for packed Q4_0 / Q8_0 tiles (layout: kernels/packed_tiles.hpp).
// A 16-row tile is processed as two halves of 8 rows (one 256-bit register of 32-bit lanes each); products are
// formed with vpmaddubsw (u8 x s8 -> s16 pairs, never saturating here) and summed to 32 bits with vpmaddwd.
#include <immintrin.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline void store_rows(float* y, __m256 v, int64_t valid) {
  if (valid >= 8) {
    _mm256_storeu_ps(y, v);
  } else if (valid > 0) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(y, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), lanes), v);
  }
}

// Q4_0: |products| <= 15 * 127, so two vpmaddubsw pairs summed stay below 2^15.
template <int T, int Half>
void half_q4_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.scales(tile, b) + 8 * Half)));
    __m256i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
    const uint8_t* q = g.quants(tile, b) + 32 * Half;
    for (int c = 0; c < 4; ++c) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c * 64));
      const __m256i lo = _mm256_and_si256(w, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
      for (int t = 0; t < T; ++t) {
        const ActBlock& a = act[t * g.nb + b];
        const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo, broadcast4(a.qs + 4 * c)),
                                               _mm256_maddubs_epi16(hi, broadcast4(a.qs + 16 + 4 * c)));
        dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(pairs, ones));
      }
    }
    for (int t = 0; t < T; ++t) {
      const ActBlock& a = act[t * g.nb + b];
      const __m256i adjusted = _mm256_sub_epi32(dot[t], _mm256_set1_epi32(8 * a.sum));
      const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(a.d));
      acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(s, _mm256_cvtepi32_ps(adjusted)));
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * y_stride + 8 * Half, acc[t], valid - 8 * Half);
}

// Q8_0: vpmaddubsw needs one unsigned operand: |w| x sign(a, w), |products| <= 127 * 127.
template <int T, int Half>
void half_q8_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const __m256 dw =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.scales(tile, b) + 8 * Half)));
    __m256i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
    const uint8_t* q = g.quants(tile, b) + 32 * Half;
    for (int c = 0; c < 8; ++c) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c * 64));
      const __m256i magnitude = _mm256_abs_epi8(w);
      for (int t = 0; t < T; ++t) {
        const __m256i signed_a = _mm256_sign_epi8(broadcast4(act[t * g.nb + b].qs + 4 * c), w);
        dot[t] = _mm256_add_epi32(dot[t], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_a), ones));
      }
    }
    for (int t = 0; t < T; ++t) {
      const ActBlock& a = act[t * g.nb + b];
      const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(a.d));
      acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(s, _mm256_cvtepi32_ps(dot[t])));
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * y_stride + 8 * Half, acc[t], valid - 8 * Half);
}

template <int T>
void tile_q4_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  half_q4_0<T, 0>(tile, g, act, y, y_stride, valid);
  if (valid > 8) half_q4_0<T, 1>(tile, g, act, y, y_stride, valid);
}

template <int T>
void tile_q8_0(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  half_q8_0<T, 0>(tile, g, act, y, y_stride, valid);
  if (valid > 8) half_q8_0<T, 1>(tile, g, act, y, y_stride, valid);
}

}  // namespace

void gemm_q4_0_q8a_16x4__avx2(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                              int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run<tile_q4_0<1>, tile_q4_0<2>, tile_q4_0<4>, tile_q4_0<4>>(packed, n_rows, k, tiles::kChunksQ4_0,
                                                                     tile_begin, tile_end, act, n_tokens, y, y_stride);
}

void gemm_q8_0_q8a_16x4__avx2(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                              int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run<tile_q8_0<1>, tile_q8_0<2>, tile_q8_0<4>, tile_q8_0<4>>(packed, n_rows, k, tiles::kChunksQ8_0,
                                                                     tile_begin, tile_end, act, n_tokens, y, y_stride);
}

}  // namespace qtr::kernels
