// JSON Schema → GBNF, the scalar side: the shared rules (whitespace, strings, numbers, any value), literals for
// const/enum values and property names, integer and number ranges, and keys that
// must differ from a set of names.
//
// Literals match the spellings json.dumps writes: strings raw (ensure_ascii=False) or with \uXXXX for non-ASCII
// (either hex case), controls as \n-style or \u00XX escapes; numbers as the int or float json.dumps would write for
// that value (const 1 accepts 1, 1.0, 1.00; 1e16 also 1e+16), never with other exponent spellings.
//
// Integer ranges are written digit by digit: for [lo, hi] the numbers of each digit count, and within a count the
// classic split into "same first digit as lo", "strictly between", "same first digit as hi". A bounded number is a
// range of integer parts plus a fraction kind (any / all zeros / not all zeros), which is exact for integral
// bounds; exponent spellings are not accepted for bounded numbers (a documented subset).
//
// The string formats are in json_schema_formats.cpp.
//
// A key that must differ from names N is a trie walk over N's characters: at each node the next character is
// either a trie child (written as the literal spelling above) or any other character in any JSON spelling (then
// any tail), and the string may end unless the node completes a name. So keys equal to a name never match.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "grammar/gbnf_writer.hpp"
#include "grammar/json_schema_internal.hpp"
#include "qtr/error.hpp"

namespace qtr::grammar::schema_detail {
namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string group(const std::vector<std::string>& alts) {
  return alts.size() == 1 ? alts[0] : "(" + join(alts, " | ") + ")";
}

// The class for digit values lo..hi of `base` (hex letters in both cases).
std::string digit_class(int lo, int hi, int base) {
  if (lo == hi && lo < 10) return std::string("\"") + static_cast<char>('0' + lo) + "\"";
  Ranges r;
  if (lo <= 9) r.emplace_back('0' + lo, '0' + std::min(hi, 9));
  if (base == 16 && hi >= 10) {
    const int a = std::max(lo, 10) - 10, b = hi - 10;
    r.emplace_back('A' + a, 'A' + b);
    r.emplace_back('a' + a, 'a' + b);
  }
  return gbnf_class(r);
}

std::string any_digits(size_t n, int base) {
  if (n == 0) return "";
  const std::string d = digit_class(0, base - 1, base);
  return n == 1 ? d : d + "{" + std::to_string(n) + "}";
}

bool all_are(const std::vector<int>& v, size_t from, int digit) {
  for (size_t i = from; i < v.size(); ++i)
    if (v[i] != digit) return false;
  return true;
}

// Digit strings of x.size() digits from x to y (x <= y), digit by digit.
std::string seq_range(const std::vector<int>& x, const std::vector<int>& y, int base) {
  size_t i = 0;
  std::vector<std::string> items;
  while (i < x.size() && x[i] == y[i]) items.push_back(digit_class(x[i], x[i], base)), ++i;
  if (i < x.size()) {
    const size_t rest = x.size() - i - 1;
    const std::vector<int> x_tail(x.begin() + static_cast<long>(i) + 1, x.end());
    const std::vector<int> y_tail(y.begin() + static_cast<long>(i) + 1, y.end());
    int from = x[i], to = y[i];
    std::vector<std::string> alts;
    if (!all_are(x, i + 1, 0)) {
      alts.push_back(digit_class(x[i], x[i], base) + " " + seq_range(x_tail, std::vector<int>(rest, base - 1), base));
      ++from;
    }
    std::string high;
    if (!all_are(y, i + 1, base - 1)) {
      high = digit_class(y[i], y[i], base) + " " + seq_range(std::vector<int>(rest, 0), y_tail, base);
      --to;
    }
    if (from <= to) alts.push_back(digit_class(from, to, base) + (rest ? " " + any_digits(rest, base) : ""));
    if (!high.empty()) alts.push_back(high);
    items.push_back(group(alts));
  }
  return join(items, " ");
}

std::vector<int> digits_of(const std::string& s) {
  std::vector<int> v;
  for (char c : s) v.push_back(c - '0');
  return v;
}

// Canonical decimal spellings of the integers in [a, b] (a, b >= 0; b == nullptr: no upper bound).
std::string mag_range(const std::string& a, const std::string* b) {
  std::vector<std::string> alts;
  const size_t la = a.size(), lb = b ? b->size() : la;
  for (size_t len = la; len <= lb; ++len) {
    const std::string lo = len == la ? a : "1" + std::string(len - 1, '0');
    const std::string hi = (b && len == lb) ? *b : std::string(len, '9');
    alts.push_back(seq_range(digits_of(lo), digits_of(hi), 10));
  }
  if (!b) alts.push_back("[1-9] [0-9]{" + std::to_string(la) + ",}");
  return group(alts);
}

int compare_mag(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

std::string mag_add_one(std::string m) {
  for (size_t i = m.size(); i-- > 0;) {
    if (m[i] != '9') { ++m[i]; return m; }
    m[i] = '0';
  }
  return "1" + m;
}

std::string mag_sub_one(std::string m) {  // m > 0
  for (size_t i = m.size(); i-- > 0;) {
    if (m[i] != '0') { --m[i]; break; }
    m[i] = '9';
  }
  if (m.size() > 1 && m[0] == '0') m.erase(0, 1);
  return m;
}

const char* const kFracAny = "(\".\" [0-9]+)?";
const char* const kFracZero = "(\".\" \"0\"+)?";
const char* const kFracNonzero = "\".\" \"0\"* [1-9] [0-9]*";

// Python's repr of a double (what json.dumps writes for a float).
std::string py_repr(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string s(buf, r.ptr);
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  std::string mant = s.substr(0, e);
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  if (exp < -4 || exp >= 16) return s;
  std::string ip, fp;
  if (exp >= 0) {
    const auto n = static_cast<size_t>(exp) + 1;
    while (digits.size() < n) digits += '0';
    ip = digits.substr(0, n);
    fp = digits.size() > n ? digits.substr(n) : "0";
  } else {
    ip = "0";
    fp = std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  }
  return (neg ? "-" : "") + ip + "." + fp;
}

void append_utf8(std::string& s, uint32_t cp) {
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
}

std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::vector<int> hex4(uint32_t v) { return {int(v >> 12 & 15), int(v >> 8 & 15), int(v >> 4 & 15), int(v & 15)}; }

// "\\u" then the 4 hex digits of v, either case.
std::string u_escape(uint32_t v) { return "\"\\\\u\" " + seq_range(hex4(v), hex4(v), 16); }

// The spellings of one character in a literal: the json.dumps ones (see the file comment).
std::string char_literal_item(uint32_t cp, std::string& run) {
  static constexpr std::pair<uint32_t, const char*> kShort[] = {{'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"},
                                                                {'\r', "\\r"}, {'\t', "\\t"}, {8, "\\b"}, {12, "\\f"}};
  for (const auto& [c, esc] : kShort)
    if (cp == c) { run += esc; return ""; }
  if (cp >= 0x20 && cp < 0x7F) { append_utf8(run, cp); return ""; }
  if (cp < 0x20) return u_escape(cp);
  std::string raw;
  append_utf8(raw, cp);
  if (cp < 0x10000) return "(" + gbnf_literal(raw) + " | " + u_escape(cp) + ")";
  const uint32_t v = cp - 0x10000;
  return "(" + gbnf_literal(raw) + " | " + u_escape(0xD800 + (v >> 10)) + " " + u_escape(0xDC00 + (v & 0x3FF)) + ")";
}

std::string literal_seq(const std::vector<uint32_t>& cps, bool quoted = false) {
  std::vector<std::string> items;
  std::string run = quoted ? "\"" : "";
  for (uint32_t cp : cps) {
    std::string item = char_literal_item(cp, run);
    if (item.empty()) continue;
    if (!run.empty()) items.push_back(gbnf_literal(run)), run.clear();
    items.push_back(item);
  }
  if (quoted) run += '"';
  if (!run.empty()) items.push_back(gbnf_literal(run));
  return join(items, " ");
}

// Hex spellings of the 16-bit values in the sorted disjoint ranges r.
std::string hex_in(const Ranges& r) {
  std::vector<std::string> alts;
  for (const auto& [a, b] : r) alts.push_back(seq_range(hex4(a), hex4(b), 16));
  return group(alts);
}

Ranges minus(Ranges r, const std::vector<uint32_t>& points) {
  for (uint32_t p : points) {
    Ranges out;
    for (const auto& [a, b] : r) {
      if (p < a || p > b) { out.emplace_back(a, b); continue; }
      if (p > a) out.emplace_back(a, p - 1);
      if (p < b) out.emplace_back(p + 1, b);
    }
    r = std::move(out);
  }
  return r;
}

// One character, in any JSON spelling, whose code point is not in `except`.
std::string char_except(std::vector<uint32_t> except, Rules& rules) {
  std::sort(except.begin(), except.end());
  Ranges raw = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
  for (uint32_t c : except) raw.emplace_back(c, c);
  std::sort(raw.begin(), raw.end());
  Ranges merged;
  for (const auto& r : raw) {
    if (!merged.empty() && r.first <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, r.second);
    else merged.push_back(r);
  }
  std::vector<std::string> esc;
  std::string letters;
  static constexpr std::pair<uint32_t, char> kShort[] = {{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {8, 'b'},
                                                         {12, 'f'},  {10, 'n'},   {13, 'r'},  {9, 't'}};
  for (const auto& [c, letter] : kShort)
    if (!std::binary_search(except.begin(), except.end(), c)) letters += letter;
  if (!letters.empty()) esc.push_back(gbnf_class([&] { Ranges l; for (char c : letters) l.emplace_back(c, c); return l; }()));
  std::vector<uint32_t> bmp, highs;
  std::map<uint32_t, std::vector<uint32_t>> lows;
  for (uint32_t c : except) {
    if (c < 0x10000) { bmp.push_back(c); continue; }
    const uint32_t hi = 0xD800 + ((c - 0x10000) >> 10), lo = 0xDC00 + ((c - 0x10000) & 0x3FF);
    if (lows[hi].empty()) highs.push_back(hi);
    lows[hi].push_back(lo);
  }
  esc.push_back("\"u\" " + hex_in(minus({{0, 0xD7FF}, {0xE000, 0xFFFF}}, bmp)));
  const Ranges high_ok = minus({{0xD800, 0xDBFF}}, highs);
  if (!high_ok.empty()) esc.push_back("\"u\" " + hex_in(high_ok) + " \"\\\\u\" " + hex_in({{0xDC00, 0xDFFF}}));
  for (uint32_t hi : highs) {
    const Ranges low_ok = minus({{0xDC00, 0xDFFF}}, lows[hi]);
    if (!low_ok.empty()) esc.push_back("\"u\" " + seq_range(hex4(hi), hex4(hi), 16) + " \"\\\\u\" " + hex_in(low_ok));
  }
  return rules.add("key-char", gbnf_class(merged, true) + " | \"\\\\\" (" + join(esc, " | ") + ")");
}

struct Trie {
  std::vector<std::map<uint32_t, size_t>> kids{{}};
  std::vector<bool> terminal{false};
};

std::string trie_rule(const Trie& t, size_t node, Rules& rules) {
  std::vector<std::string> alts;
  if (!t.terminal[node]) alts.push_back("\"\\\"\"");
  std::vector<uint32_t> except;
  for (const auto& [c, k] : t.kids[node]) except.push_back(c);
  alts.push_back(char_except(except, rules) + " char_* \"\\\"\"");
  for (const auto& [c, k] : t.kids[node]) alts.push_back(literal_seq({c}) + " " + trie_rule(t, k, rules));
  return rules.add("key-rest", join(alts, " | "));
}

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void dump(std::string& out, const Json& v) {
  switch (v.kind()) {
    case Json::Kind::null: out += "null"; break;
    case Json::Kind::boolean: out += v.as_bool("") ? "true" : "false"; break;
    case Json::Kind::integer: out += std::to_string(v.as_int("")); break;
    case Json::Kind::unsigned_integer: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", v.as_double(""));
      out += buf;
      break;
    }
    case Json::Kind::number: out += py_repr(v.as_double("")); break;
    case Json::Kind::string: dump_string(out, v.as_string("")); break;
    case Json::Kind::array: {
      out += '[';
      bool first = true;
      for (const Json& e : v.as_array("")) out += first ? "" : ",", dump(out, e), first = false;
      out += ']';
      break;
    }
    case Json::Kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.as_object("")) {
        out += first ? "" : ",";
        dump_string(out, k);
        out += ':';
        dump(out, e);
        first = false;
      }
      out += '}';
      break;
    }
  }
}

std::string number_literal(const Json& v) {
  std::vector<std::string> alts;
  if (is_integral(v)) {
    bool integral = true;
    const Big b = big_from_json(v, false, &integral);
    const std::string digits = gbnf_literal((b.neg ? "-" : "") + b.mag);
    alts.push_back(b.mag == "0" ? "\"-\"? \"0\" " + std::string(kFracZero) : digits + " " + kFracZero);
    const double d = v.as_double("");
    if (std::fabs(d) >= 1e16) {
      const std::string r = py_repr(d);
      if (r.find('e') != std::string::npos) alts.push_back(gbnf_literal(r));
    }
  } else {
    const std::string r = py_repr(v.as_double(""));
    alts.push_back(gbnf_literal(r) + (r.find('e') == std::string::npos ? " \"0\"*" : ""));
  }
  return group(alts);
}

}  // namespace

std::string Rules::reserve(std::string_view hint) {
  std::string base;
  for (char c : hint) base += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '-';
  if (base.size() > 40) base.resize(40);
  if (base.empty()) base = "r";
  const int n = taken_[base]++;
  return n == 0 ? base + "_" : base + "_" + std::to_string(n + 1);
}

void Rules::define(const std::string& name, std::string body) {
  bytes_ += name.size() + body.size() + 6;
  by_body_.emplace(body, name);
  rules_.emplace_back(name, std::move(body));
}

std::string Rules::add(std::string_view hint, std::string body) {
  if (auto it = by_body_.find(body); it != by_body_.end()) return it->second;
  std::string name = reserve(hint);
  define(name, std::move(body));
  return name;
}

void add_builtin_rules(Rules& rules, const JsonSchemaOptions& options) {
  const std::string w = options.compact || options.max_whitespace <= 0 ? "" : "ws_ ";
  rules.define(rules.reserve("ws"), "[ \\t\\n\\r]{0," + std::to_string(std::max(options.max_whitespace, 1)) + "}");
  rules.define(rules.reserve("char"), gbnf_class({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}, true) +
                                          " | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | "
                                          "[dD] [0-7] [0-9a-fA-F]{2} | [dD] [89abAB] [0-9a-fA-F]{2} \"\\\\u\" [dD] "
                                          "[c-fC-F] [0-9a-fA-F]{2}))");
  rules.define(rules.reserve("string"), "\"\\\"\" char_* \"\\\"\"");
  if (options.bounded_numbers) {
    rules.define(rules.reserve("integer"), "\"-\"? (\"0\" | [1-9] [0-9]{0,15})");
    rules.define(rules.reserve("number"), "integer_ (\".\" [0-9]{1,16})? ([eE] [+-]? [0-9]{1,3})?");
  } else {
    rules.define(rules.reserve("integer"), "\"-\"? (\"0\" | [1-9] [0-9]*)");
    rules.define(rules.reserve("number"), "integer_ (\".\" [0-9]+)? ([eE] [+-]? [0-9]+)?");
  }
  rules.define(rules.reserve("value"), "object_ | array_ | string_ | number_ | \"true\" | \"false\" | \"null\"");
  const std::string member = "string_ " + w + "\":\" " + w + "value_";
  rules.define(rules.reserve("object"), "\"{\" " + w + "(" + member + " (" + w + "\",\" " + w + member + ")* " + w + ")? \"}\"");
  rules.define(rules.reserve("array"), "\"[\" " + w + "(value_ (" + w + "\",\" " + w + "value_)* " + w + ")? \"]\"");
}

int compare(const Big& a, const Big& b) {
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  const int m = compare_mag(a.mag, b.mag);
  return a.neg ? -m : m;
}

Big add_one(const Big& a) {
  if (!a.neg) return {false, mag_add_one(a.mag)};
  const std::string m = mag_sub_one(a.mag);
  return {m != "0", m};
}

Big sub_one(const Big& a) {
  if (a.neg) return {true, mag_add_one(a.mag)};
  if (a.mag == "0") return {true, "1"};
  return {false, mag_sub_one(a.mag)};
}

bool is_integral(const Json& n) {
  if (n.is_integer()) return true;
  const double d = n.as_double("");
  return std::isfinite(d) && std::floor(d) == d;
}

Big big_from_json(const Json& n, bool ceil, bool* integral) {
  Big b;
  if (n.kind() == Json::Kind::integer) {
    const int64_t v = n.as_int("");
    *integral = true;
    b.neg = v < 0;
    b.mag = v < 0 ? std::to_string(-(v + 1) + uint64_t{1}) : std::to_string(v);
    return b;
  }
  const double d = n.as_double("");
  *integral = std::floor(d) == d;
  const double r = ceil ? std::ceil(d) : std::floor(d);
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(r));
  b.mag = buf;
  b.neg = r < 0 && b.mag != "0";
  return b;
}

std::optional<std::string> number_range_expr(const IntBound& lo, const IntBound& hi, bool integer_only) {
  std::vector<std::string> alts;
  const Big zero;
  if (integer_only) {  // the closed interval [L, H]
    const std::optional<Big> L = lo.set ? std::optional<Big>(lo.exclusive ? add_one(lo.value) : lo.value) : std::nullopt;
    const std::optional<Big> H = hi.set ? std::optional<Big>(hi.exclusive ? sub_one(hi.value) : hi.value) : std::nullopt;
    if (L && H && compare(*L, *H) > 0) return std::nullopt;
    const std::string frac = std::string(" ") + kFracZero;
    if (!H || !H->neg) {  // the non-negative part
      const std::string a = L && !L->neg ? L->mag : "0";
      alts.push_back(mag_range(a, H ? &H->mag : nullptr) + frac);
    }
    if (!L || L->neg) {  // the negative part: magnitudes [max(1, -H), -L]
      const std::string a = H && H->neg ? H->mag : "1";
      alts.push_back("\"-\" " + mag_range(a, L ? &L->mag : nullptr) + frac);
    }
    if ((!L || compare(*L, zero) <= 0) && (!H || compare(*H, zero) >= 0)) alts.push_back("\"-0\"" + frac);
    return group(alts);
  }
  if (lo.set && hi.set) {
    const int c = compare(lo.value, hi.value);
    if (c > 0 || (c == 0 && (lo.exclusive || hi.exclusive))) return std::nullopt;
  }
  // Magnitudes from a to b (b absent: unbounded), each end open or closed, with the sign prefix.
  auto side = [&](const std::string& sign, const std::string& a, bool a_closed, const std::string* b, bool b_closed) {
    if (b) {
      const int c = compare_mag(a, *b);
      if (c > 0) return;
      if (c == 0) {
        if (a_closed && b_closed) alts.push_back(sign + gbnf_literal(a) + " " + kFracZero);
        return;
      }
    }
    if (!a_closed) alts.push_back(sign + gbnf_literal(a) + " " + kFracNonzero);
    const std::string from = a_closed ? a : mag_add_one(a);
    if (!b) {
      alts.push_back(sign + mag_range(from, nullptr) + " " + kFracAny);
    } else {
      const std::string top = mag_sub_one(*b);
      if (compare_mag(from, top) <= 0) alts.push_back(sign + mag_range(from, &top) + " " + kFracAny);
      if (b_closed) alts.push_back(sign + gbnf_literal(*b) + " " + kFracZero);
    }
  };
  const bool lo_neg = !lo.set || lo.value.neg, hi_nonneg = !hi.set || !hi.value.neg;
  if (hi_nonneg && !(hi.set && hi.value.mag == "0" && hi.exclusive)) {
    const bool from_zero = lo_neg;
    side("", from_zero ? "0" : lo.value.mag, from_zero || !lo.exclusive, hi.set ? &hi.value.mag : nullptr, !hi.exclusive);
  }
  if (lo_neg && !(lo.set && lo.value.mag == "0")) {  // strictly negative values
    const bool to_zero = hi_nonneg;
    side("\"-\" ", to_zero ? "0" : hi.value.mag, !to_zero && !hi.exclusive, lo.set ? &lo.value.mag : nullptr, !lo.exclusive);
  }
  const bool zero_in = (!lo.set || compare(lo.value, zero) < 0 || (compare(lo.value, zero) == 0 && !lo.exclusive)) &&
                       (!hi.set || compare(hi.value, zero) > 0 || (compare(hi.value, zero) == 0 && !hi.exclusive));
  if (zero_in) alts.push_back(std::string("\"-0\" ") + kFracZero);
  if (alts.empty()) return std::nullopt;
  return group(alts);
}

std::string string_literal_expr(std::string_view s) {
  return literal_seq(code_points(s), true);
}

std::string literal_expr(const Json& v, const Style& style) {
  const std::string w = style.ws();
  switch (v.kind()) {
    case Json::Kind::null: return "\"null\"";
    case Json::Kind::boolean: return v.as_bool("") ? "\"true\"" : "\"false\"";
    case Json::Kind::string: return string_literal_expr(v.as_string(""));
    case Json::Kind::array: {
      std::vector<std::string> items;
      for (const Json& e : v.as_array("")) items.push_back(literal_expr(e, style));
      if (items.empty()) return "\"[\" " + w + "\"]\"";
      return "\"[\" " + w + join(items, (" " + w + "\",\" " + w).c_str()) + " " + w + "\"]\"";
    }
    case Json::Kind::object: {
      std::vector<std::string> items;
      for (const auto& [k, e] : v.as_object("")) items.push_back(string_literal_expr(k) + " " + w + "\":\" " + w + literal_expr(e, style));
      if (items.empty()) return "\"{\" " + w + "\"}\"";
      return "\"{\" " + w + join(items, (" " + w + "\",\" " + w).c_str()) + " " + w + "\"}\"";
    }
    default: return number_literal(v);
  }
}

std::string key_not_in_expr(const std::vector<std::string>& names, Rules& rules) {
  if (names.empty()) return "string_";
  Trie t;
  for (const std::string& name : names) {
    size_t node = 0;
    for (uint32_t cp : code_points(name)) {
      auto it = t.kids[node].find(cp);
      if (it == t.kids[node].end()) {
        t.kids.emplace_back();
        t.terminal.push_back(false);
        it = t.kids[node].emplace(cp, t.kids.size() - 1).first;
      }
      node = it->second;
    }
    t.terminal[node] = true;
  }
  return "\"\\\"\" " + trie_rule(t, 0, rules);
}

std::string dump_json(const Json& value) {
  std::string out;
  dump(out, value);
  return out;
}

bool json_equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Json::Kind::integer && b.kind() == Json::Kind::integer) return a.as_int("") == b.as_int("");
    return a.as_double("") == b.as_double("");
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Json::Kind::null: return true;
    case Json::Kind::boolean: return a.as_bool("") == b.as_bool("");
    case Json::Kind::string: return a.as_string("") == b.as_string("");
    case Json::Kind::array: {
      const auto &x = a.as_array(""), &y = b.as_array("");
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!json_equal(x[i], y[i])) return false;
      return true;
    }
    case Json::Kind::object: {
      const auto &x = a.as_object(""), &y = b.as_object("");
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const Json* w = b.find(k);
        if (!w || !json_equal(v, *w)) return false;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace qtr::grammar::schema_detail
