// KV row stores with F16C (compiled with -mavx2 -mf16c): f16 rows 8 floats at a time with the hardware's
// round-to-nearest-even conversion, which equals quant::fp32_to_fp16 for every non-NaN input; f32 and q8_0 as the
// scalar reference (a copy, GGML's quantizer).
#include <immintrin.h>

#include "kernels/kv_store.hpp"
#include "kernels/quant_blocks.hpp"

namespace qtr::kernels {

void kv_store_row__avx2(KvType type, const float* src, uint8_t* dst, int64_t n) {
  if (type != KvType::f16 || n < 0) return kv_store_row(type, src, dst, n);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
  }
  if (i < n) kv_store_row(type, src + i, dst + 2 * i, n - i);
}

}  // namespace qtr::kernels
