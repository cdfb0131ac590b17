// The packed tile layouts shared by every ISA's matmul kernels.
//
// A matrix of n_rows x k is cut into tiles of R = 16 rows (the last one zero-padded). Each weight type is converted,
// exactly, into one of a few tile formats (TileFormat): a block of 32 elements becomes quants (4-bit nibbles or
// int8) with one or two scales and possibly a min:
//   4-bit:  Q4_0 (value q - 8, fp16 scale), Q4_1 (q, fp16 scale + min), Q4_K (q, f32 scale + min per 32)
//   8-bit:  Q8_0 (fp16 scale), Q5_0 (q - 16, fp16 scale), Q5_1 (q, fp16 scale + min), Q5_K (q, f32 scale + min),
//           Q6_K (q - 32, an f32 scale per 16 elements)
// (K-quant scales are d * sc and mins -dmin * m, exact in f32.) A tile holds its nb = k / 32 blocks in pairs, one
// sequential stream of 64-byte lines:
//   pair p = [ scales of blocks 2p, 2p+1: [block][half][16 rows] ][ mins: [block][16 rows] ]
//            [ quants of block 2p ][ quants of block 2p+1 ]
//   quants of a block: C chunks of 64 bytes; chunk c holds, for each row (lane) j, 4 bytes of that row's block:
//     4-bit: C = 4; byte i of chunk c: element 4c+i in the low nibble, element 16+4c+i in the high nibble
//     8-bit: C = 8; byte i of chunk c: element 4c+i (so chunks 0-3 are elements 0-15, chunks 4-7 are 16-31),
//            stored as TileFormat::bytes says (int8, uint8, or value + 128)
// One 64-byte load gives 16 rows x 4 bytes, the width of a 512-bit register of 32-bit lanes (two 256-bit or four
// 128-bit registers elsewhere), and each lane's 4 bytes meet the same 4 broadcast activation bytes.
//
// Every kernel computes, per row, token and block (in order of k, unfused):
//   halves = 1:  acc = acc + (s * d_a) * float(dot);   with a min:  acc = acc + m * (d_a * float(sum_a))
//   halves = 2:  acc = acc + (s_lo * d_a) * float(dot over elements 0-15); acc = acc + (s_hi * d_a) * float(dot 16-31)
// where dot is the exact integer product of the block's values (after the -8 offset) with the activation quants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/matmul.hpp"

namespace qtr::kernels::tiles {

inline constexpr int64_t kRows = 16;

// How an 8-bit format stores its values: as int8 (Q6_K), as bytes that are never negative (Q5_1, Q5_K: 0..31), or
// biased to unsigned, value + 128 (Q8_0, Q5_0). Unsigned bytes are what vpdpbusd multiplies with the signed
// activations; the bias comes back out as 128 * (the activation block's sum), once per block.
enum class Bytes { int8, uint8, biased128 };

struct TileFormat {
  int bits;        // 4 or 8
  bool offset8;    // 4-bit: the value is q - 8 (folded into the activation sum)
  bool scale_f32;  // scales and mins are f32 (else fp16)
  bool has_min;    // x = s * q + m
  int halves;      // scales per block: 1, or 2 (one per 16 elements; 8-bit only)
  Bytes bytes = Bytes::int8;  // 8-bit: how the values are stored

  constexpr int64_t chunks() const { return bits == 4 ? 4 : 8; }
  constexpr int64_t value_bytes() const { return scale_f32 ? 4 : 2; }
  constexpr int64_t scale_region() const { return 2 * halves * kRows * value_bytes(); }
  constexpr int64_t min_region() const { return has_min ? 2 * kRows * value_bytes() : 0; }
  constexpr int64_t pair_bytes() const { return scale_region() + min_region() + 2 * chunks() * 64; }
};

inline constexpr TileFormat kQ4_0{4, true, false, false, 1};
inline constexpr TileFormat kQ4_1{4, false, false, true, 1};
inline constexpr TileFormat kQ4_K{4, false, true, true, 1};
inline constexpr TileFormat kQ8_0{8, false, false, false, 1, Bytes::biased128};  // also Q5_0
inline constexpr TileFormat kQ5_1{8, false, false, true, 1, Bytes::uint8};
inline constexpr TileFormat kQ5_K{8, false, true, true, 1, Bytes::uint8};
inline constexpr TileFormat kQ6_K{8, false, true, false, 2, Bytes::int8};

// The value of an 8-bit format's stored byte.
template <TileFormat F>
constexpr int32_t byte_value(uint8_t byte) {
  if constexpr (F.bytes == Bytes::int8) return static_cast<int8_t>(byte);
  else if constexpr (F.bytes == Bytes::biased128) return static_cast<int32_t>(byte) - 128;
  else return byte;
}

inline int64_t n_tiles(int64_t n_rows) { return (n_rows + kRows - 1) / kRows; }

struct Geometry {
  TileFormat f;
  int64_t nb;          // blocks per row
  int64_t tile_bytes;  // a multiple of 64

  Geometry(int64_t k, TileFormat format) : f(format), nb(k / 32), tile_bytes((k / 32 + 1) / 2 * format.pair_bytes()) {}
  const uint8_t* tile(const uint8_t* packed, int64_t t) const { return packed + t * tile_bytes; }
  const uint8_t* pair(const uint8_t* tile, int64_t b) const { return tile + (b / 2) * f.pair_bytes(); }
  // The 16 rows' scales of block b (half h), as fp16 bits or f32 by the format.
  const void* scales(const uint8_t* tile, int64_t b, int64_t h = 0) const {
    return pair(tile, b) + ((b % 2) * f.halves + h) * kRows * f.value_bytes();
  }
  const void* mins(const uint8_t* tile, int64_t b) const {
    return pair(tile, b) + f.scale_region() + (b % 2) * kRows * f.value_bytes();
  }
  const uint8_t* quants(const uint8_t* tile, int64_t b) const {
    return pair(tile, b) + f.scale_region() + f.min_region() + (b % 2) * f.chunks() * 64;
  }
};

// A micro-kernel: one tile x T tokens (T fixed by the instantiation), writing `valid` rows (<= 16) of each token.
using TileFn = void (*)(const uint8_t* tile, const Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
                        int64_t valid);

// Walks tiles [tile_begin, tile_end). Each tile function takes 8, 4, 2 or 1 rows of act (Rows rows per token, a
// token's rows consecutive) and writes one y row per token; within a tile the tokens go 8, 4, 2, 1 rows at a time
// (an ISA passes the same function for sizes it does not specialise).
template <TileFormat F, int Rows, TileFn Take8, TileFn Take4, TileFn Take2, TileFn Take1>
inline void walk(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                 const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  const Geometry g(k, F);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = g.tile(packed, t);
    const int64_t row0 = t * kRows;
    const int64_t valid = n_rows - row0;
    int64_t n = 0;  // tokens done
    auto take = [&](TileFn fn, int64_t tokens) {
      for (; n + tokens <= n_tokens; n += tokens) {
        fn(tile, g, act + Rows * n * g.nb, y + n * y_stride + row0, y_stride, valid);
      }
    };
    if (Take8 != Take4) take(Take8, 8 / Rows);
    if (Take4 != Take2) take(Take4, 4 / Rows);
    if (Take2 != Take1) take(Take2, 2 / Rows);
    take(Take1, 1);  // Rows == 2: Take1 is Take2, one token
  }
}

// One row per token: Tile{N} takes N tokens. Instantiated in each ISA's file, with its flags.
template <TileFormat F, TileFn Tile1, TileFn Tile2, TileFn Tile4, TileFn Tile8>
inline void run(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  walk<F, 1, Tile8, Tile4, Tile2, Tile1>(packed, n_rows, k, tile_begin, tile_end, act, n_tokens, y, y_stride);
}

// The two-term form (MatmulKernel::gemm_x2): 2 rows per token; a pair tile of P rows takes P / 2 tokens and stores
// each token's two results added. Pair8 takes 4 tokens, Pair4 2, Pair2 1.
template <TileFormat F, TileFn Pair2, TileFn Pair4, TileFn Pair8>
inline void run_x2(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t tile_begin, int64_t tile_end,
                   const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  walk<F, 2, Pair8, Pair4, Pair2, Pair2>(packed, n_rows, k, tile_begin, tile_end, act, n_tokens, y, y_stride);
}

}  // namespace qtr::kernels::tiles
