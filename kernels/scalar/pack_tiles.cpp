// Packing GGUF rows into the tiles of kernels/packed_tiles.hpp, with the per-type block decoders of
// kernels/tile_decode.hpp. The conversion is exact: the tile values reproduce GGUF's dequantization formula.
#include <cstring>

#include "kernels/entry_points.hpp"
#include "kernels/tile_decode.hpp"

namespace qtr::kernels {

namespace {

using tiles::TileFormat;

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
        TileBlock block = Decode(src_row, b);
        for (int h = 0; h < F.halves; ++h) {
          store_value(const_cast<void*>(g.scales(tile, b, h)), j, block.scale[h], F.scale_f32);
        }
        if (F.has_min) store_value(const_cast<void*>(g.mins(tile, b)), j, block.min, F.scale_f32);
        auto* quants = const_cast<uint8_t*>(g.quants(tile, b));
        if constexpr (F.bits == 8 && F.bytes == tiles::Bytes::biased128) {
          for (uint8_t& q : block.q) q ^= 0x80;  // int8 v -> uint8 v + 128
        }
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
