// AVX2 (+FMA, F16C) kernels for every tile format (kernels/packed_tiles.hpp).
// A 16-row tile is processed as two halves of 8 rows (one 256-bit register of 32-bit lanes each). Products are
// formed with vpmaddubsw (u8 x s8 -> s16 pairs) and summed to 32 bits with vpmaddwd. 4-bit weights are the
// unsigned operand (|pair| <= 2 * 15 * 127); 8-bit weights go in as |w| with the activation given w's sign
// (|pair| <= 2 * 128 * 127): neither saturates.
#include <immintrin.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

using tiles::TileFormat;

constexpr int64_t kPrefetchBytes = 2048;

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

template <TileFormat F>
inline __m256 load8(const void* p, int half) {
  if constexpr (F.scale_f32) return _mm256_loadu_ps(static_cast<const float*>(p) + 8 * half);
  else return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + 8 * half)));
}

inline void store_rows(float* y, __m256 v, int64_t valid) {
  if (valid >= 8) {
    _mm256_storeu_ps(y, v);
  } else if (valid > 0) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(y, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)), lanes), v);
  }
}

// Pairs: as in the AVX-512 kernels, T / 2 tokens' (main, residual) rows, each pair added before the store.
template <TileFormat F, int T, int Half, bool Pairs>
void half_tile(const uint8_t* tile_base, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
               int64_t valid) {
  constexpr int H = F.halves;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const uint8_t* q = g.quants(tile_base, b);
    if (Half == 0) {
      for (int64_t i = 0; i < F.chunks() * 64; i += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchBytes + i), _MM_HINT_T0);
      }
    }
    __m256i dot[T][H];
    for (int t = 0; t < T; ++t) {
      for (int h = 0; h < H; ++h) dot[t][h] = _mm256_setzero_si256();
    }
    for (int c = 0; c < F.chunks(); ++c) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + c * 64 + 32 * Half));
      if constexpr (F.bits == 4) {
        const __m256i lo = _mm256_and_si256(w, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
        for (int t = 0; t < T; ++t) {
          const ActBlock& a = act[t * g.nb + b];
          const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(lo, broadcast4(a.qs + 4 * c)),
                                                 _mm256_maddubs_epi16(hi, broadcast4(a.qs + 16 + 4 * c)));
          dot[t][0] = _mm256_add_epi32(dot[t][0], _mm256_madd_epi16(pairs, ones));
        }
      } else if constexpr (F.bytes == tiles::Bytes::uint8) {  // 0..31: vpmaddubsw's pairs cannot saturate
        for (int t = 0; t < T; ++t) {
          const __m256i pairs = _mm256_maddubs_epi16(w, broadcast4(act[t * g.nb + b].qs + 4 * c));
          dot[t][0] = _mm256_add_epi32(dot[t][0], _mm256_madd_epi16(pairs, ones));
        }
      } else {
        // Signed values (biased bytes back to int8 first): |w| times a with w's sign, so no pair can saturate.
        const __m256i sw = F.bytes == tiles::Bytes::biased128 ? _mm256_xor_si256(w, _mm256_set1_epi8(static_cast<char>(0x80))) : w;
        const __m256i magnitude = _mm256_abs_epi8(sw);
        const int h = H == 2 ? c / 4 : 0;
        for (int t = 0; t < T; ++t) {
          const __m256i signed_a = _mm256_sign_epi8(broadcast4(act[t * g.nb + b].qs + 4 * c), sw);
          dot[t][h] = _mm256_add_epi32(dot[t][h], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_a), ones));
        }
      }
    }
    const __m256 scale0 = load8<F>(g.scales(tile_base, b, 0), Half);
    if constexpr (H == 1) {
      __m256 mins = _mm256_setzero_ps();
      if constexpr (F.has_min) mins = load8<F>(g.mins(tile_base, b), Half);
      for (int t = 0; t < T; ++t) {
        const ActBlock& a = act[t * g.nb + b];
        __m256i sum = dot[t][0];
        if constexpr (F.offset8) sum = _mm256_sub_epi32(sum, _mm256_set1_epi32(8 * a.sum));
        const __m256 s = _mm256_mul_ps(scale0, _mm256_set1_ps(a.d));
        acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(s, _mm256_cvtepi32_ps(sum)));
        if constexpr (F.has_min) {
          acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(mins, _mm256_set1_ps(a.d * static_cast<float>(a.sum))));
        }
      }
    } else {
      const __m256 scale1 = load8<F>(g.scales(tile_base, b, 1), Half);
      for (int t = 0; t < T; ++t) {
        const __m256 da = _mm256_set1_ps(act[t * g.nb + b].d);
        acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(_mm256_mul_ps(scale0, da), _mm256_cvtepi32_ps(dot[t][0])));
        acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(_mm256_mul_ps(scale1, da), _mm256_cvtepi32_ps(dot[t][H - 1])));
      }
    }
  }
  if constexpr (Pairs) {
    for (int t = 0; t < T / 2; ++t) {
      store_rows(y + t * y_stride + 8 * Half, _mm256_add_ps(acc[2 * t], acc[2 * t + 1]), valid - 8 * Half);
    }
  } else {
    for (int t = 0; t < T; ++t) store_rows(y + t * y_stride + 8 * Half, acc[t], valid - 8 * Half);
  }
}

template <TileFormat F, int T, bool Pairs = false>
void tile(const uint8_t* tile_base, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
          int64_t valid) {
  half_tile<F, T, 0, Pairs>(tile_base, g, act, y, y_stride, valid);
  if (valid > 8) half_tile<F, T, 1, Pairs>(tile_base, g, act, y, y_stride, valid);
}

template <TileFormat F>
void gemm(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end, const ActBlock* act,
          int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run<F, tile<F, 1>, tile<F, 2>, tile<F, 4>, tile<F, 4>>(packed, n_rows, k, tile_begin, tile_end, act,
                                                                n_tokens, y, y_stride);
}

template <TileFormat F>
void gemm_x2(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
             const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run_x2<F, tile<F, 2, true>, tile<F, 4, true>, tile<F, 4, true>>(packed, n_rows, k, tile_begin, tile_end, act,
                                                                         n_tokens, y, y_stride);
}

constexpr MatmulKernel kKernels[] = {
    {"gemm_q4_0_q8a_16x4__avx2", TensorType::Q4_0, Isa::avx2, 16, 4, packed_size_q4_0, pack_q4_0, gemm<tiles::kQ4_0>, false, gemm_x2<tiles::kQ4_0>},
    {"gemm_q4_1_q8a_16x4__avx2", TensorType::Q4_1, Isa::avx2, 16, 4, packed_size_q4_1, pack_q4_1, gemm<tiles::kQ4_1>, false, gemm_x2<tiles::kQ4_1>},
    {"gemm_q4_K_q8a_16x4__avx2", TensorType::Q4_K, Isa::avx2, 16, 4, packed_size_q4_K, pack_q4_K, gemm<tiles::kQ4_K>, false, gemm_x2<tiles::kQ4_K>},
    {"gemm_q5_0_q8a_16x4__avx2", TensorType::Q5_0, Isa::avx2, 16, 4, packed_size_q5_0, pack_q5_0, gemm<tiles::kQ8_0>, false, gemm_x2<tiles::kQ8_0>},
    {"gemm_q5_1_q8a_16x4__avx2", TensorType::Q5_1, Isa::avx2, 16, 4, packed_size_q5_1, pack_q5_1, gemm<tiles::kQ5_1>, false, gemm_x2<tiles::kQ5_1>},
    {"gemm_q5_K_q8a_16x4__avx2", TensorType::Q5_K, Isa::avx2, 16, 4, packed_size_q5_K, pack_q5_K, gemm<tiles::kQ5_K>, false, gemm_x2<tiles::kQ5_K>},
    {"gemm_q6_K_q8a_16x4__avx2", TensorType::Q6_K, Isa::avx2, 16, 4, packed_size_q6_K, pack_q6_K, gemm<tiles::kQ6_K>, false, gemm_x2<tiles::kQ6_K>},
    {"gemm_q8_0_q8a_16x4__avx2", TensorType::Q8_0, Isa::avx2, 16, 4, packed_size_q8_0, pack_q8_0, gemm<tiles::kQ8_0>, false, gemm_x2<tiles::kQ8_0>},
};

}  // namespace

std::span<const MatmulKernel> matmul_kernels__avx2() { return kKernels; }

}  // namespace qtr::kernels
