// In-place kernels: integer matmul straight from the GGUF row layout, decoding each block as it is used. This is
// what `LoadOptions::repack = false` runs, to measure what packing buys; the numbers are the same as the packed
// kernels' (same integer dot products, same float accumulation order), only the memory layout differs.
#include <vector>

#include "kernels/entry_points.hpp"
#include "kernels/tile_decode.hpp"

namespace qtr::kernels {

namespace {

template <TileFormat F>
float value_of(uint32_t bits) {
  if constexpr (F.scale_f32) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  } else {
    return fp16_to_fp32(static_cast<uint16_t>(bits));
  }
}

template <TileFormat F>
int32_t dot(const TileBlock& block, const ActBlock& a, int first, int last) {
  int32_t sum = 0;
  for (int e = first; e < last; ++e) {
    int32_t w;
    if constexpr (F.bits == 4) {
      w = e < 16 ? (block.q[e] & 0x0F) : (block.q[e - 16] >> 4);
      if (F.offset8) w -= 8;
    } else {
      w = static_cast<int8_t>(block.q[e]);
    }
    sum += w * a.qs[e];
  }
  return sum;
}

// Rows [row_begin, row_end) ("tiles" of one row). Each block is decoded once and used for every token.
template <TileFormat F, TileBlock (*Decode)(const uint8_t*, int64_t)>
void gemm_rows(const uint8_t* weights, int64_t /*n_rows*/, int64_t k, int64_t row_begin, int64_t row_end,
               const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride, size_t row_bytes) {
  const int64_t nb = k / kActBlock;
  std::vector<float> acc(static_cast<size_t>(n_tokens));
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = weights + static_cast<size_t>(r) * row_bytes;
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int64_t b = 0; b < nb; ++b) {
      const TileBlock block = Decode(row, b);
      for (int64_t n = 0; n < n_tokens; ++n) {
        const ActBlock& a = act[n * nb + b];
        float& sum = acc[static_cast<size_t>(n)];
        if constexpr (F.halves == 1) {
          const int32_t d = dot<F>(block, a, 0, 32);  // Q4_0's -8 is applied per element
          sum = sum + (value_of<F>(block.scale[0]) * a.d) * static_cast<float>(d);
          if constexpr (F.has_min) sum = sum + value_of<F>(block.min) * (a.d * static_cast<float>(a.sum));
        } else {
          sum = sum + (value_of<F>(block.scale[0]) * a.d) * static_cast<float>(dot<F>(block, a, 0, 16));
          sum = sum + (value_of<F>(block.scale[1]) * a.d) * static_cast<float>(dot<F>(block, a, 16, 32));
        }
      }
    }
    for (int64_t n = 0; n < n_tokens; ++n) y[n * y_stride + r] = acc[static_cast<size_t>(n)];
  }
}

// The "packing" of an in-place kernel is the identity: rows stay as GGUF stores them.
template <TensorType T>
size_t rows_size(int64_t n_rows, int64_t k) {
  return quant::row_size(T, k) * static_cast<size_t>(n_rows);
}

template <TensorType T>
void copy_rows(const uint8_t* src, int64_t /*n_rows*/, int64_t k, uint8_t* dst, int64_t row_begin, int64_t row_end) {
  const size_t bytes = quant::row_size(T, k);
  std::memcpy(dst + row_begin * bytes, src + row_begin * bytes, static_cast<size_t>(row_end - row_begin) * bytes);
}

template <TensorType T, TileFormat F, TileBlock (*Decode)(const uint8_t*, int64_t)>
void gemm(const uint8_t* weights, int64_t n_rows, int64_t k, int64_t row_begin, int64_t row_end, const ActBlock* act,
          int64_t n_tokens, float* y, int64_t y_stride) {
  gemm_rows<F, Decode>(weights, n_rows, k, row_begin, row_end, act, n_tokens, y, y_stride, quant::row_size(T, k));
}

template <TensorType T, TileFormat F, TileBlock (*Decode)(const uint8_t*, int64_t)>
constexpr MatmulKernel row_kernel(std::string_view name) {
  return MatmulKernel{name, T, Isa::scalar, 1, 1, rows_size<T>, copy_rows<T>, gemm<T, F, Decode>, /*in_place=*/true};
}

using TT = TensorType;
constexpr MatmulKernel kKernels[] = {
    row_kernel<TT::Q4_0, tiles::kQ4_0, decode_q4_0>("gemm_q4_0_q8a_1x1__rows"),
    row_kernel<TT::Q4_1, tiles::kQ4_1, decode_q4_1>("gemm_q4_1_q8a_1x1__rows"),
    row_kernel<TT::Q4_K, tiles::kQ4_K, decode_q4_K>("gemm_q4_K_q8a_1x1__rows"),
    row_kernel<TT::Q5_0, tiles::kQ8_0, decode_q5_0>("gemm_q5_0_q8a_1x1__rows"),
    row_kernel<TT::Q5_1, tiles::kQ5_1, decode_q5_1>("gemm_q5_1_q8a_1x1__rows"),
    row_kernel<TT::Q5_K, tiles::kQ5_K, decode_q5_K>("gemm_q5_K_q8a_1x1__rows"),
    row_kernel<TT::Q6_K, tiles::kQ6_K, decode_q6_K>("gemm_q6_K_q8a_1x1__rows"),
    row_kernel<TT::Q8_0, tiles::kQ8_0, decode_q8_0>("gemm_q8_0_q8a_1x1__rows"),
};

}  // namespace

std::span<const MatmulKernel> matmul_kernels__rows() { return kKernels; }

}  // namespace qtr::kernels
