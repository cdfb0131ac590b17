// Overflow-checked arithmetic and a bounds-checked little-endian byte reader.
//
// Everything read from a model file goes through ByteReader: a field is only used after its bytes were checked to
// lie inside the buffer, and every size computed from fields goes through checked_mul / checked_add.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "qtr/error.hpp"

namespace qtr::io {

[[noreturn]] inline void fail_format(const std::string& message) { throw Error(Errc::bad_format, message); }

inline uint64_t checked_mul(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) fail_format(std::string("integer overflow computing ") + what);
  return r;
}

inline uint64_t checked_add(uint64_t a, uint64_t b, const char* what) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) fail_format(std::string("integer overflow computing ") + what);
  return r;
}

// Rounds `value` up to a multiple of `alignment` (a power of two); throws on overflow.
inline uint64_t align_up(uint64_t value, uint64_t alignment, const char* what) {
  return checked_add(value, alignment - 1, what) & ~(alignment - 1);
}

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string source) : bytes_(bytes), source_(std::move(source)) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  size_t size() const { return bytes_.size(); }
  const std::string& source() const { return source_; }

  // Throws a "truncated" error unless `n` more bytes are available.
  void require(uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      fail_format(source_ + ": truncated file: " + std::string(what) + " needs " + std::to_string(n) +
                  " bytes at offset " + std::to_string(offset_) + " but only " + std::to_string(remaining()) +
                  " remain");
    }
  }

  template <class T>
  T read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));  // little-endian hosts only (checked in CMake)
    offset_ += sizeof(T);
    return value;
  }

  std::span<const uint8_t> read_bytes(uint64_t n, std::string_view what) {
    require(n, what);
    auto out = bytes_.subspan(offset_, static_cast<size_t>(n));
    offset_ += static_cast<size_t>(n);
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  std::string source_;
  size_t offset_ = 0;
};

}  // namespace qtr::io
