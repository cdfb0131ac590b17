// Packing GGUF rows into the tiles of kernels/packed_tiles.hpp. Each GGUF type has a decoder that turns block b
// (32 elements) of a row into the tile representation: scales, min, and quants in the tile's nibble or byte order.
// The conversion is exact: the tile values reproduce GGUF's dequantization formula.
#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/kernels.hpp"
#include "kernels/packed_tiles.hpp"
#include "kernels/quant_blocks.hpp"

namespace qtr::kernels {

namespace {

using namespace quant;
using tiles::TileFormat;

// One 32-element block in tile form. `scale`/`min` hold fp16 bits or f32 values by the format.
struct TileBlock {
  uint32_t scale[2];  // per half
  uint32_t min;
  uint8_t q[32];      // 4-bit: 16 bytes (byte i = element i | element 16+i << 4); 8-bit: 32 int8
};

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Q4_K / Q5_K: 6-bit scale and min of sub-block j.
void scale_min_k4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

TileBlock decode_q4_0(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q4_0*>(row)[b];
  TileBlock t{};
  t.scale[0] = blk.d;
  std::memcpy(t.q, blk.qs, 16);
  return t;
}

TileBlock decode_q4_1(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q4_1*>(row)[b];
  TileBlock t{};
  t.scale[0] = blk.d;
  t.min = blk.m;
  std::memcpy(t.q, blk.qs, 16);
  return t;
}

TileBlock decode_q8_0(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q8_0*>(row)[b];
  TileBlock t{};
  t.scale[0] = blk.d;
  std::memcpy(t.q, blk.qs, 32);
  return t;
}

uint8_t q5_value(const uint8_t* qs, const uint8_t* qh, int i) {
  uint32_t high;
  std::memcpy(&high, qh, 4);
  const uint8_t low = i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4);
  return static_cast<uint8_t>(low | (((high >> i) & 1) << 4));
}

TileBlock decode_q5_0(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q5_0*>(row)[b];
  TileBlock t{};
  t.scale[0] = blk.d;
  for (int i = 0; i < 32; ++i) t.q[i] = static_cast<uint8_t>(static_cast<int8_t>(q5_value(blk.qs, blk.qh, i) - 16));
  return t;
}

TileBlock decode_q5_1(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q5_1*>(row)[b];
  TileBlock t{};
  t.scale[0] = blk.d;
  t.min = blk.m;
  for (int i = 0; i < 32; ++i) t.q[i] = q5_value(blk.qs, blk.qh, i);
  return t;
}

// Element l of sub-block j of a K-quant super-block's 4-bit part.
uint8_t k_nibble(const uint8_t* qs, int j, int l) { return (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF; }

TileBlock decode_q4_K(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q4_K*>(row)[b / 8];
  const int j = static_cast<int>(b % 8);
  uint8_t sc, m;
  scale_min_k4(j, blk.scales, sc, m);
  TileBlock t{};
  t.scale[0] = f32_bits(fp16_to_fp32(blk.d) * sc);
  t.min = f32_bits(-(fp16_to_fp32(blk.dmin) * m));
  for (int i = 0; i < 16; ++i) t.q[i] = static_cast<uint8_t>(k_nibble(blk.qs, j, i) | (k_nibble(blk.qs, j, 16 + i) << 4));
  return t;
}

TileBlock decode_q5_K(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q5_K*>(row)[b / 8];
  const int j = static_cast<int>(b % 8);
  uint8_t sc, m;
  scale_min_k4(j, blk.scales, sc, m);
  TileBlock t{};
  t.scale[0] = f32_bits(fp16_to_fp32(blk.d) * sc);
  t.min = f32_bits(-(fp16_to_fp32(blk.dmin) * m));
  for (int l = 0; l < 32; ++l) t.q[l] = static_cast<uint8_t>(k_nibble(blk.qs, j, l) | (((blk.qh[l] >> j) & 1) << 4));
  return t;
}

TileBlock decode_q6_K(const uint8_t* row, int64_t b) {
  const auto& blk = reinterpret_cast<const block_q6_K*>(row)[b / 8];
  const int j = static_cast<int>(b % 8), h = j / 4, r = j % 4;
  const float d = fp16_to_fp32(blk.d);
  TileBlock t{};
  t.scale[0] = f32_bits(d * blk.scales[8 * h + 2 * r]);
  t.scale[1] = f32_bits(d * blk.scales[8 * h + 2 * r + 1]);
  for (int l = 0; l < 32; ++l) {
    const int low = (blk.ql[64 * h + l + 32 * (r & 1)] >> (4 * (r >> 1))) & 0xF;
    const int high = (blk.qh[32 * h + l] >> (2 * r)) & 3;
    t.q[l] = static_cast<uint8_t>(static_cast<int8_t>((low | (high << 4)) - 32));
  }
  return t;
}

void store_value(void* base, int64_t lane, uint32_t value, bool f32) {
  if (f32) std::memcpy(static_cast<uint8_t*>(base) + 4 * lane, &value, 4);
  else {
    const auto v = static_cast<uint16_t>(value);
    std::memcpy(static_cast<uint8_t*>(base) + 2 * lane, &v, 2);
  }
}

template <TileFormat F, TileBlock (*Decode)(const uint8_t*, int64_t)>
void pack(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end,
          size_t row_bytes) {
  const tiles::Geometry g(k, F);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    uint8_t* tile = dst + t * g.tile_bytes;
    std::memset(tile, 0, static_cast<size_t>(g.tile_bytes));  // padding rows and blocks stay zero
    for (int64_t j = 0; j < tiles::kRows; ++j) {
      const int64_t row = t * tiles::kRows + j;
      if (row >= n_rows) break;
      const uint8_t* src_row = src + static_cast<size_t>(row) * row_bytes;
      for (int64_t b = 0; b < g.nb; ++b) {
        const TileBlock block = Decode(src_row, b);
        for (int h = 0; h < F.halves; ++h) {
          store_value(const_cast<void*>(g.scales(tile, b, h)), j, block.scale[h], F.scale_f32);
        }
        if (F.has_min) store_value(const_cast<void*>(g.mins(tile, b)), j, block.min, F.scale_f32);
        auto* quants = const_cast<uint8_t*>(g.quants(tile, b));
        for (int64_t c = 0; c < F.chunks(); ++c) std::memcpy(quants + (c * tiles::kRows + j) * 4, block.q + 4 * c, 4);
      }
    }
  }
}

template <TileFormat F>
size_t packed_size(int64_t n_rows, int64_t k) {
  return static_cast<size_t>(tiles::n_tiles(n_rows) * tiles::Geometry(k, F).tile_bytes);
}

}  // namespace

size_t packed_size_q4_0(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ4_0>(n_rows, k); }
void pack_q4_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ4_0, decode_q4_0>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q4_0, k));
}

size_t packed_size_q4_1(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ4_1>(n_rows, k); }
void pack_q4_1(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ4_1, decode_q4_1>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q4_1, k));
}

size_t packed_size_q4_K(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ4_K>(n_rows, k); }
void pack_q4_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ4_K, decode_q4_K>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q4_K, k));
}

size_t packed_size_q8_0(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ8_0>(n_rows, k); }
void pack_q8_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ8_0, decode_q8_0>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q8_0, k));
}

size_t packed_size_q5_0(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ8_0>(n_rows, k); }
void pack_q5_0(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ8_0, decode_q5_0>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q5_0, k));
}

size_t packed_size_q5_1(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ5_1>(n_rows, k); }
void pack_q5_1(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ5_1, decode_q5_1>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q5_1, k));
}

size_t packed_size_q5_K(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ5_K>(n_rows, k); }
void pack_q5_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ5_K, decode_q5_K>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q5_K, k));
}

size_t packed_size_q6_K(int64_t n_rows, int64_t k) { return packed_size<tiles::kQ6_K>(n_rows, k); }
void pack_q6_K(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack<tiles::kQ6_K, decode_q6_K>(src, n_rows, k, dst, tile_begin, tile_end, quant::row_size(TensorType::Q6_K, k));
}

}  // namespace qtr::kernels
