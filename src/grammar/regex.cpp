// Regex → GBNF: lowers the normal-form AST of regex_ast.hpp (built by regex_parse.cpp) to one GBNF expression.
//
// The AST has no empty loops and no recursion, so the output is a single rule per pattern (plus one per distinct
// JSON-encoded character set, and one per long subexpression the nullable rewrite duplicates), written with GBNF's
// groups and postfix operators for the grammar parser to desugar. Runs of single characters become one literal.
//
// search = true wraps each top-level branch in "any character" loops on the sides its ^ / $ leave open, so the text
// only has to contain a match. In the json_string encoding every character set becomes the ways JSON may write its
// members inside a string literal: raw (except `"`, `\` and controls), the short escapes \" \\ \/ \b \f \n \r \t,
// and \u00XX (either case) for controls. Non-ASCII characters are matched raw (UTF-8) only, never as \uXXXX.
#include <unordered_map>

#include "grammar/regex.hpp"
#include "grammar/regex_ast.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar {
namespace {

using regex_detail::Ast;
using regex_detail::kUnbounded;
using regex_detail::Node;
using regex_detail::normalize_set;

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Characters that stand for themselves in the encoding (and so may join a literal run).
bool plain(uint32_t cp, RegexEncoding encoding) {
  return encoding == RegexEncoding::raw || (cp >= 0x20 && cp != '"' && cp != '\\' && cp != '/');
}

// A set matched by its members written raw: a literal, `.`, or the shorter of the class and its complement.
std::string raw_class(const CodePointSet& set) {
  if (set.size() == 1 && set[0].first == set[0].second) return gbnf_literal(utf8(set[0].first));
  const CodePointSet complement = normalize_set(set, true);
  if (complement.empty()) return ".";
  return complement.size() < set.size() ? gbnf_class(complement, true) : gbnf_class(set);
}

// The hex digits (both cases) for the nibble values in `mask`.
std::string hex_class(uint32_t mask) {
  CodePointSet digits;
  for (uint32_t v = 0; v < 16; ++v) {
    if (!((mask >> v) & 1)) continue;
    if (v < 10) {
      digits.emplace_back('0' + v, '0' + v);
    } else {
      digits.emplace_back('a' + v - 10, 'a' + v - 10);
      digits.emplace_back('A' + v - 10, 'A' + v - 10);
    }
  }
  return raw_class(normalize_set(std::move(digits)));
}

std::string json_char_set(const CodePointSet& set, GbnfWriter& out) {
  auto has = [&set](uint32_t cp) {
    for (const auto& [lo, hi] : set)
      if (cp >= lo && cp <= hi) return true;
    return false;
  };
  std::vector<std::string> alts;
  const CodePointSet raw = normalize_set([&] {  // set minus controls, '"' and '\'
    CodePointSet excluded = normalize_set({{0x00, 0x1F}, {'"', '"'}, {'\\', '\\'}}, true), r;
    for (const auto& [a, b] : set)
      for (const auto& [c, d] : excluded)
        if (std::max(a, c) <= std::min(b, d)) r.emplace_back(std::max(a, c), std::min(b, d));
    return r;
  }());
  if (!raw.empty()) alts.push_back(raw_class(raw));
  // After a backslash: the short escapes, then \u00XX for controls.
  static constexpr std::pair<uint32_t, char> kShort[] = {{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {0x08, 'b'},
                                                         {0x0C, 'f'}, {0x0A, 'n'}, {0x0D, 'r'}, {0x09, 't'}};
  CodePointSet letters;
  for (const auto& [cp, letter] : kShort)
    if (has(cp)) letters.emplace_back(static_cast<uint8_t>(letter), static_cast<uint8_t>(letter));
  uint32_t low_mask[2] = {0, 0};
  for (uint32_t cp = 0; cp < 0x20; ++cp)
    if (has(cp)) low_mask[cp >> 4] |= 1u << (cp & 15);
  std::vector<std::string> escapes;
  if (!letters.empty()) escapes.push_back(raw_class(normalize_set(std::move(letters))));
  if (low_mask[0] != 0 && low_mask[0] == low_mask[1]) {
    escapes.push_back("\"u00\" [01] " + hex_class(low_mask[0]));
  } else {
    for (int hi = 0; hi < 2; ++hi)
      if (low_mask[hi] != 0) escapes.push_back("\"u00" + std::to_string(hi) + "\" " + hex_class(low_mask[hi]));
  }
  if (escapes.size() == 1 && low_mask[0] == 0 && low_mask[1] == 0 && escapes[0][0] == '"') {
    alts.push_back("\"\\\\" + escapes[0].substr(1));  // one short escape: a single literal, "\\n"
  } else if (escapes.size() == 1) {
    alts.push_back("\"\\\\\" " + escapes[0]);
  } else if (!escapes.empty()) {
    std::string e = "\"\\\\\" (";
    for (size_t k = 0; k < escapes.size(); ++k) e += (k ? " | " : "") + escapes[k];
    alts.push_back(e + ")");
  }
  if (alts.size() == 1 && alts[0].find(' ') == std::string::npos) return alts[0];
  std::string body;
  for (size_t k = 0; k < alts.size(); ++k) body += (k ? " | " : "") + alts[k];
  return out.add("json-char", body);
}

struct Expr {
  std::string text;
  int prec = 2;  // 2: takes a postfix operator as is; 1: a sequence; 0: an alternation
};

class Emitter {
 public:
  Emitter(const Ast& ast, RegexEncoding encoding, GbnfWriter& out)
      : ast_(ast), encoding_(encoding), out_(out), uses_(ast.size(), 0) {}

  Expr root(int id) {
    count(id);
    return emit(id);
  }

 private:
  void count(int id) {
    if (uses_[static_cast<size_t>(id)]++ > 0) return;
    for (int k : ast_[id].kids) count(k);
  }

  Expr emit(int id) {
    if (auto it = memo_.find(id); it != memo_.end()) return it->second;
    Expr e = build(ast_[id]);
    if (uses_[static_cast<size_t>(id)] > 1 && e.text.size() > 24) e = {out_.add("regex-part", e.text), 2};
    memo_[id] = e;
    return e;
  }

  Expr build(const Node& n) {
    switch (n.kind) {
      case Node::set: return {char_set_to_gbnf(n.chars, encoding_, out_), 2};
      case Node::concat: {
        std::vector<std::string> parts;
        std::string run;
        size_t run_chars = 0;
        int prec = 2;
        auto flush = [&] {
          if (run_chars == 0) return;
          parts.push_back(gbnf_literal(run));
          if (run_chars > 1) prec = 1;
          run.clear();
          run_chars = 0;
        };
        for (int k : n.kids) {
          const Node& kid = ast_[k];
          if (kid.kind == Node::set && kid.chars.size() == 1 && kid.chars[0].first == kid.chars[0].second &&
              plain(kid.chars[0].first, encoding_)) {
            run += utf8(kid.chars[0].first);
            ++run_chars;
            continue;
          }
          flush();
          const Expr e = emit(k);
          parts.push_back(e.prec == 0 ? "(" + e.text + ")" : e.text);
        }
        flush();
        if (parts.size() > 1) prec = 1;
        std::string text;
        for (size_t k = 0; k < parts.size(); ++k) text += (k ? " " : "") + parts[k];
        return {text, prec};
      }
      case Node::alt: {
        std::string text;
        for (size_t k = 0; k < n.kids.size(); ++k) text += (k ? " | " : "") + emit(n.kids[k]).text;
        return {text, 0};
      }
      case Node::repeat: {
        const Expr body = emit(n.kids[0]);
        std::string text = body.prec == 2 ? body.text : "(" + body.text + ")";
        if (n.min == 0 && n.max == 1) text += "?";
        else if (n.min == 0 && n.max == kUnbounded) text += "*";
        else if (n.min == 1 && n.max == kUnbounded) text += "+";
        else if (n.min == n.max) text += "{" + std::to_string(n.min) + "}";
        else if (n.max == kUnbounded) text += "{" + std::to_string(n.min) + ",}";
        else text += "{" + std::to_string(n.min) + "," + std::to_string(n.max) + "}";
        return {text, 2};
      }
      default: return {"\"\"", 2};  // empty (fail never reaches here)
    }
  }

  const Ast& ast_;
  RegexEncoding encoding_;
  GbnfWriter& out_;
  std::vector<int> uses_;
  std::unordered_map<int, Expr> memo_;
};

bool is_rule_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

std::string char_set_to_gbnf(const CodePointSet& set, RegexEncoding encoding, GbnfWriter& out) {
  const CodePointSet s = normalize_set(set);
  if (s.empty()) throw Error(Errc::invalid_argument, "regex: an empty character set matches nothing");
  return encoding == RegexEncoding::raw ? raw_class(s) : json_char_set(s, out);
}

std::string regex_to_gbnf(std::string_view pattern, const RegexOptions& options, GbnfWriter& out) {
  Ast ast;
  const regex_detail::ParsedRegex parsed = regex_detail::parse_regex(pattern, options, ast);
  int root;
  if (!options.search) {
    std::vector<int> branches;
    for (const auto& b : parsed.branches) branches.push_back(b.node);
    root = ast.alt(std::move(branches));
  } else {
    // Unanchored sides take any text: (any)* body (any)*, per branch; the unanchored branches share one pair.
    const int any = ast.repeat(ast.chars({{0, regex_detail::kMaxCodePoint}}), 0, kUnbounded);
    std::vector<int> branches, floating;
    for (const auto& b : parsed.branches) {
      if (!b.anchored_start && !b.anchored_end) { floating.push_back(b.node); continue; }
      std::vector<int> seq;
      if (!b.anchored_start) seq.push_back(any);
      seq.push_back(b.node);
      if (!b.anchored_end) seq.push_back(any);
      branches.push_back(ast.concat(std::move(seq)));
    }
    if (!floating.empty()) {
      const int body = ast.alt(std::move(floating));
      branches.push_back(ast[body].nullable ? any : ast.concat({any, body, any}));
    }
    root = ast.alt(std::move(branches));
  }
  if (ast[root].kind == Node::fail) throw Error(Errc::invalid_argument, "regex: the pattern matches no string");
  const Expr e = Emitter(ast, options.encoding, out).root(root);
  return is_rule_name(e.text) ? e.text : out.add("regex", e.text);
}

}  // namespace qtr::grammar
