// Scalar reference kernels for packed Q4_0 / Q8_0 tiles. The SIMD kernels compute exactly these numbers.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quant_blocks.hpp"

namespace qtr::kernels {

namespace {

// Integer dot product of row lane j of a block's quants with activation block a.
int32_t dot_q4_0(const uint8_t* quants, int64_t j, const ActBlock& a) {
  int32_t dot = 0;
  for (int64_t c = 0; c < tiles::kChunksQ4_0; ++c) {
    const uint8_t* q = quants + (c * tiles::kRows + j) * 4;
    for (int i = 0; i < 4; ++i) {
      dot += static_cast<int32_t>(q[i] & 0x0F) * a.qs[4 * c + i];
      dot += static_cast<int32_t>(q[i] >> 4) * a.qs[16 + 4 * c + i];
    }
  }
  return dot - 8 * a.sum;  // q - 8 folded into the activation sum
}

int32_t dot_q8_0(const uint8_t* quants, int64_t j, const ActBlock& a) {
  int32_t dot = 0;
  for (int64_t c = 0; c < tiles::kChunksQ8_0; ++c) {
    const auto* q = reinterpret_cast<const int8_t*>(quants + (c * tiles::kRows + j) * 4);
    for (int i = 0; i < 4; ++i) dot += static_cast<int32_t>(q[i]) * a.qs[4 * c + i];
  }
  return dot;
}

template <int64_t Chunks, int32_t (*Dot)(const uint8_t*, int64_t, const ActBlock&)>
void gemm_x16(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
              const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  const tiles::Geometry g(k, Chunks);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = g.tile(packed, t);
    for (int64_t j = 0; j < tiles::kRows && t * tiles::kRows + j < n_rows; ++j) {
      for (int64_t n = 0; n < n_tokens; ++n) {
        const ActBlock* a = act + n * g.nb;
        float acc = 0.0f;
        for (int64_t b = 0; b < g.nb; ++b) {
          const float s = fp16_to_fp32(g.scales(tile, b)[j]) * a[b].d;
          acc = acc + s * static_cast<float>(Dot(g.quants(tile, b), j, a[b]));
        }
        y[n * y_stride + t * tiles::kRows + j] = acc;
      }
    }
  }
}

}  // namespace

void gemm_q4_0_q8a_16x1__scalar(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                                int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  gemm_x16<tiles::kChunksQ4_0, dot_q4_0>(packed, n_rows, k, tile_begin, tile_end, act, n_tokens, y, y_stride);
}

void gemm_q8_0_q8a_16x1__scalar(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin,
                                int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  gemm_x16<tiles::kChunksQ8_0, dot_q8_0>(packed, n_rows, k, tile_begin, tile_end, act, n_tokens, y, y_stride);
}

void quantize_activations(const float* x, int64_t n_tokens, int64_t k, int64_t x_stride, ActBlock* out) {
  const int64_t nb = k / kActBlock;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* v = x + t * x_stride + b * kActBlock;
      float amax = 0.0f;
      for (int i = 0; i < kActBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
      ActBlock& a = out[t * nb + b];
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
  }
}

}  // namespace qtr::kernels
