// TensorType — every tensor element type GGML defines, with its block geometry.
//
// GGUF stores a tensor as a sequence of blocks: `block_size` elements packed into `type_size` bytes (1 and
// sizeof(element) for plain types). Every id GGML has assigned is *recognised* here, so a file using one qtr cannot
// compute with yet fails with "unsupported tensor type Q5_K in blk.0.ffn_down" rather than "unknown type 13".
// The byte layouts of the blocks qtr computes with live in kernels/quant_blocks.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace qtr {

enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3,
  // 4 and 5 were Q4_2 and Q4_3, removed from GGML
  Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  // 31..33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) were removed from GGML
  TQ1_0 = 34, TQ2_0 = 35,
  // 36..38 (IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8) were removed from GGML
  MXFP4 = 39,
};

struct TensorTypeInfo {
  TensorType type;
  std::string_view name;  // as GGML spells it: "Q4_K"
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
};

// The traits of a type id read from a file, or nullopt for an id GGML never assigned (or has removed).
std::optional<TensorTypeInfo> tensor_type_info(uint32_t id);
// The traits of a known type (never fails).
const TensorTypeInfo& tensor_type_info(TensorType type);
// "Q4_K"; for an unknown id, "type#<id>".
std::string tensor_type_name(TensorType type);
// Parses "q8_0" / "Q8_0" / "f16"; nullopt when unknown.
std::optional<TensorType> parse_tensor_type(std::string_view name);

}  // namespace qtr
