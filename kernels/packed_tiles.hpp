// The packed tile layouts shared by every ISA's kernels for a weight type.
//
// A matrix of n_rows x k is cut into tiles of R = 16 rows (the last one zero-padded). A tile holds its
// nb = k / 32 blocks in pairs, one sequential stream of 64-byte lines:
//   pair p = [ scales of blocks 2p and 2p+1: 2 x 16 fp16 (64 bytes) ][ quants of block 2p ][ quants of block 2p+1 ]
//   quants of a block: C chunks of 64 bytes; chunk c holds, for each row (lane) j, 4 consecutive bytes of that
//   row's block
//           q4_0: C = 4, chunk c = bytes qs[4c .. 4c+3] of block_q4_0 (low nibbles: elements 4c..4c+3, high
//                 nibbles: elements 16+4c .. 16+4c+3)
//           q8_0: C = 8, chunk c = qs[4c .. 4c+3] (elements 4c .. 4c+3)
// so one 64-byte load gives 16 rows x 4 bytes, the width of a 512-bit register of 32-bit lanes (two 256-bit or
// four 128-bit registers elsewhere), and each lane's 4 bytes meet the same 4 broadcast activation bytes.
// An odd last block leaves its pair's second half zero.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/matmul.hpp"

namespace qtr::kernels::tiles {

inline constexpr int64_t kRows = 16;

inline int64_t n_tiles(int64_t n_rows) { return (n_rows + kRows - 1) / kRows; }

struct Geometry {
  int64_t nb;          // blocks per row
  int64_t chunks;      // 64-byte chunks of quants per block
  int64_t pair_bytes;  // 64 + 2 * chunks * 64
  int64_t tile_bytes;  // a multiple of 64

  Geometry(int64_t k, int64_t chunk_count)
      : nb(k / 32), chunks(chunk_count), pair_bytes(64 + 2 * chunk_count * 64),
        tile_bytes((k / 32 + 1) / 2 * (64 + 2 * chunk_count * 64)) {}
  const uint8_t* tile(const uint8_t* packed, int64_t t) const { return packed + t * tile_bytes; }
  // The 16 fp16 scales of block b of a tile, and its quants.
  const uint16_t* scales(const uint8_t* tile, int64_t b) const {
    return reinterpret_cast<const uint16_t*>(tile + (b / 2) * pair_bytes + (b % 2) * 32);
  }
  const uint8_t* quants(const uint8_t* tile, int64_t b) const {
    return tile + (b / 2) * pair_bytes + 64 + (b % 2) * chunks * 64;
  }
};

inline constexpr int64_t kChunksQ4_0 = 4;
inline constexpr int64_t kChunksQ8_0 = 8;

// A micro-kernel: one tile x T tokens (T fixed by the instantiation), writing `valid` rows (<= 16) of each token.
using TileFn = void (*)(const uint8_t* tile, const Geometry& g, const ActBlock* act, float* y, int64_t y_stride,
                        int64_t valid);

// Walks tiles [tile_begin, tile_end); within a tile, takes tokens 8, 4, 2, 1 at a time (an ISA passes the same
// function for sizes it does not specialise). Instantiated in each ISA's file, with its flags.
template <TileFn Tile1, TileFn Tile2, TileFn Tile4, TileFn Tile8>
inline void run(const uint8_t* packed, int64_t n_rows, int64_t k, int64_t chunks, int64_t tile_begin,
                int64_t tile_end, const ActBlock* act, int64_t n_tokens, float* y, int64_t y_stride) {
  const Geometry g(k, chunks);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* tile = g.tile(packed, t);
    const int64_t row0 = t * kRows;
    const int64_t valid = n_rows - row0;
    int64_t n = 0;
    if (Tile8 != Tile4) {
      for (; n + 8 <= n_tokens; n += 8) Tile8(tile, g, act + n * g.nb, y + n * y_stride + row0, y_stride, valid);
    }
    if (Tile4 != Tile2) {
      for (; n + 4 <= n_tokens; n += 4) Tile4(tile, g, act + n * g.nb, y + n * y_stride + row0, y_stride, valid);
    }
    if (Tile2 != Tile1) {
      for (; n + 2 <= n_tokens; n += 2) Tile2(tile, g, act + n * g.nb, y + n * y_stride + row0, y_stride, valid);
    }
    for (; n < n_tokens; ++n) Tile1(tile, g, act + n * g.nb, y + n * y_stride + row0, y_stride, valid);
  }
}

}  // namespace qtr::kernels::tiles
