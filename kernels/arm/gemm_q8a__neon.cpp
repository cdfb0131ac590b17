// NEON (+dotprod) kernels for every tile format (kernels/packed_tiles.hpp).
// A 64-byte chunk is four 128-bit registers of 4 rows x 4 bytes; sdot multiplies each lane's 4 signed bytes by 4
// broadcast activation bytes. 4-bit values are turned into signed bytes first (q, or q - 8 for Q4_0), so no
// activation-sum correction is needed for the offset.
#include <arm_neon.h>

#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

using tiles::TileFormat;

inline int8x16_t broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

template <TileFormat F>
inline float32x4_t load4(const void* p, int r) {
  if constexpr (F.scale_f32) return vld1q_f32(static_cast<const float*>(p) + 4 * r);
  else return vcvt_f32_f16(vld1_f16(static_cast<const __fp16*>(p) + 4 * r));
}

template <TileFormat F>
void tile_one_token(const uint8_t* tile_base, const tiles::Geometry& g, const ActBlock* act, float* y,
                    int64_t /*y_stride*/, int64_t valid) {
  constexpr int H = F.halves;
  float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
  for (int64_t b = 0; b < g.nb; ++b) {
    const ActBlock& a = act[b];
    const uint8_t* q = g.quants(tile_base, b);
    int32x4_t dot[4][H];
    for (int r = 0; r < 4; ++r) {
      for (int h = 0; h < H; ++h) dot[r][h] = vdupq_n_s32(0);
    }
    for (int c = 0; c < F.chunks(); ++c) {
      for (int r = 0; r < 4; ++r) {
        const uint8x16_t w = vld1q_u8(q + c * 64 + 16 * r);
        if constexpr (F.bits == 4) {
          const int8x16_t offset = vdupq_n_s8(F.offset8 ? 8 : 0);
          const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(w, vdupq_n_u8(0x0F))), offset);
          const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(w, 4)), offset);
          dot[r][0] = vdotq_s32(dot[r][0], lo, broadcast4(a.qs + 4 * c));
          dot[r][0] = vdotq_s32(dot[r][0], hi, broadcast4(a.qs + 16 + 4 * c));
        } else {
          // int8 and uint8 bytes (0..31) are the values as they are; biased bytes go back to int8.
          const int h = H == 2 ? c / 4 : 0;
          const uint8x16_t v = F.bytes == tiles::Bytes::biased128 ? veorq_u8(w, vdupq_n_u8(0x80)) : w;
          dot[r][h] = vdotq_s32(dot[r][h], vreinterpretq_s8_u8(v), broadcast4(a.qs + 4 * c));
        }
      }
    }
    const float32x4_t da = vdupq_n_f32(a.d);
    for (int r = 0; r < 4; ++r) {
      const float32x4_t s0 = vmulq_f32(load4<F>(g.scales(tile_base, b, 0), r), da);
      acc[r] = vaddq_f32(acc[r], vmulq_f32(s0, vcvtq_f32_s32(dot[r][0])));
      if constexpr (H == 2) {
        const float32x4_t s1 = vmulq_f32(load4<F>(g.scales(tile_base, b, 1), r), da);
        acc[r] = vaddq_f32(acc[r], vmulq_f32(s1, vcvtq_f32_s32(dot[r][H - 1])));
      }
      if constexpr (F.has_min) {
        const float32x4_t m = load4<F>(g.mins(tile_base, b), r);
        acc[r] = vaddq_f32(acc[r], vmulq_f32(m, vdupq_n_f32(a.d * static_cast<float>(a.sum))));
      }
    }
  }
  float out[16];
  for (int r = 0; r < 4; ++r) vst1q_f32(out + 4 * r, acc[r]);
  std::memcpy(y, out, sizeof(float) * static_cast<size_t>(valid < 16 ? valid : 16));
}

template <TileFormat F>
void gemm(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end, const ActBlock* act,
          int64_t n_tokens, float* y, int64_t y_stride) {
  constexpr tiles::TileFn one = tile_one_token<F>;
  tiles::run<F, one, one, one, one>(packed, n_rows, k, tile_begin, tile_end, act, n_tokens, y, y_stride);
}

constexpr MatmulKernel kKernels[] = {
    {"gemm_q4_0_q8a_16x1__neon", TensorType::Q4_0, Isa::neon, 16, 1, packed_size_q4_0, pack_q4_0, gemm<tiles::kQ4_0>},
    {"gemm_q4_1_q8a_16x1__neon", TensorType::Q4_1, Isa::neon, 16, 1, packed_size_q4_1, pack_q4_1, gemm<tiles::kQ4_1>},
    {"gemm_q4_K_q8a_16x1__neon", TensorType::Q4_K, Isa::neon, 16, 1, packed_size_q4_K, pack_q4_K, gemm<tiles::kQ4_K>},
    {"gemm_q5_0_q8a_16x1__neon", TensorType::Q5_0, Isa::neon, 16, 1, packed_size_q5_0, pack_q5_0, gemm<tiles::kQ8_0>},
    {"gemm_q5_1_q8a_16x1__neon", TensorType::Q5_1, Isa::neon, 16, 1, packed_size_q5_1, pack_q5_1, gemm<tiles::kQ5_1>},
    {"gemm_q5_K_q8a_16x1__neon", TensorType::Q5_K, Isa::neon, 16, 1, packed_size_q5_K, pack_q5_K, gemm<tiles::kQ5_K>},
    {"gemm_q6_K_q8a_16x1__neon", TensorType::Q6_K, Isa::neon, 16, 1, packed_size_q6_K, pack_q6_K, gemm<tiles::kQ6_K>},
    {"gemm_q8_0_q8a_16x1__neon", TensorType::Q8_0, Isa::neon, 16, 1, packed_size_q8_0, pack_q8_0, gemm<tiles::kQ8_0>},
};

}  // namespace

std::span<const MatmulKernel> matmul_kernels__neon() { return kKernels; }

}  // namespace qtr::kernels
