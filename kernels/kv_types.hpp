// Element types of cached keys and values, and the bytes one token's K (or V) row takes.
//
// A row is kv_dim = n_head_kv * head_dim elements:
//   f32   4 bytes per element
//   f16   IEEE half, 2 bytes per element
//   q8_0  GGML Q8_0 blocks of 32 elements (fp16 scale + 32 int8 = 34 bytes); kv_dim must be a multiple of 32 (the
//         graphs also require head_dim % 32 == 0, so no block straddles two heads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "qtr/error.hpp"

namespace qtr::kernels {

enum class KvType { f32, f16, q8_0 };

inline const char* kv_type_name(KvType type) {
  switch (type) {
    case KvType::f32: return "f32";
    case KvType::f16: return "f16";
    case KvType::q8_0: return "q8_0";
  }
  return "?";
}

// "f32", "f16" or "q8_0"; anything else is an invalid_argument naming the value.
inline KvType parse_kv_type(std::string_view name) {
  if (name == "f32") return KvType::f32;
  if (name == "f16") return KvType::f16;
  if (name == "q8_0") return KvType::q8_0;
  throw Error(Errc::invalid_argument,
              "unknown KV cache type '" + std::string(name) + "' (expected f32, f16 or q8_0)");
}

// Bytes of one token's K (or V) row of kv_dim elements.
inline size_t kv_row_bytes(KvType type, int64_t kv_dim) {
  if (kv_dim <= 0 || kv_dim > (int64_t{1} << 40)) {
    throw Error(Errc::invalid_argument, "KV cache row: kv_dim must be in 1 .. 2^40, got " + std::to_string(kv_dim));
  }
  const auto n = static_cast<size_t>(kv_dim);
  switch (type) {
    case KvType::f32: return n * 4;
    case KvType::f16: return n * 2;
    case KvType::q8_0:
      if (kv_dim % 32 != 0) {
        throw Error(Errc::invalid_argument, "KV cache type q8_0 needs kv_dim to be a multiple of 32, got " +
                                                std::to_string(kv_dim));
      }
      return n / 32 * 34;
  }
  throw Error(Errc::internal, "kv_row_bytes: bad KvType");
}

}  // namespace qtr::kernels
