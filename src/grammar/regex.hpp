// Regular expressions (the ECMAScript subset that JSON Schema's `pattern` uses) lowered to GBNF rules, so that a
// regex constraint, a schema's `pattern` and `patternProperties` all reach the matcher as grammar.
//
// Supported: literals, `.`, classes `[a-z]` `[^...]` with ranges and the escapes \d \D \w \W \s \S inside and
// outside them, groups `( )` and `(?: )`, named groups `(?<n> )`, alternation `|`, the quantifiers * + ? {m} {m,}
// {m,n} (and their lazy forms, which match the same strings), the escapes \t \n \r \f \v \0 \xHH \uHHHH \u{H...}
// and escaped punctuation, `^` at the start and `$` at the end. Refused (Errc::unsupported, naming the construct
// and its offset): backreferences, lookahead/lookbehind, \b \B, anchors elsewhere, flags. Invalid syntax is
// Errc::invalid_argument "regex: <what> at offset N".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grammar/gbnf_writer.hpp"

namespace qtr::grammar {

// Inclusive code point ranges, sorted and disjoint.
using CodePointSet = std::vector<std::pair<uint32_t, uint32_t>>;

enum class RegexEncoding {
  raw,          // the matched text itself, as UTF-8
  json_string,  // the characters as they are written inside a JSON string literal, without the quotes: `"` as
                // \", `\` as \\, control characters as \n \t ... or \u00XX, `/` also as \/, other characters raw
};

struct RegexOptions {
  RegexEncoding encoding = RegexEncoding::raw;
  // false: the whole text must match (a --regex constraint). true: JSON Schema's `pattern` semantics, a match
  // anywhere in the text unless `^` / `$` anchor it.
  bool search = false;
  uint32_t max_repeat = 1000;      // largest {m,n} bound accepted
  size_t max_pattern_bytes = 1 << 16;
};

// Adds the rules for `pattern` to `out` and returns a GBNF expression (usually one rule name) whose language is
// the pattern's, in the chosen encoding.
std::string regex_to_gbnf(std::string_view pattern, const RegexOptions& options, GbnfWriter& out);

// A GBNF expression for one character from `set`, in `encoding` (json_string: every way json.dumps or a JSON
// parser's input may write it, as above).
std::string char_set_to_gbnf(const CodePointSet& set, RegexEncoding encoding, GbnfWriter& out);

}  // namespace qtr::grammar
