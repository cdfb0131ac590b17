// attention_paged_core.hpp compiled without ISA flags: the reference paged attention kernels.
#include "kernels/attention_paged_core.hpp"
#include "kernels/kernels.hpp"

namespace qtr::kernels {
namespace {

struct ScalarOps : PagedOpsBase<ScalarOps> {
  static void f16_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = fp16_to_fp32(h);
    }
  }
  static void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b, src += 34) {
      uint16_t h;
      std::memcpy(&h, src, 2);
      const float d = fp16_to_fp32(h);
      for (int64_t i = 0; i < 32; ++i) dst[32 * b + i] = static_cast<float>(static_cast<int8_t>(src[2 + i])) * d;
    }
  }
};

}  // namespace

void attention_paged_f32__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f32, ScalarOps>(args, row_begin, row_end);
}
void attention_paged_f16__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::f16, ScalarOps>(args, row_begin, row_end);
}
void attention_paged_q8_0__scalar(const PagedAttentionArgs& args, int64_t row_begin, int64_t row_end) {
  paged_attention_rows<KvType::q8_0, ScalarOps>(args, row_begin, row_end);
}

}  // namespace qtr::kernels
