// Declarations of every ISA's kernel functions. Each is defined in its own file, compiled with that ISA's flags;
// registry.cpp (compiled without them) only takes their addresses.
#pragma once

#include "kernels/matmul.hpp"

namespace qtr::kernels {

#define QTR_GEMM_SIGNATURE                                                                                    \
  (const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end, const ActBlock* act, \
   int64_t n_tokens, float* y, int64_t y_stride)

// Packing (shared by all ISAs of a weight type): kernels/scalar/pack_tiles.cpp
size_t packed_size_q4_0_x16(int64_t n_rows, int64_t k);
size_t packed_size_q8_0_x16(int64_t n_rows, int64_t k);
void pack_q4_0_x16(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q8_0_x16(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);

void gemm_q4_0_q8a_16x1__scalar QTR_GEMM_SIGNATURE;
void gemm_q8_0_q8a_16x1__scalar QTR_GEMM_SIGNATURE;
#if defined(__x86_64__)
void gemm_q4_0_q8a_16x4__avx2 QTR_GEMM_SIGNATURE;
void gemm_q8_0_q8a_16x4__avx2 QTR_GEMM_SIGNATURE;
void gemm_q4_0_q8a_16x8__avx512vnni QTR_GEMM_SIGNATURE;
void gemm_q8_0_q8a_16x8__avx512vnni QTR_GEMM_SIGNATURE;
#endif
#if defined(__aarch64__)
void gemm_q4_0_q8a_16x1__neon QTR_GEMM_SIGNATURE;
void gemm_q8_0_q8a_16x1__neon QTR_GEMM_SIGNATURE;
#endif

#undef QTR_GEMM_SIGNATURE

}  // namespace qtr::kernels
