// AVX-512 (F, BW, VL, VNNI) kernels for every tile format (kernels/packed_tiles.hpp).
// One 512-bit register = 16 rows x 4 bytes; vpdpbusd multiplies them by 4 broadcast activation bytes. Up to 8
// tokens share each unpacked weight register (prefill); one token is the decode path.
#include <immintrin.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

using tiles::TileFormat;

// Weights stream from memory once per token: prefetching ~2 KiB ahead keeps enough requests in flight.
constexpr int64_t kPrefetchBytes = 2048;

inline void prefetch_ahead(const uint8_t* q, int64_t bytes) {
  for (int64_t i = -64; i < bytes; i += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(q + kPrefetchBytes + i), _MM_HINT_T0);
  }
}

inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

template <TileFormat F>
inline __m512 load16(const void* p) {
  if constexpr (F.scale_f32) return _mm512_loadu_ps(p);
  else return _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
}

inline void store_rows(float* y, __m512 v, int64_t valid) {
  if (valid >= 16) _mm512_storeu_ps(y, v);
  else _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << valid) - 1), v);
}

// 4-bit weights are unsigned nibbles (the u8 operand, activations the s8 one), and so are the 8-bit bytes of
// Bytes::uint8 and Bytes::biased128 (whose bias leaves as 128 * sum(a)). int8 weights (Q6_K) are the s8 operand:
// activations are biased to unsigned (a + 128) and the bias removed with 128 * sum(w), itself computed by vpdpbusd
// against a vector of 128s. With few tokens, several independent accumulators per token shorten the
// chains of dependent vpdpbusd (integer sums: the order does not change the result).
// Pairs: the T rows of act are T / 2 tokens' (main, residual) pairs, and each pair's two results are added before
// the store (MatmulKernel::gemm_x2).
template <TileFormat F, int T, bool Pairs = false>
void tile(const uint8_t* tile_base, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
          int64_t valid) {
  constexpr int A = F.halves == 2 ? 2 : (T == 1 ? 4 : T == 2 ? 2 : 1);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < g.nb; ++b) {
    const uint8_t* q = g.quants(tile_base, b);
    prefetch_ahead(q, F.chunks() * 64);
    __m512i dot[T][A];
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < A; ++i) dot[t][i] = _mm512_setzero_si512();
    }
    __m512i correction[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    if constexpr (F.bits == 4) {
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
    } else if constexpr (F.bytes != tiles::Bytes::int8) {  // unsigned bytes: straight into vpdpbusd
      for (int c = 0; c < 8; ++c) {
        const __m512i w = _mm512_loadu_si512(q + c * 64);
        for (int t = 0; t < T; ++t) {
          __m512i& d = dot[t][c % A];
          d = _mm512_dpbusd_epi32(d, w, broadcast4(act[t * g.nb + b].qs + 4 * c));
        }
      }
    } else {
      for (int c = 0; c < 8; ++c) {
        const __m512i w = _mm512_loadu_si512(q + c * 64);
        const int group = F.halves == 2 ? c / 4 : c % 2;
        correction[group] = _mm512_dpbusd_epi32(correction[group], bias, w);
        for (int t = 0; t < T; ++t) {
          const __m512i a = _mm512_xor_si512(broadcast4(act[t * g.nb + b].qs + 4 * c), bias);
          const int i = F.halves == 2 ? c / 4 : c % A;
          dot[t][i] = _mm512_dpbusd_epi32(dot[t][i], a, w);
        }
      }
    }
    const __m512 scale0 = load16<F>(g.scales(tile_base, b, 0));
    if constexpr (F.halves == 1) {
      const __m512i total_correction = _mm512_add_epi32(correction[0], correction[1]);
      __m512 mins = _mm512_setzero_ps();
      if constexpr (F.has_min) mins = load16<F>(g.mins(tile_base, b));
      for (int t = 0; t < T; ++t) {
        const ActBlock& a = act[t * g.nb + b];
        __m512i sum = dot[t][0];
        for (int i = 1; i < A; ++i) sum = _mm512_add_epi32(sum, dot[t][i]);
        if constexpr (F.bits == 8 && F.bytes == tiles::Bytes::int8) sum = _mm512_sub_epi32(sum, total_correction);
        if constexpr (F.bits == 8 && F.bytes == tiles::Bytes::biased128) {
          sum = _mm512_sub_epi32(sum, _mm512_set1_epi32(128 * a.sum));
        }
        if constexpr (F.offset8) sum = _mm512_sub_epi32(sum, _mm512_set1_epi32(8 * a.sum));
        const __m512 s = _mm512_mul_ps(scale0, _mm512_set1_ps(a.d));
        acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(s, _mm512_cvtepi32_ps(sum)));
        if constexpr (F.has_min) {
          acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(mins, _mm512_set1_ps(a.d * static_cast<float>(a.sum))));
        }
      }
    } else {
      const __m512 scale1 = load16<F>(g.scales(tile_base, b, 1));
      for (int t = 0; t < T; ++t) {
        const __m512 da = _mm512_set1_ps(act[t * g.nb + b].d);
        const __m512i lo = _mm512_sub_epi32(dot[t][0], correction[0]);
        const __m512i hi = _mm512_sub_epi32(dot[t][1], correction[1]);
        acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(_mm512_mul_ps(scale0, da), _mm512_cvtepi32_ps(lo)));
        acc[t] = _mm512_add_ps(acc[t], _mm512_mul_ps(_mm512_mul_ps(scale1, da), _mm512_cvtepi32_ps(hi)));
      }
    }
  }
  if constexpr (Pairs) {
    for (int t = 0; t < T / 2; ++t) store_rows(y + t * y_stride, _mm512_add_ps(acc[2 * t], acc[2 * t + 1]), valid);
  } else {
    for (int t = 0; t < T; ++t) store_rows(y + t * y_stride, acc[t], valid);
  }
}

template <TileFormat F>
void gemm(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end, const ActBlock* act,
          int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run<F, tile<F, 1>, tile<F, 2>, tile<F, 4>, tile<F, 8>>(packed, n_rows, k, tile_begin, tile_end, act,
                                                                n_tokens, y, y_stride);
}

template <TileFormat F>
void gemm_x2(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
             const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  tiles::run_x2<F, tile<F, 2, true>, tile<F, 4, true>, tile<F, 8, true>>(packed, n_rows, k, tile_begin, tile_end, act,
                                                                         n_tokens, y, y_stride);
}

constexpr MatmulKernel kKernels[] = {
    {"gemm_q4_0_q8a_16x8__avx512vnni", TensorType::Q4_0, Isa::avx512vnni, 16, 8, packed_size_q4_0, pack_q4_0, gemm<tiles::kQ4_0>, false, gemm_x2<tiles::kQ4_0>},
    {"gemm_q4_1_q8a_16x8__avx512vnni", TensorType::Q4_1, Isa::avx512vnni, 16, 8, packed_size_q4_1, pack_q4_1, gemm<tiles::kQ4_1>, false, gemm_x2<tiles::kQ4_1>},
    {"gemm_q4_K_q8a_16x8__avx512vnni", TensorType::Q4_K, Isa::avx512vnni, 16, 8, packed_size_q4_K, pack_q4_K, gemm<tiles::kQ4_K>, false, gemm_x2<tiles::kQ4_K>},
    {"gemm_q5_0_q8a_16x8__avx512vnni", TensorType::Q5_0, Isa::avx512vnni, 16, 8, packed_size_q5_0, pack_q5_0, gemm<tiles::kQ8_0>, false, gemm_x2<tiles::kQ8_0>},
    {"gemm_q5_1_q8a_16x8__avx512vnni", TensorType::Q5_1, Isa::avx512vnni, 16, 8, packed_size_q5_1, pack_q5_1, gemm<tiles::kQ5_1>, false, gemm_x2<tiles::kQ5_1>},
    {"gemm_q5_K_q8a_16x8__avx512vnni", TensorType::Q5_K, Isa::avx512vnni, 16, 8, packed_size_q5_K, pack_q5_K, gemm<tiles::kQ5_K>, false, gemm_x2<tiles::kQ5_K>},
    {"gemm_q6_K_q8a_16x8__avx512vnni", TensorType::Q6_K, Isa::avx512vnni, 16, 8, packed_size_q6_K, pack_q6_K, gemm<tiles::kQ6_K>, false, gemm_x2<tiles::kQ6_K>},
    {"gemm_q8_0_q8a_16x8__avx512vnni", TensorType::Q8_0, Isa::avx512vnni, 16, 8, packed_size_q8_0, pack_q8_0, gemm<tiles::kQ8_0>, false, gemm_x2<tiles::kQ8_0>},
};

}  // namespace

std::span<const MatmulKernel> matmul_kernels__avx512vnni() { return kKernels; }

}  // namespace qtr::kernels
