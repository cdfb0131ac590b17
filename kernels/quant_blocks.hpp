// Every quantized block format qtr reads, bit-compatible with GGUF/GGML, in one place.
//
// A tensor row of n elements is n / QK consecutive blocks. Element i of a block is reconstructed as described on
// each struct ("x = ..."); fp16 fields are IEEE half precision. Nibble order: qs[j] holds element j in its low 4 bits
// and element j + QK/2 in its high 4 bits (for the 32-element formats).
#pragma once

#include <cstddef>
#include <cstdint>

#include "qtr/tensor_type.hpp"

namespace qtr::quant {

inline constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32;
inline constexpr int QK_K = 256;    // K-quant super-block
inline constexpr int K_SCALE_SIZE = 12;

// Q4_0: x = d * (q - 8), q in [0, 15].
struct block_q4_0 {
  uint16_t d;             // fp16 scale
  uint8_t qs[QK4_0 / 2];  // nibbles
};
static_assert(sizeof(block_q4_0) == 18);

// Q4_1: x = d * q + m, q in [0, 15].
struct block_q4_1 {
  uint16_t d, m;          // fp16 scale, fp16 min
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

// Q5_0: x = d * (q - 16), q in [0, 31]; bit 4 of element j is bit j of qh (little-endian u32).
struct block_q5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

// Q5_1: x = d * q + m, q in [0, 31]; high bits as Q5_0.
struct block_q5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

// Q8_0: x = d * q, q in [-127, 127].
struct block_q8_0 {
  uint16_t d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

// Q8_1 (activations for Q4_1/Q5_1 in GGML): x = d * q; s = d * sum(q), both fp16.
struct block_q8_1 {
  uint16_t d, s;
  int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

// Q4_K: 256 elements in 8 sub-blocks of 32. Sub-block j has a 6-bit scale sc[j] and 6-bit min mn[j] packed in
// `scales` (j < 4: sc = scales[j] & 63, mn = scales[j+4] & 63; j >= 4: sc = (scales[j+4] & 15) | ((scales[j-4] >> 6)
// << 4), mn = (scales[j+4] >> 4) | ((scales[j] >> 6) << 4)).  x = d * sc[j] * q - dmin * mn[j], q in [0, 15].
// qs: 4 groups of 32 bytes; group g holds sub-block 2g in low nibbles and sub-block 2g+1 in high nibbles.
struct block_q4_K {
  uint16_t d, dmin;               // fp16 super-block scale for scales / for mins
  uint8_t scales[K_SCALE_SIZE];   // 8 x (6-bit scale, 6-bit min)
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

// Q5_K: as Q4_K with a fifth bit: element 32*j + l (sub-block j, l in [0, 32)) takes bit j of qh[l] as its bit 4.
// x = d * sc[j] * q - dmin * mn[j], q in [0, 31].
struct block_q5_K {
  uint16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

// Q6_K: 256 elements in 16 sub-blocks of 16 with int8 scales; x = d * scales[s] * (q - 32), q in [0, 63].
// Two halves of 128; element 128h + 32r + l (r in [0, 4), l in [0, 32)) has its low 4 bits in
// ql[64h + l + 32(r & 1)] >> 4(r >> 1), its high 2 bits in qh[32h + l] >> 2r, and scale scales[8h + l/16 + 2r].
struct block_q6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  uint16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

// Q8_K (activations for K-quants in GGML): x = d * q; bsums[i] = sum of q over elements 16i .. 16i+15.
struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

// The block geometry above agrees with the file-format table (src/io/tensor_type.cpp); test_quant_ref.cpp checks
// row_size against it for every format here.
static_assert(sizeof(block_q4_0) == 18 && QK4_0 == 32);

// ---- scalar reference conversions (kernels/scalar/quant_ref.cpp) ---------------------------------------------
// quantize_row: n floats (a multiple of the type's block size) -> blocks, bit-exact with GGML's quantize_row_*_ref
// without an importance matrix (and so with gguf.quants where it quantizes). dequantize_row: blocks -> n floats,
// bit-exact with GGML's dequantize_row_* and gguf.quants.dequantize. F16 / BF16 rows are arrays of uint16_t.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K (dequantize also Q8_K).
// Errors (qtr::Error, never abort): Errc::unsupported for another type, Errc::invalid_argument when n is negative or
// not a multiple of the block size. Buffers need no particular alignment.
bool can_quantize(TensorType type);
bool can_dequantize(TensorType type);
void quantize_row(TensorType type, const float* x, void* blocks, int64_t n);
void dequantize_row(TensorType type, const void* blocks, float* y, int64_t n);
// Bytes that n elements of `type` occupy (n a multiple of the block size). Types: those above and Q8_1; others
// throw Errc::unsupported.
size_t row_size(TensorType type, int64_t n);

// IEEE half <-> float. fp32_to_fp16 rounds to nearest even, with subnormals and overflow to inf, as
// GGML_FP32_TO_FP16 and numpy astype(float16) do; a NaN becomes the quiet NaN 0x7E00 with its sign (as GGML; numpy
// keeps payload bits). fp16_to_fp32 is exact (it is kernels::fp16_to_fp32).
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
// bfloat16, round-to-nearest-even, overflow to inf, NaN forced quiet (as ggml_compute_fp32_to_bf16 / gguf.quants).
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t b);

}  // namespace qtr::quant
