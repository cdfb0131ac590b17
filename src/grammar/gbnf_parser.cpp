// GBNF text -> Grammar. A recursive-descent parser writes each rule's alternatives as items (byte sets and rule
// references); groups, character classes and repetition become anonymous rules (x* as r ::= x r | ε, x{m,n} as m
// copies then nested optionals), names are resolved once every rule is read, and the result is flattened into
// the symbol array and checked (grammar_checks.cpp). Errors carry the line and column of what caused them.
#include <cstring>
#include <unordered_map>

#include "grammar/grammar.hpp"
#include "grammar/grammar_build.hpp"
#include "grammar/utf8_ranges.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
 public:
  Parser(std::string_view text, const GbnfLimits& limits, RuleSet& out) : text_(text), limits_(limits), out_(out) {}

  void parse() {
    skip_space(true);
    while (pos_ < text_.size()) {
      parse_rule();
      skip_space(true);
    }
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& message) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw Error(Errc::invalid_argument, "grammar:" + std::to_string(line) + ":" + std::to_string(col) + ": " + message);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }

  // Skips spaces, tabs and # comments; newlines too when `newlines`.
  void skip_space(bool newlines) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  // At a newline at the top level: true (and past it) when the next non-blank line continues the rule with `|`.
  bool continues_on_next_line() {
    size_t save = pos_;
    skip_space(true);
    if (peek() == '|') return true;
    pos_ = save;
    return false;
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    if (pos_ == start) fail(pos_, std::string("expected a rule name, found ") + describe(peek()));
    return std::string(text_.substr(start, pos_ - start));
  }

  static std::string describe(char c) {
    if (c == '\0') return "the end of the grammar";
    if (c == '\n') return "a line break";
    return std::string("'") + c + "'";
  }

  void parse_rule() {
    const size_t name_pos = pos_;
    const std::string name = parse_name();
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") fail(pos_, "expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    const uint32_t id = out_.define(name, name_pos);
    if (id == kDuplicate) fail(name_pos, "rule '" + name + "' is defined twice");
    parse_alternates(id, 0);
    if (!at_end() && peek() != '\n' && peek() != '\r') {
      fail(pos_, "expected the end of the line after rule '" + name + "', found " + describe(peek()));
    }
  }

  void parse_alternates(uint32_t rule, int depth) {
    if (depth > limits_.max_nesting) fail(pos_, "groups nest deeper than " + std::to_string(limits_.max_nesting));
    out_.rules[rule].alternatives.emplace_back();
    parse_sequence(rule, depth);
    while (true) {
      if (peek() == '|') {
        ++pos_;
        skip_space(true);
        out_.rules[rule].alternatives.emplace_back();
        parse_sequence(rule, depth);
        continue;
      }
      if (depth == 0 && (peek() == '\n' || peek() == '\r') && continues_on_next_line()) continue;
      break;
    }
  }

  void parse_sequence(uint32_t rule, int depth) {
    while (!at_end()) {
      const char c = peek();
      if (c == '|' || c == ')' || c == '\n' || c == '\r') break;
      const size_t item_pos = pos_;
      Item item = parse_primary(depth);
      skip_space(depth > 0);
      item = parse_postfix(item, item_pos, depth);
      out_.rules[rule].alternatives.back().push_back(item);
      if (out_.item_count() > limits_.max_symbols) {
        throw Error(Errc::out_of_memory, "grammar: more than " + std::to_string(limits_.max_symbols) + " symbols");
      }
    }
    if (depth > 0 && at_end()) fail(pos_, "expected ')' before the end of the grammar");
  }

  Item parse_primary(int depth) {
    const char c = peek();
    const size_t start = pos_;
    if (c == '"') return parse_literal();
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return out_.class_item({{0, 0x10FFFF}}, false);
    }
    if (c == '(') {
      ++pos_;
      skip_space(true);
      const uint32_t group = out_.anonymous("group", start);
      parse_alternates(group, depth + 1);
      skip_space(true);
      if (peek() != ')') fail(pos_, "expected ')' to close the group opened at this rule");
      ++pos_;
      return Item::ref(group);
    }
    if (c == '<') fail(pos_, "token references (<...>) are not supported");
    if (is_name_char(c)) {
      const std::string name = parse_name();
      skip_space(false);
      if (text_.substr(pos_, 3) == "::=") fail(start, "expected the end of the line before the next rule '" + name + "'");
      return out_.named_ref(name, start);
    }
    fail(pos_, "unexpected " + describe(c));
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
      if (d < 0) fail(pos_, "expected " + std::to_string(digits) + " hexadecimal digits");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  // One code point of a literal or class, escapes decoded. `raw_byte` is set for \xHH above 0x7F (a byte).
  uint32_t parse_char(bool& raw_byte) {
    raw_byte = false;
    const size_t start = pos_;
    const auto b = static_cast<unsigned char>(peek());
    if (b == '\\') {
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'f': return '\f';
        case 'v': return '\v';
        case '0': return 0;
        case 'x': return parse_hex(2);
        case 'u': return check_scalar(parse_hex(4), start);
        case 'U': return check_scalar(parse_hex(8), start);
        default:
          if (e != '\0' && std::strchr("\\\"[]-^/.|()*+?{}'", e)) return static_cast<unsigned char>(e);
          fail(start, std::string("unknown escape '\\") + (e == '\0' ? std::string() : std::string(1, e)) + "'");
      }
    }
    // UTF-8 in the grammar text.
    const int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || pos_ + n > text_.size()) fail(pos_, "invalid UTF-8 in the grammar");
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n; ++k) {
      const auto cb = static_cast<unsigned char>(text_[pos_ + k]);
      if ((cb >> 6) != 2) fail(pos_, "invalid UTF-8 in the grammar");
      cp = (cp << 6) | (cb & 0x3F);
    }
    pos_ += n;
    return check_scalar(cp, start);
  }

  uint32_t check_scalar(uint32_t cp, size_t at) const {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(at, "not a Unicode scalar value");
    return cp;
  }

  Item parse_literal() {
    const size_t start = pos_;
    ++pos_;  // "
    std::vector<uint8_t> bytes;
    while (true) {
      if (at_end() || peek() == '\n') fail(start, "unterminated string literal");
      if (peek() == '"') {
        ++pos_;
        break;
      }
      const bool escaped_hex = peek() == '\\' && peek(1) == 'x';
      bool raw = false;
      const uint32_t cp = parse_char(raw);
      if (escaped_hex) {
        bytes.push_back(static_cast<uint8_t>(cp));  // \xHH is one byte, as in llama.cpp for ASCII
        if (cp >= 0x80) {  // llama.cpp reads \x80-\xFF as the code point; so do we
          bytes.pop_back();
          append_utf8(cp, bytes);
        }
      } else {
        append_utf8(cp, bytes);
      }
    }
    return out_.literal_item(bytes, start);
  }

  Item parse_class() {
    const size_t start = pos_;
    ++pos_;  // [
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    while (true) {
      if (at_end() || peek() == '\n') fail(start, "unterminated character class");
      if (peek() == ']') {
        ++pos_;
        break;
      }
      bool raw = false;
      const uint32_t lo = parse_char(raw);
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && peek(1) != '\0') {
        ++pos_;
        const size_t hi_pos = pos_;
        hi = parse_char(raw);
        if (hi < lo) fail(hi_pos, "character range is out of order");
      }
      ranges.emplace_back(lo, hi);
    }
    if (ranges.empty() && !negated) fail(start, "empty character class");
    return out_.class_item(std::move(ranges), negated);
  }

  uint32_t parse_count() {
    const size_t start = pos_;
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > limits_.max_repeat) fail(start, "repetition count above the limit of " + std::to_string(limits_.max_repeat));
      ++pos_;
    }
    return static_cast<uint32_t>(v);
  }

  Item parse_postfix(Item item, size_t item_pos, int depth) {
    while (true) {
      const char c = peek();
      const size_t op_pos = pos_;
      uint32_t min = 0, max = 0;
      bool unbounded = false;
      if (c == '*') {
        unbounded = true;
      } else if (c == '+') {
        min = 1;
        unbounded = true;
      } else if (c == '?') {
        max = 1;
      } else if (c == '{') {
        ++pos_;
        skip_space(false);
        const bool has_min = peek() >= '0' && peek() <= '9';
        min = has_min ? parse_count() : 0;
        skip_space(false);
        if (peek() == ',') {
          ++pos_;
          skip_space(false);
          if (peek() >= '0' && peek() <= '9') {
            max = parse_count();
          } else {
            unbounded = true;
          }
        } else {
          if (!has_min) fail(op_pos, "expected a count in {}");
          max = min;
        }
        skip_space(false);
        if (peek() != '}') fail(pos_, "expected '}' to close the repetition");
        if (!unbounded && max < min) fail(op_pos, "repetition {m,n} with n < m");
        // pos_ is at '}'
      } else {
        return item;
      }
      ++pos_;
      item = out_.repeat(item, min, unbounded ? kUnbounded : max, item_pos);
      skip_space(depth > 0);
    }
  }

  std::string_view text_;
  const GbnfLimits& limits_;
  RuleSet& out_;
  size_t pos_ = 0;
};

}  // namespace

Grammar parse_gbnf(std::string_view text, const GbnfLimits& limits) {
  if (text.size() > limits.max_source_bytes) {
    throw Error(Errc::out_of_memory, "grammar: the text is larger than " + std::to_string(limits.max_source_bytes) + " bytes");
  }
  RuleSet rules(text);
  Parser(text, limits, rules).parse();
  return rules.finish(limits);
}

bool gbnf_accepts(std::string_view gbnf, std::string_view text) { return grammar_accepts(parse_gbnf(gbnf), text); }

}  // namespace qtr::grammar
