// UTF-8 helpers shared by the readers (key validation) and the tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qtr::utf8 {

// Length in bytes of the sequence a lead byte announces: 1..4, or 0 for a byte that cannot start a sequence.
inline size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte or overlong 2-byte lead
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Length of the valid UTF-8 sequence starting at s[0], or 0 when it is invalid or incomplete.
size_t valid_sequence_length(std::string_view s);

// True when the whole string is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (must be <= 0x10FFFF and not a surrogate).
void append(std::string& out, char32_t cp);

// Decodes one valid sequence at s[0] (caller checked it with valid_sequence_length).
char32_t decode(std::string_view s, size_t length);

}  // namespace qtr::utf8
