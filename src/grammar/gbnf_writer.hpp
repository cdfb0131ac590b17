// GbnfWriter — builds GBNF source text rule by rule. The JSON Schema and regex compilers emit GBNF through it, so
// every constraint reaches the matcher through one parser (gbnf_parser.cpp) and one internal form (grammar.hpp).
//
// The dialect is llama.cpp's GBNF (docs/structured-output.md): `name ::= alternatives`, "literals" with \n \r \t
// \\ \" \xHH \uHHHH \UHHHHHHHH escapes, [code point classes] and [^negated] ones, `.` (any code point), ( groups ),
// the postfix operators * + ? {m} {m,} {m,n}, and # comments. Literals and classes are code points (UTF-8 in the
// text); the parser lowers them to bytes. Rule names are [A-Za-z0-9_-]+; the root rule is `root`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qtr::grammar {

// A GBNF string literal for `bytes` (taken as UTF-8; other bytes as \xHH): "a\"b".
std::string gbnf_literal(std::string_view bytes);
// A GBNF character class for the code point ranges [lo, hi] (inclusive), e.g. [a-z0-9] or [^"\\].
std::string gbnf_class(const std::vector<std::pair<uint32_t, uint32_t>>& ranges, bool negated = false);

class GbnfWriter {
 public:
  // Adds a rule and returns its name: `hint` made a valid rule name, with a numeric suffix when taken. A body
  // already added under another name is not added again: the earlier rule's name is returned.
  std::string add(std::string_view hint, std::string body);
  // Defines `root` (once).
  void set_root(std::string body);
  // `root ::= ...` first, then the rules in the order they were added.
  std::string text() const;
  size_t rule_count() const { return rules_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::pair<std::string, std::string>> rules_;  // (name, body)
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<std::string, std::string> by_body_;
  std::string root_;
  size_t bytes_ = 0;
};

}  // namespace qtr::grammar
