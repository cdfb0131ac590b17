// Packing GGUF Q4_0 / Q8_0 rows into the interleaved tiles of kernels/packed_tiles.hpp.
#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/packed_tiles.hpp"
#include "kernels/quant_blocks.hpp"

namespace qtr::kernels {

namespace {

// Copies, for each row of each tile, block b's fp16 scale and its quant bytes into chunk-interleaved order.
template <class Block, int64_t Chunks>
void pack_x16(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  const tiles::Geometry g(k, Chunks);
  static_assert(sizeof(Block::qs) == Chunks * 4);
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    uint8_t* tile = dst + t * g.tile_bytes;
    std::memset(tile, 0, static_cast<size_t>(g.tile_bytes));  // padding rows stay zero (d = 0)
    for (int64_t j = 0; j < tiles::kRows; ++j) {
      const int64_t row = t * tiles::kRows + j;
      if (row >= n_rows) break;
      const auto* blocks = reinterpret_cast<const Block*>(src) + row * g.nb;
      for (int64_t b = 0; b < g.nb; ++b) {
        const_cast<uint16_t*>(g.scales(tile, b))[j] = blocks[b].d;
        uint8_t* quants = const_cast<uint8_t*>(g.quants(tile, b));
        for (int64_t c = 0; c < Chunks; ++c) std::memcpy(quants + (c * tiles::kRows + j) * 4, blocks[b].qs + 4 * c, 4);
      }
    }
  }
}

}  // namespace

size_t packed_size_q4_0_x16(int64_t n_rows, int64_t k) {
  return static_cast<size_t>(tiles::n_tiles(n_rows) * tiles::Geometry(k, tiles::kChunksQ4_0).tile_bytes);
}
size_t packed_size_q8_0_x16(int64_t n_rows, int64_t k) {
  return static_cast<size_t>(tiles::n_tiles(n_rows) * tiles::Geometry(k, tiles::kChunksQ8_0).tile_bytes);
}
void pack_q4_0_x16(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack_x16<quant::block_q4_0, tiles::kChunksQ4_0>(src, n_rows, k, dst, tile_begin, tile_end);
}
void pack_q8_0_x16(const uint8_t* src, int64_t n_rows, int64_t k, uint8_t* dst, int64_t tile_begin, int64_t tile_end) {
  pack_x16<quant::block_q8_0, tiles::kChunksQ8_0>(src, n_rows, k, dst, tile_begin, tile_end);
}

}  // namespace qtr::kernels
