// qtr::Error — the one exception type the library throws.
//
// Library code never calls exit/abort: every failure becomes a qtr::Error carrying a category (mapped to an error
// code by the C API) and a message that names the file, key or tensor involved.
#pragma once

#include <stdexcept>
#include <string>

namespace qtr {

enum class Errc {
  invalid_argument,  // the caller passed something wrong (bad option, token id out of range, ...)
  bad_format,        // a file's bytes do not form a valid GGUF / safetensors / JSON / tokenizer
  unsupported,       // recognised but not implemented (tensor type, architecture, GGUF version)
  io,                // the operating system refused (open, mmap, write)
  out_of_memory,     // an allocation or a fixed budget ran out
  internal,          // a bug in qtr
};

const char* errc_name(Errc code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace qtr
