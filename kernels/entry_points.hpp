// What each ISA's kernel files export: a table of MatmulKernel rows (defined in that file, compiled with its
// flags), and the packing functions all ISAs share. registry.cpp (compiled without ISA flags) only concatenates the
// tables of the ISAs this build targets and picks rows whose ISA the CPU supports.
#pragma once

#include <span>

#include "kernels/matmul.hpp"

namespace qtr::kernels {

// Packing GGUF rows into tiles (kernels/scalar/pack_tiles.cpp), one pair per GGUF type.
size_t packed_size_q4_0(int64_t n_rows, int64_t k);
size_t packed_size_q4_1(int64_t n_rows, int64_t k);
size_t packed_size_q4_K(int64_t n_rows, int64_t k);
size_t packed_size_q5_0(int64_t n_rows, int64_t k);
size_t packed_size_q5_1(int64_t n_rows, int64_t k);
size_t packed_size_q5_K(int64_t n_rows, int64_t k);
size_t packed_size_q6_K(int64_t n_rows, int64_t k);
size_t packed_size_q8_0(int64_t n_rows, int64_t k);
void pack_q4_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q4_1(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q4_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q5_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q5_1(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q5_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q6_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);
void pack_q8_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end);

std::span<const MatmulKernel> matmul_kernels__scalar();
std::span<const MatmulKernel> matmul_kernels__rows();  // in-place kernels on the GGUF layout
#if defined(__x86_64__)
std::span<const MatmulKernel> matmul_kernels__avx2();
std::span<const MatmulKernel> matmul_kernels__avx512vnni();
#endif
#if defined(__aarch64__)
std::span<const MatmulKernel> matmul_kernels__neon();
#endif

}  // namespace qtr::kernels
