// The scalar reference KV row conversions (kernels/kv_store.hpp).
#include <cstring>
#include <string>

#include "kernels/kernels.hpp"
#include "kernels/kv_store.hpp"
#include "kernels/quant_blocks.hpp"
#include "qtr/error.hpp"

namespace qtr::kernels {

void kv_store_row(KvType type, const float* src, uint8_t* dst, int64_t n) {
  if (n < 0) throw Error(Errc::invalid_argument, "kv_store_row: negative length " + std::to_string(n));
  switch (type) {
    case KvType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case KvType::f16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = quant::fp32_to_fp16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case KvType::q8_0: quant::quantize_row(TensorType::Q8_0, src, dst, n); return;
  }
  throw Error(Errc::internal, "kv_store_row: bad KvType");
}

void kv_load_row(KvType type, const uint8_t* src, float* dst, int64_t n) {
  if (n < 0) throw Error(Errc::invalid_argument, "kv_load_row: negative length " + std::to_string(n));
  switch (type) {
    case KvType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case KvType::f16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
      }
      return;
    case KvType::q8_0: quant::dequantize_row(TensorType::Q8_0, src, dst, n); return;
  }
  throw Error(Errc::internal, "kv_load_row: bad KvType");
}

}  // namespace qtr::kernels
