// KV row stores with NEON: f16 rows 4 floats at a time (FCVTN rounds to nearest even under the default FPCR, so
// the bytes equal quant::fp32_to_fp16 for every non-NaN input); f32 and q8_0 as the scalar reference.
#include <arm_neon.h>

#include "kernels/kv_store.hpp"

namespace qtr::kernels {

void kv_store_row__neon(KvType type, const float* src, uint8_t* dst, int64_t n) {
  if (type != KvType::f16 || n < 0) return kv_store_row(type, src, dst, n);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float16x4_t h = vcvt_f16_f32(vld1q_f32(src + i));
    vst1_u16(reinterpret_cast<uint16_t*>(dst + 2 * i), vreinterpret_u16_f16(h));
  }
  if (i < n) kv_store_row(type, src + i, dst + 2 * i, n - i);
}

}  // namespace qtr::kernels
