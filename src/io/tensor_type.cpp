#include "qtr/tensor_type.hpp"

#include <array>
#include <cctype>
#include <string>

namespace qtr {

namespace {

using T = TensorType;
// block_size and type_size follow ggml.c's type_traits table.
constexpr std::array kTypes = {
    TensorTypeInfo{T::F32, "F32", 1, 4},          TensorTypeInfo{T::F16, "F16", 1, 2},
    TensorTypeInfo{T::Q4_0, "Q4_0", 32, 18},      TensorTypeInfo{T::Q4_1, "Q4_1", 32, 20},
    TensorTypeInfo{T::Q5_0, "Q5_0", 32, 22},      TensorTypeInfo{T::Q5_1, "Q5_1", 32, 24},
    TensorTypeInfo{T::Q8_0, "Q8_0", 32, 34},      TensorTypeInfo{T::Q8_1, "Q8_1", 32, 36},
    TensorTypeInfo{T::Q2_K, "Q2_K", 256, 84},     TensorTypeInfo{T::Q3_K, "Q3_K", 256, 110},
    TensorTypeInfo{T::Q4_K, "Q4_K", 256, 144},    TensorTypeInfo{T::Q5_K, "Q5_K", 256, 176},
    TensorTypeInfo{T::Q6_K, "Q6_K", 256, 210},    TensorTypeInfo{T::Q8_K, "Q8_K", 256, 292},
    TensorTypeInfo{T::IQ2_XXS, "IQ2_XXS", 256, 66}, TensorTypeInfo{T::IQ2_XS, "IQ2_XS", 256, 74},
    TensorTypeInfo{T::IQ3_XXS, "IQ3_XXS", 256, 98}, TensorTypeInfo{T::IQ1_S, "IQ1_S", 256, 50},
    TensorTypeInfo{T::IQ4_NL, "IQ4_NL", 32, 18},  TensorTypeInfo{T::IQ3_S, "IQ3_S", 256, 110},
    TensorTypeInfo{T::IQ2_S, "IQ2_S", 256, 82},   TensorTypeInfo{T::IQ4_XS, "IQ4_XS", 256, 136},
    TensorTypeInfo{T::I8, "I8", 1, 1},            TensorTypeInfo{T::I16, "I16", 1, 2},
    TensorTypeInfo{T::I32, "I32", 1, 4},          TensorTypeInfo{T::I64, "I64", 1, 8},
    TensorTypeInfo{T::F64, "F64", 1, 8},          TensorTypeInfo{T::IQ1_M, "IQ1_M", 256, 56},
    TensorTypeInfo{T::BF16, "BF16", 1, 2},        TensorTypeInfo{T::TQ1_0, "TQ1_0", 256, 54},
    TensorTypeInfo{T::TQ2_0, "TQ2_0", 256, 66},   TensorTypeInfo{T::MXFP4, "MXFP4", 32, 17},
};

}  // namespace

std::optional<TensorTypeInfo> tensor_type_info(uint32_t id) {
  for (const auto& info : kTypes) {
    if (static_cast<uint32_t>(info.type) == id) return info;
  }
  return std::nullopt;
}

const TensorTypeInfo& tensor_type_info(TensorType type) {
  for (const auto& info : kTypes) {
    if (info.type == type) return info;
  }
  return kTypes[0];  // unreachable for a valid enumerator
}

std::string tensor_type_name(TensorType type) {
  if (auto info = tensor_type_info(static_cast<uint32_t>(type))) return std::string(info->name);
  return "type#" + std::to_string(static_cast<uint32_t>(type));
}

std::optional<TensorType> parse_tensor_type(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& info : kTypes) {
    if (info.name == upper) return info.type;
  }
  return std::nullopt;
}

}  // namespace qtr
