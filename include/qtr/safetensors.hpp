// safetensors reader: single files and sharded checkpoints (model.safetensors.index.json), memory-mapped.
//
// File layout: u64 (little-endian) header length N | N bytes of JSON | data buffer.
// The JSON maps tensor names to {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]} (offsets
// relative to the data buffer) and may hold "__metadata__": {string: string}.
// Every length and offset is checked against the file before use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qtr/blob.hpp"
#include "qtr/json.hpp"
#include "qtr/tensor.hpp"

namespace qtr {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;            // "F32", "BF16", ...: every dtype safetensors defines is recognised
  std::vector<int64_t> shape;   // row-major, outermost first, as PyTorch writes it
  std::span<const uint8_t> data;

  // The tensor as a TensorView (shape reversed into GGML order). Throws qtr::Error(unsupported) for dtypes qtr
  // cannot compute with (BOOL, U8, F8_*, ...), naming the tensor.
  TensorView view() const;
};

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the safetensors library's own limit

  static SafetensorsFile open(const std::filesystem::path& path);
  static SafetensorsFile parse(std::shared_ptr<const Blob> blob);

  const std::string& source() const { return blob_->name(); }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // in data-offset order
  const SafetensorsTensor* find(std::string_view name) const;

 private:
  std::shared_ptr<const Blob> blob_;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

// A Hugging Face checkpoint: one `model.safetensors`, or shards listed by `model.safetensors.index.json`, plus
// `config.json`.
class SafetensorsCheckpoint {
 public:
  // `path` is a checkpoint directory or a single .safetensors file.
  static SafetensorsCheckpoint open(const std::filesystem::path& path);

  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // Throws "<dir>: missing tensor 'name'".
  const SafetensorsTensor& require(std::string_view name) const;
  std::vector<std::string> tensor_names() const;
  // config.json of the directory (null Json when opened from a single file without one beside it).
  const Json& config() const { return config_; }
  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, std::pair<size_t, size_t>, std::less<>> index_;  // name -> (shard, tensor)
  Json config_;
};

// Bytes per element of a safetensors dtype, or nullopt when the dtype is unknown.
std::optional<size_t> safetensors_dtype_size(std::string_view dtype);

}  // namespace qtr
