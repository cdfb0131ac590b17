// Writing f32 K/V rows into the cache's element type (kernels/kv_types.hpp) and reading them back.
//
//   f32   copied
//   f16   IEEE half, round to nearest even (inf on overflow, subnormals kept), bit-exact with
//         quant::fp32_to_fp16 on every ISA for finite values and infinities (a NaN stays a NaN; its payload may
//         differ between ISAs)
//   q8_0  GGML's reference quantizer (quant::quantize_row(Q8_0)): d = amax / 127 stored as fp16, q = roundf(x / d);
//         n must be a multiple of 32 (qtr::Error invalid_argument otherwise)
// Names: kv_store_row is the scalar reference; kv_store_row__<isa> vectorise the f16 conversion (F16C on x86, NEON
// on AArch64) and give the same bytes. kv_load_row is the exact inverse widening (f16, q8_0 dequantization), for
// tests and debugging. Buffers need no particular alignment.
#pragma once

#include <cstdint>

#include "kernels/kv_types.hpp"
#include "kernels/matmul.hpp"

namespace qtr::kernels {

using KvStoreRowFn = void (*)(KvType type, const float* src, uint8_t* dst, int64_t n);

void kv_store_row(KvType type, const float* src, uint8_t* dst, int64_t n);  // scalar reference
#if defined(__x86_64__)
void kv_store_row__avx2(KvType type, const float* src, uint8_t* dst, int64_t n);  // F16C
#endif
#if defined(__aarch64__)
void kv_store_row__neon(KvType type, const float* src, uint8_t* dst, int64_t n);
#endif
// The store for an ISA (avx2 and avx512vnni: the F16C one).
KvStoreRowFn find_kv_store_row(Isa isa);

void kv_load_row(KvType type, const uint8_t* src, float* dst, int64_t n);

}  // namespace qtr::kernels
