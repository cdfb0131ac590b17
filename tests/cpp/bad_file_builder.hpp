// Byte-level builders for handcrafted (usually broken) model files: raw GGUF, safetensors and SentencePiece
// protobuf bytes, plus a temporary directory and an assertion that a qtr::Error with a given message is thrown.
// Used by test_hostile_files.cpp.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/error.hpp"
#include "qtr/gguf.hpp"

namespace qtr::hostile {

// Little-endian byte accumulator with a fluent interface.
class Bytes {
 public:
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u16(uint16_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& i32(int32_t v) { return put(v); }
  Bytes& f32(float v) { return put(v); }
  Bytes& raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  Bytes& zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  Bytes& pad_to(size_t alignment) { return zeros((alignment - bytes_.size() % alignment) % alignment); }

  // GGUF pieces: a string is u64 length + bytes; a type is a u32.
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  Bytes& type(GgufType t) { return u32(static_cast<uint32_t>(t)); }
  // A metadata entry's key and value type; the caller appends the value.
  Bytes& key(std::string_view k, GgufType t) { return str(k).type(t); }
  // A tensor info record: name, dims (GGML order), type id, data offset.
  Bytes& tensor(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type_id, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type_id).u64(offset);
  }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  template <class T>
  Bytes& put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));  // the project only builds on little-endian hosts
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

// "GGUF" | version | n_tensors | n_kv.
inline Bytes gguf_header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes b;
  b.u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);  // "GGUF"
  return b;
}

// u64 header length | header JSON | data.
inline std::vector<uint8_t> safetensors_bytes(std::string_view header, const std::vector<uint8_t>& data) {
  Bytes b;
  b.u64(header.size()).raw(header).raw(data);
  return b.take();
}

// Protocol-buffer encoder for the few wire types a SentencePiece ModelProto uses.
class Proto {
 public:
  Proto& varint(uint64_t v) {
    do {
      uint8_t byte = v & 0x7F;
      v >>= 7;
      if (v) byte |= 0x80;
      bytes_.push_back(byte);
    } while (v);
    return *this;
  }
  Proto& key(uint32_t field, uint32_t wire) { return varint((uint64_t{field} << 3) | wire); }
  Proto& field_varint(uint32_t field, uint64_t v) { return key(field, 0).varint(v); }
  Proto& bytes(uint32_t field, std::string_view s) {
    key(field, 2).varint(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Proto& message(uint32_t field, const Proto& m) {
    return bytes(field, std::string_view(reinterpret_cast<const char*>(m.bytes_.data()), m.bytes_.size()));
  }
  Proto& fixed32(uint32_t field, float f) {
    key(field, 5);
    uint8_t b[4];
    std::memcpy(b, &f, 4);
    bytes_.insert(bytes_.end(), b, b + 4);
    return *this;
  }
  Proto& raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  const std::vector<uint8_t>& data() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// A fresh temporary directory, removed with everything in it when the object goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "qtr-hostile-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const auto p = path_ / name;
    // Replace rather than truncate: truncating a file that still has dirty pages makes ext4 flush them (slow).
    std::filesystem::remove(p);
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + p.string());
    return p;
  }
  std::filesystem::path write(const std::string& name, std::string_view text) const {
    return write(name, std::vector<uint8_t>(text.begin(), text.end()));
  }

 private:
  std::filesystem::path path_;
};

// What running a statement threw.
struct Caught {
  enum class Kind { nothing, qtr_error, other_exception } kind = Kind::nothing;
  Errc code = Errc::internal;
  std::string message;
};

template <class F>
Caught catch_error(F&& f) {
  Caught c;
  try {
    f();
  } catch (const Error& e) {
    c.kind = Caught::Kind::qtr_error;
    c.code = e.code();
    c.message = e.what();
  } catch (const std::exception& e) {
    c.kind = Caught::Kind::other_exception;
    c.message = e.what();
  }
  return c;
}

// Calls `check(corrupted, position)` for every copy of `original` with one byte replaced by 0x00, 0xFF, 0x80 or
// itself with the low bit flipped (copies equal to the original are skipped).
template <class F>
void for_each_corruption(const std::vector<uint8_t>& original, F&& check) {
  for (size_t i = 0; i < original.size(); ++i) {
    const uint8_t values[] = {0x00, 0xFF, 0x80, static_cast<uint8_t>(original[i] ^ 0x01)};
    for (uint8_t v : values) {
      if (v == original[i]) continue;
      std::vector<uint8_t> copy = original;
      copy[i] = v;
      check(std::move(copy), i);
    }
  }
}

inline const char* kind_name(Caught::Kind k) {
  switch (k) {
    case Caught::Kind::nothing: return "nothing was thrown";
    case Caught::Kind::qtr_error: return "qtr::Error";
    case Caught::Kind::other_exception: return "a std::exception that is not a qtr::Error";
  }
  return "?";
}

}  // namespace qtr::hostile

// Expects `statement` to throw a qtr::Error whose message contains `substring`.
#define EXPECT_QTR_ERROR(statement, substring)                                                               \
  do {                                                                                                       \
    const ::qtr::hostile::Caught caught_ = ::qtr::hostile::catch_error([&] { (void)(statement); });          \
    EXPECT_EQ(caught_.kind, ::qtr::hostile::Caught::Kind::qtr_error)                                         \
        << #statement << ": " << ::qtr::hostile::kind_name(caught_.kind) << " (" << caught_.message << ")"; \
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, substring, caught_.message);                                 \
  } while (0)

// The same, also checking the error category.
#define EXPECT_QTR_ERROR_CODE(statement, errc, substring)                                                    \
  do {                                                                                                       \
    const ::qtr::hostile::Caught caught_ = ::qtr::hostile::catch_error([&] { (void)(statement); });          \
    EXPECT_EQ(caught_.kind, ::qtr::hostile::Caught::Kind::qtr_error)                                         \
        << #statement << ": " << ::qtr::hostile::kind_name(caught_.kind) << " (" << caught_.message << ")"; \
    EXPECT_EQ(::qtr::errc_name(caught_.code), ::qtr::errc_name(errc)) << caught_.message;                    \
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, substring, caught_.message);                                 \
  } while (0)
