// The internal form of every constraint: a context-free grammar over bytes, and its parser from GBNF text.
//
// GBNF literals and classes are code points; parse_gbnf lowers them to byte sets (one UTF-8 byte sequence per code
// point range piece), desugars groups and repetition into rules, and checks the result: undefined and unused rules,
// left recursion (which the matcher's expansion cannot run), and a root that derives no finite string.
//
// Layout: all alternatives of all rules live in one flat symbol array. A position is an index into it; each
// alternative ends with an `end` symbol, so "the next symbol" is always position + 1.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qtr::grammar {

// 256 bits: the bytes a terminal accepts.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  void add_range(uint8_t lo, uint8_t hi) { for (unsigned b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b)); }
  bool empty() const { return (bits[0] | bits[1] | bits[2] | bits[3]) == 0; }
  bool operator==(const ByteSet&) const = default;
};

struct Symbol {
  enum Kind : uint8_t { end, bytes, rule };
  Kind kind = end;
  uint32_t index = 0;  // bytes: into Grammar::sets; rule: into Grammar::rules
};

struct Rule {
  std::string name;
  std::vector<uint32_t> alternatives;  // start positions in Grammar::symbols
  bool nullable = false;               // derives the empty string
};

struct Grammar {
  std::vector<Symbol> symbols;  // every alternative, each ending with Symbol::end
  std::vector<ByteSet> sets;
  std::vector<Rule> rules;
  uint32_t root = 0;
};

struct GbnfLimits {
  size_t max_source_bytes = size_t{16} << 20;
  size_t max_symbols = size_t{8} << 20;   // after desugaring
  uint32_t max_repeat = 10000;            // largest {m,n} bound
  int max_nesting = 256;                  // parentheses
  bool allow_unused_rules = false;        // unused rules are an error unless this is set
};

// Parses GBNF (see gbnf_writer.hpp for the dialect). Throws qtr::Error(invalid_argument) "grammar:LINE:COL: ..."
// for syntax errors, undefined or unused rules, left recursion and an empty language; out_of_memory past a limit.
Grammar parse_gbnf(std::string_view text, const GbnfLimits& limits = {});

// True when the grammar derives exactly `text` (a whole-string test, for tests and --check).
bool grammar_accepts(const Grammar& grammar, std::string_view text);

// Convenience for tests: parse_gbnf(gbnf) then grammar_accepts.
bool gbnf_accepts(std::string_view gbnf, std::string_view text);

}  // namespace qtr::grammar
