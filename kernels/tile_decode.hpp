// Decoding one 32-element block of a GGUF row into tile form (scales, min, quants in the tile's nibble or byte
// order). Shared by the packers (pack_tiles.cpp) and the in-place row kernels (gemm_rows__scalar.cpp); internal
// linkage, so each includer keeps its own copy.
#pragma once

#include <cstring>

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

}  // namespace
}  // namespace qtr::kernels
