// GGUF writer: produces version-3 files with metadata of every type and aligned tensor data.
// Used by tests to build fixture models and by `qtr quantize` / `qtr vocab` to write models.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "qtr/gguf.hpp"

namespace qtr {

// Builders for metadata values.
GgufValue gguf_array(const std::vector<std::string>& items);
GgufValue gguf_array(const std::vector<float>& items);
GgufValue gguf_array(const std::vector<int32_t>& items);

class GgufWriter {
 public:
  // Sets (or replaces) a metadata entry; entries are written in the order they were first set.
  // Setting "general.alignment" (u32, a power of two) changes the data alignment.
  void set(const std::string& key, GgufValue value);

  // Adds a tensor. `ne` is in GGML order (innermost first); `data` must hold exactly the tensor's bytes.
  // The span overload does not copy: the bytes must stay alive until write()/to_bytes() returns.
  void add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
  void add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> ne,
                       std::span<const uint8_t> data);

  std::vector<uint8_t> to_bytes() const;
  // Writes atomically: to "<path>.tmp", then renames over `path`.
  void write(const std::filesystem::path& path) const;

 private:
  struct PendingTensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> owned;
    std::span<const uint8_t> data;
  };
  uint32_t alignment() const;
  template <class Sink>
  void emit(Sink& sink) const;

  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace qtr
