// NEON (+dotprod) kernels for packed Q4_0 / Q8_0 tiles (layout: kernels/packed_tiles.hpp).
// A 64-byte chunk is four 128-bit registers of 4 rows x 4 bytes; sdot multiplies each lane's 4 signed bytes by 4
// broadcast activation bytes. Q4_0 nibbles are re-centred to q - 8 first, so no activation-sum correction is needed.
#include <arm_neon.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

inline int8x16_t broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

inline void store_rows(float* y, const float32x4_t (&acc)[4], int64_t valid) {
  float out[16];
  for (int i = 0; i < 4; ++i) vst1q_f32(out + 4 * i, acc[i]);
  std::memcpy(y, out, sizeof(float) * static_cast<size_t>(valid < 16 ? valid : 16));
}

template <bool Q4>
void tile_one_token(const uint8_t* tile, const tiles::Geometry& g, const ActBlock* act, float* y, int64_t /*y_stride*/,
                    int64_t valid) {
  const int chunks = Q4 ? 4 : 8;
  float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
  for (int64_t b = 0; b < g.nb; ++b) {
    const ActBlock& a = act[b];
    int32x4_t dot[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    const uint8_t* q = g.quants(tile, b);
    for (int c = 0; c < chunks; ++c) {
      for (int r = 0; r < 4; ++r) {
        const uint8x16_t w = vld1q_u8(q + c * 64 + 16 * r);
        if constexpr (Q4) {
          const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(w, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
          const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(w, 4)), vdupq_n_s8(8));
          dot[r] = vdotq_s32(dot[r], lo, broadcast4(a.qs + 4 * c));
          dot[r] = vdotq_s32(dot[r], hi, broadcast4(a.qs + 16 + 4 * c));
        } else {
          dot[r] = vdotq_s32(dot[r], vreinterpretq_s8_u8(w), broadcast4(a.qs + 4 * c));
        }
      }
    }
    const float32x4_t da = vdupq_n_f32(a.d);
    for (int r = 0; r < 4; ++r) {
      const float32x4_t dw = vcvt_f32_f16(vld1_f16(reinterpret_cast<const __fp16*>(g.scales(tile, b)) + 4 * r));
      acc[r] = vaddq_f32(acc[r], vmulq_f32(vmulq_f32(dw, da), vcvtq_f32_s32(dot[r])));
    }
  }
  store_rows(y, acc, valid);
}

}  // namespace

void gemm_q4_0_q8a_16x1__neon(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                              const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  constexpr tiles::TileFn one = tile_one_token<true>;
  tiles::run<one, one, one, one>(packed, n_rows, k, tiles::kChunksQ4_0, tile_begin, tile_end, act, n_tokens, y,
                                 y_stride);
}

void gemm_q8_0_q8a_16x1__neon(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                              const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  constexpr tiles::TileFn one = tile_one_token<false>;
  tiles::run<one, one, one, one>(packed, n_rows, k, tiles::kChunksQ8_0, tile_begin, tile_end, act, n_tokens, y,
                                 y_stride);
}

}  // namespace qtr::kernels
