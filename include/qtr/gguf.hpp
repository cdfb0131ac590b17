// GGUF reader: versions 2 and 3, every metadata value type (nested arrays too), tensor infos, alignment and the
// data section, parsed from a memory-mapped file; tensors are zero-copy views into the map.
//
// File layout (all little-endian):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv    x  { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
//   padding to `general.alignment` (default 32) | data section (tensor offsets are relative to its start)
// A string is u64 length + bytes (no terminator); an array is u32 element type + u64 count + elements.
//
// Every count, length and offset is validated against the file size (and for overflow) before it is used, so a
// hostile file gives a qtr::Error naming the problem, never a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qtr/blob.hpp"
#include "qtr/tensor.hpp"

namespace qtr {

// Metadata value types; the numbering is GGUF's, and also the index of the matching GgufValue alternative.
enum class GgufType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12,
};
const char* gguf_type_name(GgufType type);

struct GgufValue;

struct GgufArray {
  GgufType element_type = GgufType::u8;
  std::vector<GgufValue> items;  // every item has type element_type
};

struct GgufValue {
  // Alternative i holds GgufType(i).
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, GgufArray,
               uint64_t, int64_t, double>
      value;

  GgufType type() const { return static_cast<GgufType>(value.index()); }
  bool is_integer() const;
  std::string to_string(size_t max_array_items = 8) const;  // for `qtr inspect`
};

struct GgufTensorInfo {
  std::string name;
  TensorType type = TensorType::F32;
  std::vector<int64_t> ne;  // GGML order, innermost first
  uint64_t offset = 0;      // relative to the data section
  uint64_t n_bytes = 0;
};

class GgufFile {
 public:
  static constexpr uint32_t kDefaultAlignment = 32;

  static GgufFile open(const std::filesystem::path& path);
  static GgufFile parse(std::shared_ptr<const Blob> blob);  // the Blob's name is used in messages

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data section
  const std::string& source() const { return blob_->name(); }
  const std::shared_ptr<const Blob>& blob() const { return blob_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters. `require_*` throws "<file>: missing GGUF key 'k'"; the optional forms return nullopt when absent.
  // Both throw when the key exists with an incompatible type. Integers convert between widths when the value fits.
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;  // f32, f64 or any integer
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;
  uint64_t require_uint(std::string_view key) const;
  double require_float(std::string_view key) const;
  std::string require_string(std::string_view key) const;
  const GgufArray& require_array(std::string_view key, GgufType element_type) const;

  // Tensors in file order.
  const std::vector<GgufTensorInfo>& tensor_infos() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  TensorView tensor(const GgufTensorInfo& info) const;
  // Throws "<file>: missing tensor 'name'" when absent.
  TensorView require_tensor(std::string_view name) const;
  std::optional<TensorView> optional_tensor(std::string_view name) const;

 private:
  std::shared_ptr<const Blob> blob_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace qtr
