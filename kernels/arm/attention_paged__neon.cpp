// attention_paged_core.hpp compiled for AArch64 NEON (+fp16), with NEON K/V conversions.
#include <arm_neon.h>

#include "kernels/attention_paged_core.hpp"

namespace qtr::kernels {
namespace {

struct NeonOps : PagedOpsBase<NeonOps> {
  static void f16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(src + 2 * i)))));
    }
    for (; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
    }
  }
  static void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b, src += 34, dst += 32) {
      uint16_t h;
      std::memcpy(&h, src, 2);
      const float d = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
      for (int k = 0; k < 2; ++k) {
        const int8x16_t q = vld1q_s8(reinterpret_cast<const int8_t*>(src + 2 + 16 * k));
        const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_s8(vget_high_s8(q));
        vst1q_f32(dst + 16 * k + 0, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
        vst1q_f32(dst + 16 * k + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo))), d));
        vst1q_f32(dst + 16 * k + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
        vst1q_f32(dst + 16 * k + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi))), d));
      }
    }
  }
};

}  // namespace

void attention_paged_f32__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f32, NeonOps>(args, row_begin, row_end);
}
void attention_paged_f16__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f16, NeonOps>(args, row_begin, row_end);
}
void attention_paged_q8_0__neon(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::q8_0, NeonOps>(args, row_begin, row_end);
}

}  // namespace qtr::kernels
