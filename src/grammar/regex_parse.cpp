// The regex parser: ECMAScript pattern syntax (the subset regex.hpp lists) to the normal-form AST of regex_ast.hpp.
//
// It reads code points (the pattern must be valid UTF-8) by recursive descent, with the Annex B leniencies that
// JSON Schema patterns in the wild rely on: a `{` that does not start a quantifier is a literal, as are lone `}`
// and `]`; escaped punctuation and non-ASCII are identity escapes; a class escape next to `-` inside a class
// (`[\w-.]`) makes the `-` literal. Everything else ECMAScript calls a syntax error is invalid_argument here; what
// it accepts but a context-free grammar over the text cannot express (backreferences, lookaround, \b \B, anchors
// away from the ends) is unsupported. Anchors: `^` may begin and `$` may end each top-level branch.
#include <algorithm>
#include <map>
#include <string>

#include "grammar/regex_ast.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar::regex_detail {
namespace {

constexpr double kMaxWeight = double{1 << 20};
constexpr int kMaxNesting = 256;

[[noreturn]] void fail_at(Errc code, const std::string& what, size_t offset) {
  throw Error(code, "regex: " + what + " at offset " + std::to_string(offset));
}

CodePointSet digit_set() { return {{'0', '9'}}; }
CodePointSet word_set() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
CodePointSet space_set() {
  return {{0x09, 0x0D}, {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}
CodePointSet dot_set() { return normalize_set({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}, true); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One class member or escape: a single code point, or a set (\d, \w, ...).
struct Item {
  bool is_set = false;
  uint32_t cp = 0;
  CodePointSet set;
};

class Parser {
 public:
  Parser(std::string_view pattern, const RegexOptions& options, Ast& ast) : p_(pattern), opt_(options), ast_(ast) {}

  ParsedRegex parse() {
    ParsedRegex out;
    double weight = 0;
    for (;;) {
      Branch b;
      b.node = sequence(&b);
      out.branches.push_back(b);
      check_weight(weight += ast_[b.node].weight, i_);
      if (i_ < p_.size() && p_[i_] == '|') { ++i_; continue; }
      if (i_ < p_.size()) fail_at(Errc::invalid_argument, "unbalanced parenthesis", i_);  // a ')'
      return out;
    }
  }

 private:
  bool at(char c) const { return i_ < p_.size() && p_[i_] == c; }

  // Decodes the code point at i_ and advances past it.
  uint32_t next_code_point() {
    const auto b = static_cast<unsigned char>(p_[i_]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i_ + n > p_.size()) fail_at(Errc::invalid_argument, "invalid UTF-8", i_);
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(p_[i_ + k]);
      if ((c >> 6) != 2) fail_at(Errc::invalid_argument, "invalid UTF-8", i_);
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
      fail_at(Errc::invalid_argument, "invalid UTF-8", i_);
    i_ += n;
    return cp;
  }

  int alternation() {
    std::vector<int> kids{sequence(nullptr)};
    while (at('|')) {
      ++i_;
      kids.push_back(sequence(nullptr));
    }
    const int node = ast_.alt(std::move(kids));
    check_weight(ast_[node].weight, i_);
    return node;
  }

  static void check_weight(double weight, size_t offset) {
    if (weight > kMaxWeight)
      fail_at(Errc::out_of_memory, "the pattern expands past " + std::to_string(int64_t{1} << 20) +
              " grammar elements", offset);
  }

  // A concatenation up to `|`, `)` or the end. `top` is the branch when at the top level (anchors allowed).
  int sequence(Branch* top) {
    std::vector<int> items;
    size_t end_anchor = 0;
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      const size_t start = i_;
      const char c = p_[i_];
      if (top && top->anchored_end && c != '$')
        fail_at(Errc::unsupported, "anchor $ before the end of the pattern", end_anchor);
      if (c == '^' || c == '$') {
        ++i_;
        if (quantifier_at(i_)) fail_at(Errc::invalid_argument, "nothing to repeat", i_);
        if (c == '^' && top && items.empty() && !top->anchored_end) {
          top->anchored_start = true;
        } else if (c == '$' && top) {
          if (!top->anchored_end) end_anchor = start;
          top->anchored_end = true;
        } else {
          fail_at(Errc::unsupported,
                  std::string("anchor ") + c + (top ? " after the start of the pattern" : " inside a group"), start);
        }
        continue;
      }
      int node = atom();
      if (quantifier_at(i_)) {
        const size_t qpos = i_;
        uint32_t lo = 0, hi = 0;
        quantifier(lo, hi);
        if (at('?')) ++i_;  // lazy: the same language
        node = ast_.repeat(node, lo, hi);
        check_weight(ast_[node].weight, qpos);
        if (quantifier_at(i_)) fail_at(Errc::invalid_argument, "nothing to repeat", i_);
      }
      items.push_back(node);
    }
    const int node = ast_.concat(std::move(items));
    check_weight(ast_[node].weight, i_);
    return node;
  }

  // Whether a quantifier starts at `k`: * + ? or {m} {m,} {m,n} (a `{` of another shape is a literal).
  bool quantifier_at(size_t k) const {
    if (k >= p_.size()) return false;
    const char c = p_[k];
    if (c == '*' || c == '+' || c == '?') return true;
    if (c != '{') return false;
    size_t j = k + 1;
    const size_t d0 = j;
    while (j < p_.size() && is_digit(p_[j])) ++j;
    if (j == d0) return false;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      while (j < p_.size() && is_digit(p_[j])) ++j;
    }
    return j < p_.size() && p_[j] == '}';
  }

  uint32_t bound() {
    const size_t start = i_;
    uint64_t v = 0;
    while (i_ < p_.size() && is_digit(p_[i_])) {
      v = std::min<uint64_t>(v * 10 + static_cast<uint64_t>(p_[i_] - '0'), uint64_t{1} << 40);
      ++i_;
    }
    if (v > opt_.max_repeat)
      fail_at(Errc::invalid_argument, "repeat bound " + std::string(p_.substr(start, i_ - start)) +
              " exceeds the limit " + std::to_string(opt_.max_repeat), start);
    return static_cast<uint32_t>(v);
  }

  void quantifier(uint32_t& lo, uint32_t& hi) {
    const char c = p_[i_];
    const size_t start = i_++;
    if (c == '*') { lo = 0; hi = kUnbounded; return; }
    if (c == '+') { lo = 1; hi = kUnbounded; return; }
    if (c == '?') { lo = 0; hi = 1; return; }
    lo = hi = bound();
    if (at(',')) {
      ++i_;
      hi = at('}') ? kUnbounded : bound();
    }
    ++i_;  // '}'
    if (lo > hi) fail_at(Errc::invalid_argument, "numbers out of order in {} quantifier", start);
  }

  int atom() {
    const size_t start = i_;
    const char c = p_[i_];
    if (c == '*' || c == '+' || c == '?' || (c == '{' && quantifier_at(i_)))
      fail_at(Errc::invalid_argument, "nothing to repeat", start);
    if (c == '(') return group();
    if (c == '[') return char_class();
    if (c == '.') { ++i_; return ast_.chars(dot_set()); }
    if (c == '\\') {
      Item item = escape(false);
      return item.is_set ? ast_.chars(std::move(item.set)) : ast_.chars({{item.cp, item.cp}});
    }
    const uint32_t cp = next_code_point();
    return ast_.chars({{cp, cp}});
  }

  int group() {
    const size_t start = i_++;
    if (++depth_ > kMaxNesting)
      fail_at(Errc::invalid_argument, "groups nested deeper than " + std::to_string(kMaxNesting), start);
    if (at('?')) {
      ++i_;
      if (at(':')) {
        ++i_;
      } else if (at('=') || at('!')) {
        fail_at(Errc::unsupported, "lookahead", start);
      } else if (at('<') && i_ + 1 < p_.size() && (p_[i_ + 1] == '=' || p_[i_ + 1] == '!')) {
        fail_at(Errc::unsupported, "lookbehind", start);
      } else if (at('<')) {
        ++i_;
        const size_t name = i_;
        while (i_ < p_.size() && (is_alnum(p_[i_]) || p_[i_] == '_' || p_[i_] == '$')) ++i_;
        if (i_ == name || is_digit(p_[name]) || !at('>')) fail_at(Errc::invalid_argument, "invalid group name", name);
        ++i_;
      } else if (i_ < p_.size() && (is_alnum(p_[i_]) || p_[i_] == '-')) {
        fail_at(Errc::unsupported, "inline flags", start);
      } else {
        fail_at(Errc::invalid_argument, "invalid group", start);
      }
    }
    const int body = alternation();
    if (!at(')')) fail_at(Errc::invalid_argument, "unbalanced parenthesis", start);
    ++i_;
    --depth_;
    return body;
  }

  int char_class() {
    const size_t start = i_++;
    const bool negated = at('^');
    if (negated) ++i_;
    CodePointSet set;
    auto add = [&set](const Item& it) {
      if (it.is_set) set.insert(set.end(), it.set.begin(), it.set.end());
      else set.emplace_back(it.cp, it.cp);
    };
    for (;;) {
      if (i_ >= p_.size()) fail_at(Errc::invalid_argument, "unterminated character class", start);
      if (at(']')) { ++i_; break; }
      const size_t lo_pos = i_;
      const Item lo = class_atom();
      if (at('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        const Item hi = class_atom();
        if (lo.is_set || hi.is_set) {  // Annex B: [\w-.] is \w, '-' and '.'
          add(lo);
          add(hi);
          set.emplace_back('-', '-');
        } else {
          if (lo.cp > hi.cp) fail_at(Errc::invalid_argument, "range out of order in character class", lo_pos);
          set.emplace_back(lo.cp, hi.cp);
        }
      } else {
        add(lo);
      }
    }
    return ast_.chars(normalize_set(std::move(set), negated));
  }

  Item class_atom() {
    if (at('\\')) return escape(true);
    Item it;
    it.cp = next_code_point();
    return it;
  }

  uint32_t hex_digits(size_t count, size_t start) {
    uint32_t v = 0;
    for (size_t k = 0; k < count; ++k, ++i_) {
      const int h = i_ < p_.size() ? hex_value(p_[i_]) : -1;
      if (h < 0) fail_at(Errc::invalid_argument, "invalid escape " + std::string(p_.substr(start, 2)), start);
      v = v * 16 + static_cast<uint32_t>(h);
    }
    return v;
  }

  // \u: four hex digits (a surrogate pair as two of them), or \u{...}.
  uint32_t unicode_escape(size_t start) {
    if (at('{')) {
      ++i_;
      uint32_t v = 0;
      size_t n = 0;
      for (; i_ < p_.size() && hex_value(p_[i_]) >= 0; ++i_, ++n) {
        v = v * 16 + static_cast<uint32_t>(hex_value(p_[i_]));
        if (v > kMaxCodePoint) fail_at(Errc::invalid_argument, "code point out of range in \\u{}", start);
      }
      if (n == 0 || !at('}')) fail_at(Errc::invalid_argument, "invalid escape \\u", start);
      ++i_;
      if (v >= 0xD800 && v <= 0xDFFF) fail_at(Errc::unsupported, "lone surrogate escape", start);
      return v;
    }
    uint32_t v = hex_digits(4, start);
    if (v >= 0xD800 && v <= 0xDBFF && i_ + 6 <= p_.size() && p_[i_] == '\\' && p_[i_ + 1] == 'u') {
      const size_t save = i_;
      i_ += 2;
      bool ok = true;
      uint32_t lo = 0;
      for (size_t k = 0; k < 4 && ok; ++k) {
        const int h = hex_value(p_[i_ + k]);
        ok = h >= 0;
        lo = lo * 16 + static_cast<uint32_t>(h < 0 ? 0 : h);
      }
      if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
        i_ += 4;
        return 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
      }
      i_ = save;
    }
    if (v >= 0xD800 && v <= 0xDFFF) fail_at(Errc::unsupported, "lone surrogate escape", start);
    return v;
  }

  Item escape(bool in_class) {
    const size_t start = i_++;
    if (i_ >= p_.size()) fail_at(Errc::invalid_argument, "trailing backslash", start);
    const char c = p_[i_];
    Item it;
    auto set_of = [&it](CodePointSet s, bool negate) {
      it.is_set = true;
      it.set = negate ? normalize_set(std::move(s), true) : std::move(s);
    };
    switch (c) {
      case 'd': case 'D': ++i_; set_of(digit_set(), c == 'D'); return it;
      case 'w': case 'W': ++i_; set_of(word_set(), c == 'W'); return it;
      case 's': case 'S': ++i_; set_of(space_set(), c == 'S'); return it;
      case 't': ++i_; it.cp = '\t'; return it;
      case 'n': ++i_; it.cp = '\n'; return it;
      case 'r': ++i_; it.cp = '\r'; return it;
      case 'f': ++i_; it.cp = '\f'; return it;
      case 'v': ++i_; it.cp = '\v'; return it;
      case 'x': ++i_; it.cp = hex_digits(2, start); return it;
      case 'u': ++i_; it.cp = unicode_escape(start); return it;
      case 'c':
        ++i_;
        if (i_ >= p_.size() || !is_alnum(p_[i_]) || is_digit(p_[i_]))
          fail_at(Errc::invalid_argument, "invalid escape \\c", start);
        it.cp = static_cast<uint32_t>(p_[i_++]) % 32;
        return it;
      case '0':
        ++i_;
        if (at('0') || (i_ < p_.size() && is_digit(p_[i_]))) fail_at(Errc::unsupported, "octal escape", start);
        it.cp = 0;
        return it;
      case 'b':
        if (in_class) { ++i_; it.cp = 0x08; return it; }
        fail_at(Errc::unsupported, "word boundary \\b", start);
      case 'B':
        fail_at(in_class ? Errc::invalid_argument : Errc::unsupported,
                in_class ? "invalid escape \\B in character class" : "word boundary \\B", start);
      case 'k': fail_at(Errc::unsupported, "backreference \\k", start);
      case 'p': case 'P':
        fail_at(Errc::unsupported, std::string("unicode property escape \\") + c, start);
      default: break;
    }
    if (is_digit(c))
      fail_at(Errc::unsupported, std::string(in_class ? "octal escape \\" : "backreference \\") + c, start);
    if (is_alnum(c) || c == '_') fail_at(Errc::invalid_argument, std::string("invalid escape \\") + c, start);
    it.cp = next_code_point();  // identity escape: punctuation or non-ASCII
    return it;
  }

  std::string_view p_;
  const RegexOptions& opt_;
  Ast& ast_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

CodePointSet normalize_set(CodePointSet set, bool negate) {
  std::sort(set.begin(), set.end());
  CodePointSet merged;
  for (auto [lo, hi] : set) {
    if (!merged.empty() && lo <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, hi);
    else merged.emplace_back(lo, hi);
  }
  if (negate) {
    CodePointSet comp;
    uint32_t next = 0;
    for (auto [lo, hi] : merged) {
      if (lo > next) comp.emplace_back(next, lo - 1);
      next = hi + 1;
    }
    if (next <= kMaxCodePoint) comp.emplace_back(next, kMaxCodePoint);
    merged = std::move(comp);
  }
  CodePointSet out;  // without surrogates
  for (auto [lo, hi] : merged) {
    if (hi < 0xD800 || lo > 0xDFFF) { out.emplace_back(lo, hi); continue; }
    if (lo < 0xD800) out.emplace_back(lo, 0xD7FF);
    if (hi > 0xDFFF) out.emplace_back(0xE000, hi);
  }
  return out;
}

int Ast::push(Node n) {
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size() - 1);
}

int Ast::empty() {
  if (empty_ < 0) empty_ = push(Node{});
  return empty_;
}

int Ast::fail() {
  if (fail_ < 0) {
    Node n;
    n.kind = Node::fail;
    n.nullable = false;
    n.weight = 0;
    fail_ = push(std::move(n));
  }
  return fail_;
}

int Ast::chars(CodePointSet set) {
  set = normalize_set(std::move(set));
  if (set.empty()) return fail();
  Node n;
  n.kind = Node::set;
  n.nullable = false;
  n.chars = std::move(set);
  return push(std::move(n));
}

int Ast::concat(std::vector<int> kids, bool sealed) {
  Node n;
  n.kind = Node::concat;
  n.sealed = sealed;
  n.weight = 0;
  for (int k : kids) {
    const Node& kid = (*this)[k];
    if (kid.kind == Node::fail) return fail();
    if (kid.kind == Node::empty) continue;
    if (kid.kind == Node::concat && !kid.sealed) n.kids.insert(n.kids.end(), kid.kids.begin(), kid.kids.end());
    else n.kids.push_back(k);
    n.nullable = n.nullable && kid.nullable;
    n.weight += kid.weight;
  }
  if (n.kids.empty()) return empty();
  if (n.kids.size() == 1) return n.kids[0];
  return push(std::move(n));
}

int Ast::alt(std::vector<int> kids) {
  std::vector<int> flat;
  for (int k : kids) {
    const Node& kid = (*this)[k];
    if (kid.kind == Node::alt) flat.insert(flat.end(), kid.kids.begin(), kid.kids.end());
    else flat.push_back(k);
  }
  bool has_empty = false;
  CodePointSet chars_union;
  int first_set = -1;
  Node n;
  n.kind = Node::alt;
  n.nullable = false;
  n.weight = 0;
  for (int k : flat) {
    const Node& kid = (*this)[k];
    if (kid.kind == Node::fail) continue;
    if (kid.kind == Node::empty) { has_empty = true; continue; }
    if (std::find(n.kids.begin(), n.kids.end(), k) != n.kids.end()) continue;
    if (kid.kind == Node::set) {  // single characters merge into one set, in the first one's place
      chars_union.insert(chars_union.end(), kid.chars.begin(), kid.chars.end());
      if (first_set >= 0) continue;
      first_set = static_cast<int>(n.kids.size());
    }
    n.kids.push_back(k);
    n.nullable = n.nullable || kid.nullable;
    n.weight += kid.weight;
  }
  if (first_set >= 0) n.kids[static_cast<size_t>(first_set)] = chars(std::move(chars_union));
  int result;
  if (n.kids.empty()) result = has_empty ? empty() : fail();
  else if (n.kids.size() == 1) result = n.kids[0];
  else result = push(std::move(n));
  if (has_empty && !(*this)[result].nullable) result = repeat(result, 0, 1);  // (x|) is x?
  return result;
}

int Ast::repeat(int kid, uint32_t min, uint32_t max) {
  const Node& k = (*this)[kid];
  if (k.kind == Node::fail) return min == 0 ? empty() : fail();
  if (k.kind == Node::empty || max == 0) return empty();
  if (k.nullable) {
    // x{m,n} with nullable x is x'{0,n}, x' being x without the empty string; (x)? is x itself.
    if (max == 1) return kid;
    kid = nonempty(kid);
    if ((*this)[kid].kind == Node::fail) return empty();
    min = 0;
  }
  if (min == 1 && max == 1) return kid;
  const Node& body = (*this)[kid];
  if (max == kUnbounded && body.kind == Node::repeat && body.min == 1 && body.max == kUnbounded) {
    kid = body.kids[0];  // (x+)* is x*, (x+){m,} is x{m,}
  }
  Node n;
  n.kind = Node::repeat;
  n.nullable = min == 0;
  n.min = min;
  n.max = max;
  n.kids = {kid};
  n.weight = (*this)[kid].weight * std::max<double>(1, max == kUnbounded ? double(min) + 1 : double(max));
  return push(std::move(n));
}

int Ast::nonempty(int id) {
  const Node n = (*this)[id];  // a copy: pushing nodes may move the arena
  if (!n.nullable) return id;
  switch (n.kind) {
    case Node::concat: {
      // (a b c)' with all of a b c nullable: a' (b c) | b' (c) | c', the suffixes shared (sealed) nodes.
      std::vector<int> alts;
      int suffix = empty();
      for (size_t i = n.kids.size(); i-- > 0;) {
        alts.push_back(concat({nonempty(n.kids[i]), suffix}));
        suffix = concat({n.kids[i], suffix}, true);
      }
      std::reverse(alts.begin(), alts.end());
      return alt(std::move(alts));
    }
    case Node::alt: {
      std::vector<int> alts;
      for (int k : n.kids) alts.push_back(nonempty(k));
      return alt(std::move(alts));
    }
    case Node::repeat: return repeat(n.kids[0], 1, n.max);
    default: return fail();  // empty
  }
}

ParsedRegex parse_regex(std::string_view pattern, const RegexOptions& options, Ast& ast) {
  if (pattern.size() > options.max_pattern_bytes)
    throw Error(Errc::invalid_argument, "regex: the pattern is " + std::to_string(pattern.size()) +
                " bytes, more than the limit of " + std::to_string(options.max_pattern_bytes));
  return Parser(pattern, options, ast).parse();
}

}  // namespace qtr::grammar::regex_detail
