// Scalar reference kernels for every tile format (kernels/packed_tiles.hpp). The SIMD kernels compute exactly
// these numbers; qtr_kernel_conformance checks it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/kernels.hpp"
#include "kernels/packed_tiles.hpp"

namespace qtr::kernels {

namespace {

using tiles::TileFormat;

template <TileFormat F>
float value_at(const void* base, int64_t lane) {
  if constexpr (F.scale_f32) {
    float f;
    std::memcpy(&f, static_cast<const uint8_t*>(base) + 4 * lane, 4);
    return f;
  } else {
    uint16_t h;
    std::memcpy(&h, static_cast<const uint8_t*>(base) + 2 * lane, 2);
    return fp16_to_fp32(h);
  }
}

// Exact integer dot product of lane j's elements [first, last) of a block with the activation quants.
template <TileFormat F>
int32_t block_dot(const uint8_t* quants, int64_t j, const ActBlock& a, int first, int last) {
  int32_t dot = 0;
  for (int e = first; e < last; ++e) {
    int32_t w;
    if constexpr (F.bits == 4) {
      const uint8_t byte = quants[((e % 16) / 4 * tiles::kRows + j) * 4 + e % 4];
      w = e < 16 ? (byte & 0x0F) : (byte >> 4);
      if (F.offset8) w -= 8;
    } else {
      w = tiles::byte_value<F>(quants[(e / 4 * tiles::kRows + j) * 4 + e % 4]);
    }
    dot += w * a.qs[e];
  }
  return dot;
}

template <TileFormat F>
void gemm(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end, const ActBlock* act,
          int64_t n_tokens, float* y, int64_t y_stride) {
  const tiles::Geometry g(k, F);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = g.tile(packed, t);
    for (int64_t j = 0; j < tiles::kRows && t * tiles::kRows + j < n_rows; ++j) {
      for (int64_t n = 0; n < n_tokens; ++n) {
        const ActBlock* a = act + n * g.nb;
        float acc = 0.0f;
        for (int64_t b = 0; b < g.nb; ++b) {
          const uint8_t* quants = g.quants(tile, b);
          if constexpr (F.halves == 1) {
            const float s = value_at<F>(g.scales(tile, b), j) * a[b].d;
            acc = acc + s * static_cast<float>(block_dot<F>(quants, j, a[b], 0, 32));
            if constexpr (F.has_min) {
              acc = acc + value_at<F>(g.mins(tile, b), j) * (a[b].d * static_cast<float>(a[b].sum));
            }
          } else {
            const float lo = value_at<F>(g.scales(tile, b, 0), j) * a[b].d;
            const float hi = value_at<F>(g.scales(tile, b, 1), j) * a[b].d;
            acc = acc + lo * static_cast<float>(block_dot<F>(quants, j, a[b], 0, 16));
            acc = acc + hi * static_cast<float>(block_dot<F>(quants, j, a[b], 16, 32));
          }
        }
        y[n * y_stride + t * tiles::kRows + j] = acc;
      }
    }
  }
}

constexpr MatmulKernel kKernels[] = {
    {"gemm_q4_0_q8a_16x1__scalar", TensorType::Q4_0, Isa::scalar, 16, 1, packed_size_q4_0, pack_q4_0, gemm<tiles::kQ4_0>},
    {"gemm_q4_1_q8a_16x1__scalar", TensorType::Q4_1, Isa::scalar, 16, 1, packed_size_q4_1, pack_q4_1, gemm<tiles::kQ4_1>},
    {"gemm_q4_K_q8a_16x1__scalar", TensorType::Q4_K, Isa::scalar, 16, 1, packed_size_q4_K, pack_q4_K, gemm<tiles::kQ4_K>},
    {"gemm_q5_0_q8a_16x1__scalar", TensorType::Q5_0, Isa::scalar, 16, 1, packed_size_q5_0, pack_q5_0, gemm<tiles::kQ8_0>},
    {"gemm_q5_1_q8a_16x1__scalar", TensorType::Q5_1, Isa::scalar, 16, 1, packed_size_q5_1, pack_q5_1, gemm<tiles::kQ5_1>},
    {"gemm_q5_K_q8a_16x1__scalar", TensorType::Q5_K, Isa::scalar, 16, 1, packed_size_q5_K, pack_q5_K, gemm<tiles::kQ5_K>},
    {"gemm_q6_K_q8a_16x1__scalar", TensorType::Q6_K, Isa::scalar, 16, 1, packed_size_q6_K, pack_q6_K, gemm<tiles::kQ6_K>},
    {"gemm_q8_0_q8a_16x1__scalar", TensorType::Q8_0, Isa::scalar, 16, 1, packed_size_q8_0, pack_q8_0, gemm<tiles::kQ8_0>},
};

}  // namespace

std::span<const MatmulKernel> matmul_kernels__scalar() { return kKernels; }

namespace {

// x[0..32) -> a: d = max|x| / 127, q = round-to-nearest-even(x / d).
void quantize_block(const float* v, ActBlock& a) {
  float amax = 0.0f;
  for (int i = 0; i < kActBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
  a.d = amax / 127.0f;
  const float id = a.d != 0.0f ? 1.0f / a.d : 0.0f;
  int32_t sum = 0;
  for (int i = 0; i < kActBlock; ++i) {
    // Round to nearest even with the 1.5 * 2^23 trick (|v * id| <= 127): exact, and vectorisable, unlike
    // a call to nearbyint.
    const auto q = static_cast<int32_t>((v[i] * id + 12582912.0f) - 12582912.0f);
    a.qs[i] = static_cast<int8_t>(std::clamp(q, -127, 127));
    sum += a.qs[i];
  }
  a.sum = sum;
}

}  // namespace

void quantize_activations(const float* x, int64_t n_tokens, int64_t k, int64_t x_stride, ActBlock* out) {
  const int64_t nb = k / kActBlock;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t b = 0; b < nb; ++b) quantize_block(x + t * x_stride + b * kActBlock, out[t * nb + b]);
  }
}

void quantize_activations_x2(const float* x, int64_t n_tokens, int64_t k, int64_t x_stride, ActBlock* out) {
  const int64_t nb = k / kActBlock;
  for (int64_t t = 0; t < n_tokens; ++t) {
    ActBlock* main = out + 2 * t * nb;
    ActBlock* residual = main + nb;
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + t * x_stride + b * kActBlock;
      quantize_block(v, main[b]);
      float r[kActBlock];
      for (int i = 0; i < kActBlock; ++i) r[i] = v[i] - main[b].d * static_cast<float>(main[b].qs[i]);
      quantize_block(r, residual[b]);
    }
  }
}

}  // namespace qtr::kernels
