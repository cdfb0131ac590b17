// Helpers shared by the entry points: versioned options structs, caller buffers, UTF-8 input checks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "qtr/utf8.hpp"
#include "status.hpp"

namespace qtr::capi {

// The smallest struct_size a released header had for each options struct (all of ABI 1 are their first layout).
// When a field is appended, the struct's minimum stays the size of its first release.
template <class T>
constexpr size_t min_struct_size() { return sizeof(T); }
// ABI 1 as first released ended qtr_model_options at use_mmap; matmul_inputs was appended.
template <>
constexpr size_t min_struct_size<qtr_model_options>() { return offsetof(qtr_model_options, matmul_inputs); }

// Reads a caller's options struct of any released size into `out` (already holding the defaults): the fields the
// caller's struct has are taken, the rest keep their defaults. Bytes past the fields this library knows (from a
// newer header) must be zero, i.e. the newer fields left at their "old behaviour" value.
template <class T>
void read_options(const T* user, T& out, const char* what) {
  if (user == nullptr) return;
  const size_t size = user->struct_size;
  if (size < min_struct_size<T>()) {
    invalid(std::string(what) + ": struct_size " + std::to_string(size) + " is smaller than any released " + what +
            " (" + std::to_string(min_struct_size<T>()) + " bytes); initialise it with its _default() function");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(user);
  for (size_t i = sizeof(T); i < size; ++i) {
    if (bytes[i] != 0) {
      fail(QTR_ERR_UNSUPPORTED, std::string(what) + ": byte " + std::to_string(i) +
                                    " is set, but this qtr library (ABI " + std::to_string(QTR_ABI_VERSION) +
                                    ") knows only the first " +
                                    std::to_string(sizeof(T)) + " bytes of this struct; update libqtr");
    }
  }
  std::memcpy(static_cast<void*>(&out), user, std::min(size, sizeof(T)));  // an older struct: the rest stay defaults
  out.struct_size = sizeof(T);
}

// Writes `defaults` into a caller's struct of struct_size bytes (zeroing bytes past the fields this library knows).
template <class T>
void init_options(T* user, size_t struct_size, const T& defaults, const char* what) {
  if (user == nullptr) invalid(std::string(what) + " is NULL");
  if (struct_size < min_struct_size<T>()) {
    invalid(std::string(what) + ": struct_size " + std::to_string(struct_size) + " is smaller than any released " +
            what + " (" + std::to_string(min_struct_size<T>()) + " bytes)");
  }
  std::memset(static_cast<void*>(user), 0, struct_size);
  std::memcpy(static_cast<void*>(user), &defaults, std::min(struct_size, sizeof(T)));
  user->struct_size = struct_size;
}

// Copies an info struct into a caller's struct of user->struct_size bytes.
template <class T>
void write_info(T* user, const T& info, const char* what) {
  if (user == nullptr) invalid(std::string(what) + " is NULL");
  const size_t size = user->struct_size;
  if (size < sizeof(size_t)) invalid(std::string(what) + ": struct_size " + std::to_string(size) + " is too small");
  auto* bytes = reinterpret_cast<unsigned char*>(user);
  const size_t known = std::min(size, sizeof(T));
  std::memcpy(bytes + sizeof(size_t), reinterpret_cast<const unsigned char*>(&info) + sizeof(size_t),
              known - sizeof(size_t));
  if (size > known) std::memset(bytes + known, 0, size - known);
}

// The integer value of an enum a C caller passed. C allows any int there; in C++ loading a value outside the enum's
// range is undefined, so the value is read through its bytes.
template <class Enum>
int enum_value(const Enum& e) {
  static_assert(sizeof(Enum) == sizeof(int));
  int value;
  std::memcpy(&value, &e, sizeof value);
  return value;
}

inline void require(const void* pointer, const char* what) {
  if (pointer == nullptr) invalid(std::string(what) + " is NULL");
}

// A caller's output buffer: NULL only with capacity 0 (a size query).
inline void check_buffer(const void* buffer, size_t capacity, const char* what) {
  if (buffer == nullptr && capacity != 0) {
    invalid(std::string(what) + " is NULL but its capacity is " + std::to_string(capacity));
  }
}

// Writes `values` to a caller's array, or reports the count needed.
template <class T>
void write_array(const std::vector<T>& values, T* out, size_t capacity, size_t* count, const char* what) {
  *count = values.size();
  if (values.size() > capacity) {
    fail(QTR_ERR_BUFFER_TOO_SMALL, "buffer too small: need " + std::to_string(values.size()) + " " + what +
                                       ", capacity is " + std::to_string(capacity));
  }
  if (!values.empty()) std::memcpy(out, values.data(), values.size() * sizeof(T));
}

// Writes NUL-terminated text to a caller's buffer (length + 1 bytes), or reports the length.
inline void write_text(const std::string& text, char* out, size_t capacity, size_t* length) {
  *length = text.size();
  if (text.size() >= capacity) {
    fail(QTR_ERR_BUFFER_TOO_SMALL, "buffer too small: the text is " + std::to_string(text.size()) +
                                       " bytes and needs " + std::to_string(text.size() + 1) +
                                       " with its NUL, capacity is " + std::to_string(capacity));
  }
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
}

// Throws invalid_argument naming `what` and the byte offset when `text` is not valid UTF-8.
inline void check_utf8(std::string_view text, const std::string& what) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = utf8::valid_sequence_length(text.substr(i));
    if (n == 0) invalid(what + " is not valid UTF-8 (at byte " + std::to_string(i) + ")");
    i += n;
  }
}

// A NUL-terminated input string that must be valid UTF-8.
inline std::string_view c_string(const char* text, const std::string& what) {
  if (text == nullptr) invalid(what + " is NULL");
  const std::string_view view(text);
  check_utf8(view, what);
  return view;
}

}  // namespace qtr::capi
