// Code point ranges as UTF-8 byte-range sequences: the bridge from GBNF's character classes (code points) to the
// byte-level grammar the matcher runs. Surrogates (U+D800-U+DFFF) are never encoded.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace qtr::grammar {

// One UTF-8 encoded length's worth of a range: byte i of a matching sequence lies in [ranges[i].first, .second].
using ByteRangeSeq = std::vector<std::pair<uint8_t, uint8_t>>;

// Appends to `out` sequences whose union is exactly the UTF-8 encodings of the code points in [lo, hi].
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteRangeSeq>& out);

// Sorted, merged copy of `ranges`; with `negate`, the complement within [0, 0x10FFFF].
std::vector<std::pair<uint32_t, uint32_t>> normalize_ranges(std::vector<std::pair<uint32_t, uint32_t>> ranges,
                                                            bool negate);

// Appends the UTF-8 encoding of `cp` (which must be a valid scalar value).
void append_utf8(uint32_t cp, std::vector<uint8_t>& out);

}  // namespace qtr::grammar
