// Blob — an immutable byte range that owns its storage: a read-only memory map of a file, or an owned buffer.
//
// Readers (GGUF, safetensors) parse a Blob and hand out views into it; they keep a shared_ptr so views stay valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace qtr {

class Blob {
 public:
  // Maps `path` read-only. Throws qtr::Error(io) naming the path when it cannot be opened or mapped.
  static std::shared_ptr<const Blob> map_file(const std::filesystem::path& path);
  // Reads `path` into memory (no mapping: the file may change or go away afterwards). Throws like map_file.
  static std::shared_ptr<const Blob> read_file(const std::filesystem::path& path);
  // Takes ownership of `bytes`; `name` is used in error messages in place of a path.
  static std::shared_ptr<const Blob> from_bytes(std::vector<uint8_t> bytes, std::string name);

  ~Blob();
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  Blob() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<uint8_t> owned_;
  std::string name_;
};

}  // namespace qtr
