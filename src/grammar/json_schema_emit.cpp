// JSON Schema → GBNF: the grammar of each kind of value, from a collected Norm (json_schema_compiler.hpp).
//
// Objects. Members are written "key": value with whitespace around ':' and ','. With at most 8 named properties
// any order is accepted, each at most once: one rule per set of properties already written (and per member count
// when minProperties/maxProperties apply), and the closing brace only once every required one is there. With more
// than 8, named properties must come in declared order (required ones present, optional ones skippable) — a
// documented relaxation that rejects some valid orderings. Extra members (additionalProperties, default true;
// patternProperties) may come anywhere; their keys must differ from every named property (key_not_in_expr), or,
// for patternProperties with additionalProperties: false, match the pattern. patternProperties combined with
// additionalProperties other than false, with other object subschemas, or with several patterns of different
// schemas are refused (lenient: approximated by a superset). A named property that matches a pattern must
// satisfy both schemas (merged).
//
// Arrays. prefixItems (or items as an array) then items (or additionalItems), with minItems/maxItems as bounded
// repetition; several array subschemas (allOf) are merged position by position.
//
// Strings. minLength/maxLength count characters (an escape or a surrogate pair is one), pattern goes through
// regex_to_gbnf (pattern with a length or a format is refused; lenient keeps the pattern), formats are in
// json_schema_values.cpp. Numbers: bounds are exact for integers and, for numbers, when the bounds are integral;
// multipleOf is supported only as 1 (lenient: dropped).
#include <algorithm>
#include <functional>

#include "grammar/grammar.hpp"
#include "grammar/json_schema_compiler.hpp"
#include "grammar/regex.hpp"

namespace qtr::grammar::schema_detail {
namespace {

std::string repeat_suffix(uint64_t lo, uint64_t hi) {
  if (lo == 0 && hi == kNoMax) return "*";
  if (lo == 1 && hi == kNoMax) return "+";
  if (lo == 0 && hi == 1) return "?";
  if (lo == hi) return "{" + std::to_string(lo) + "}";
  if (hi == kNoMax) return "{" + std::to_string(lo) + ",}";
  return "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
}

std::string join_alts(const std::vector<std::string>& alts) {
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return body;
}

int popcount(uint64_t x) { return __builtin_popcountll(x); }

}  // namespace

std::string Compiler::pattern_expr(const Sub& p) {
  RegexOptions ro;
  ro.encoding = RegexEncoding::json_string;
  ro.search = true;
  try {
    return "\"\\\"\" " + regex_to_gbnf(p.schema->as_string(""), ro, regex_out_) + " \"\\\"\"";
  } catch (const Error& e) {
    if (e.code() == Errc::unsupported && options_.lenient) {
      unsupported("pattern", p.ptr, e.what());
      return "string_";
    }
    throw Error(e.code(), "json-schema: 'pattern' at " + at(p.ptr) + ": " + e.what());
  }
}

bool Compiler::pattern_matches(const Sub& p, const std::string& name) {
  const std::string& pattern = p.schema->as_string("");
  auto key = std::make_pair(pattern, name);
  if (auto it = match_cache_.find(key); it != match_cache_.end()) return it->second;
  RegexOptions ro;
  ro.search = true;
  bool match = false;
  try {
    GbnfWriter w;
    w.set_root(regex_to_gbnf(pattern, ro, w));
    match = gbnf_accepts(w.text(), name);
  } catch (const Error& e) {
    throw Error(e.code(), "json-schema: 'patternProperties' at " + at(p.ptr) + ": " + e.what());
  }
  match_cache_[key] = match;
  return match;
}

std::optional<std::string> Compiler::emit_enum(const Norm& n) {
  Norm rest = n;
  rest.has_enum = false;
  rest.values.clear();
  const bool simple = [&] {
    Norm t = rest;
    t.types = kAll;
    t.ptr.clear();
    return t.lo.set == false && !t.hi.set && !t.multiple && t.min_len == 0 && t.max_len == kNoMax && t.patterns.empty() &&
           t.format.empty() && t.objs.empty() && t.required.empty() && t.min_props == 0 && t.max_props == kNoMax &&
           t.arrs.empty() && t.min_items == 0 && t.max_items == kNoMax && t.choices.empty();
  }();
  std::string grammar;
  bool none = false;
  if (!simple) {  // test each value against a grammar of the other keywords
    JsonSchemaOptions o = options_;
    o.compact = true;
    Compiler scratch(root_, o, relaxed_);
    const std::optional<std::string> top = scratch.emit(rest);
    if (top) grammar = scratch.finish(*top, false);
    else none = true;
  }
  std::vector<std::string> alts;
  for (const Json& v : n.values) {
    bool ok;
    if (simple) {
      const unsigned bits = v.is_number() ? (is_integral(v) ? unsigned{kInteger} : unsigned{kFraction}) : 0u;
      ok = v.is_null() ? (n.types & kNull) : v.is_bool() ? (n.types & kBool) : v.is_string() ? (n.types & kString)
           : v.is_array() ? (n.types & kArray) : v.is_object() ? (n.types & kObject) : (n.types & bits);
    } else if (none) {
      ok = false;
    } else {
      try {
        ok = gbnf_accepts(grammar, dump_json(v));
      } catch (const Error& e) {
        if (e.code() != Errc::invalid_argument) throw;
        ok = false;
      }
    }
    if (!ok) continue;
    const std::string lit = literal_expr(v, style_);
    if (std::find(alts.begin(), alts.end(), lit) == alts.end()) alts.push_back(lit);
  }
  if (alts.empty()) {
    note_empty(n.enum_ptr, "no value of 'enum'/'const' satisfies the other keywords");
    return std::nullopt;
  }
  return rules_.add("enum", join_alts(alts));
}

std::optional<std::string> Compiler::emit_number(const Norm& n) {
  bool integer_only = !(n.types & kFraction);
  if (n.multiple) {
    if (is_integral(*n.multiple) && n.multiple->as_double("") == 1) {
      integer_only = true;
    } else {
      unsupported("multipleOf", n.multiple_ptr);
    }
  }
  if (!n.lo.set && !n.hi.set) {
    if (!integer_only) return "number_";
    return rules_.add("int", options_.bounded_numbers ? "integer_ (\".\" \"0\"{1,16})?" : "integer_ (\".\" \"0\"+)?");
  }
  IntBound bounds[2];
  const Bound* src[2] = {&n.lo, &n.hi};
  for (int side = 0; side < 2; ++side) {
    const Bound& b = *src[side];
    if (!b.set) continue;
    bool integral = true;
    // integers: round inward (x >= 2.5 is x >= 3); numbers: outward when lenient (x >= 2.5 becomes x >= 2)
    const bool inward = integer_only;
    bounds[side].set = true;
    bounds[side].value = big_from_json(*b.src, inward == (side == 0), &integral);
    bounds[side].exclusive = integral && b.exclusive;
    if (!integral && !integer_only) {
      unsupported(b.exclusive ? (side == 0 ? "exclusiveMinimum" : "exclusiveMaximum") : (side == 0 ? "minimum" : "maximum"),
                  b.ptr, "a non-integral bound of a number; widened to the integer outside it");
    }
  }
  const std::optional<std::string> r = number_range_expr(bounds[0], bounds[1], integer_only);
  if (!r) {
    note_empty(n.lo.set ? n.lo.ptr : n.hi.ptr, "no number lies between its minimum and maximum");
    return std::nullopt;
  }
  return rules_.add(integer_only ? "int-range" : "num-range", *r);
}

std::optional<std::string> Compiler::emit_string(const Norm& n) {
  uint64_t min_len = n.min_len, max_len = n.max_len;
  if (min_len > max_len) {
    note_empty(n.len_ptr, "minLength is greater than maxLength");
    return std::nullopt;
  }
  const bool lengths = min_len > 0 || max_len != kNoMax;
  if (!n.patterns.empty()) {
    for (size_t i = 1; i < n.patterns.size(); ++i)
      if (n.patterns[i].schema->as_string("") != n.patterns[0].schema->as_string("")) unsupported("pattern", n.patterns[i].ptr, "two different patterns");
    if (lengths) unsupported(min_len > 0 ? "minLength" : "maxLength", n.len_ptr, "together with 'pattern'");
    if (!n.format.empty()) unsupported("format", n.format_ptr, "together with 'pattern'");
    const std::string e = pattern_expr(n.patterns[0]);
    return e == "string_" ? e : rules_.add("pattern", e);
  }
  if (!n.format.empty()) {
    if (lengths) unsupported(min_len > 0 ? "minLength" : "maxLength", n.len_ptr, "together with 'format'");
    return *format_expr(n.format, rules_);
  }
  if (!lengths) return "string_";
  if (max_len != kNoMax && max_len > options_.max_repeat) {
    unsupported("maxLength", n.len_ptr, "larger than max_repeat " + std::to_string(options_.max_repeat));
    max_len = kNoMax;
  }
  if (min_len > options_.max_repeat) {
    unsupported("minLength", n.len_ptr, "larger than max_repeat " + std::to_string(options_.max_repeat));
    min_len = options_.max_repeat;
  }
  return rules_.add("string", "\"\\\"\" char_" + repeat_suffix(min_len, max_len) + " \"\\\"\"");
}

std::optional<std::string> Compiler::emit_array(const Norm& n) {
  const std::string W = ws();
  size_t k = 0;
  for (const ArrPart& a : n.arrs)
    if (a.prefix) k = std::max(k, a.prefix->as_array("").size());
  std::vector<std::optional<std::string>> pos;
  std::optional<std::string> tail;
  const std::string saved = first_empty_;
  ++container_;
  for (size_t i = 0; i < k; ++i) {
    std::vector<Sub> subs;
    for (const ArrPart& a : n.arrs) {
      if (a.prefix && i < a.prefix->as_array("").size()) subs.push_back({&a.prefix->as_array("")[i], child(a.prefix_ptr, std::to_string(i))});
      else if (a.items) subs.push_back({a.items, a.items_ptr});
    }
    pos.push_back(compile_list(subs, true));
    if (!pos.back()) break;
  }
  {
    std::vector<Sub> subs;
    for (const ArrPart& a : n.arrs)
      if (a.items) subs.push_back({a.items, a.items_ptr});
    tail = compile_list(subs, true);
  }
  --container_;
  uint64_t M = n.max_items, m = n.min_items;
  for (size_t i = 0; i < pos.size(); ++i)
    if (!pos[i]) { M = std::min<uint64_t>(M, i); break; }
  if (!tail) M = std::min<uint64_t>(M, k);
  if (m > M) {
    note_empty(n.ptr, "minItems cannot be met by the items allowed");
    return std::nullopt;
  }
  first_empty_ = saved;
  const size_t kk = static_cast<size_t>(std::min<uint64_t>(k, M));
  if (M != kNoMax && M - kk > options_.max_repeat) {
    unsupported("maxItems", n.ptr, "larger than max_repeat " + std::to_string(options_.max_repeat));
    M = kNoMax;
  }
  if (m > kk && m - kk > options_.max_repeat) {
    unsupported("minItems", n.ptr, "larger than max_repeat " + std::to_string(options_.max_repeat));
    m = kk + options_.max_repeat;
  }
  const uint64_t lo = m > kk ? m - kk : 0, hi = M == kNoMax ? kNoMax : M - kk;
  auto more = [&](const std::string& item) { return "(" + W + "\",\" " + W + item + ")"; };
  std::string body;
  if (kk == 0) {
    if (hi == 0) return "\"[\" " + W + "\"]\"";
    const std::string inner = *tail + (hi == 1 ? "" : " " + more(*tail) + repeat_suffix(lo > 0 ? lo - 1 : 0, hi == kNoMax ? kNoMax : hi - 1)) + " " + W;
    body = "\"[\" " + W + (lo == 0 ? "(" + inner + ")? " : inner) + "\"]\"";
  } else {
    std::string t = hi == 0 ? "" : more(*tail) + repeat_suffix(lo, hi);
    for (size_t i = kk - 1; i >= 1; --i) {
      t = "(" + W + "\",\" " + W + *pos[i] + (t.empty() ? "" : " " + t) + ")" + (i >= m ? "?" : "");
      if (kk > 16) t = rules_.add("items-from", t);
    }
    const std::string inner = *pos[0] + (t.empty() ? "" : " " + t) + " " + W;
    body = "\"[\" " + W + (m == 0 ? "(" + inner + ")? " : inner) + "\"]\"";
  }
  return rules_.add("array", body);
}

std::optional<std::string> Compiler::emit_object(const Norm& n) {
  const std::string W = ws();
  std::vector<std::string> names;
  std::map<std::string, std::vector<Sub>> lists;
  bool patterns_any = false;
  for (const ObjPart& o : n.objs) patterns_any |= o.patterns && !o.patterns->as_object("").empty();
  std::vector<ObjPart> parts = n.objs;
  if (patterns_any && parts.size() > 1) {
    unsupported("patternProperties", n.ptr, "combined with other object subschemas");
    for (ObjPart& o : parts) if (o.patterns) o.patterns = nullptr, o.additional = nullptr;
  }
  for (const ObjPart& o : parts) {
    if (!o.properties) continue;
    for (const auto& [k, v] : o.properties->as_object("")) {
      if (!lists.count(k)) names.push_back(k);
      lists[k].push_back({&v, child(child(o.ptr, "properties"), k)});
    }
  }
  for (const std::string& r : n.required)
    if (!lists.count(r)) names.push_back(r), lists[r];
  for (const std::string& k : names) {
    for (const ObjPart& o : parts) {
      if (o.properties && o.properties->find(k)) continue;
      bool matched = false;
      if (o.patterns) {
        for (const auto& [p, s] : o.patterns->as_object("")) {
          const Json pj(p);
          if (pattern_matches({&pj, o.ptr}, k)) lists[k].push_back({&s, child(child(o.ptr, "patternProperties"), p)}), matched = true;
        }
      }
      if (!matched && o.additional) lists[k].push_back({o.additional, child(o.ptr, "additionalProperties")});
    }
  }
  struct Member {
    std::string text;
    bool required;
  };
  std::vector<Member> members;
  std::vector<std::string> extras;
  const std::string saved = first_empty_;
  ++container_;
  for (const std::string& k : names) {
    const bool req = std::find(n.required.begin(), n.required.end(), k) != n.required.end();
    const std::optional<std::string> v = compile_list(lists[k], true);
    if (!v) {
      if (req) {
        --container_;
        note_empty(n.ptr, "the required property '" + k + "' can have no valid value");
        return std::nullopt;
      }
      first_empty_ = saved;
      continue;
    }
    members.push_back({string_literal_expr(k) + " " + W + "\":\" " + W + *v, req});
  }
  const ObjPart* pat = nullptr;
  for (const ObjPart& o : parts)
    if (o.patterns && !o.patterns->as_object("").empty()) pat = &o;
  if (pat) {
    const bool add_false = pat->additional && pat->additional->is_bool() && !pat->additional->as_bool("");
    const auto& entries = pat->patterns->as_object("");
    if (!add_false) unsupported("patternProperties", pat->ptr, "with additionalProperties other than false");
    for (size_t i = 1; i < entries.size(); ++i)
      if (!json_equal(entries[i].second, entries[0].second)) { unsupported("patternProperties", pat->ptr, "several patterns with different schemas"); break; }
    for (const auto& [p, s] : entries) {
      const Json pj(p);
      const Sub ps{&pj, child(pat->ptr, "patternProperties")};
      for (const std::string& k : names)
        if (pattern_matches(ps, k)) unsupported("patternProperties", pat->ptr, "the pattern '" + p + "' also matches the property '" + k + "'");
      const std::optional<std::string> v = compile_list({{&s, child(child(pat->ptr, "patternProperties"), p)}}, true);
      if (v) extras.push_back(rules_.add("pattern-key", pattern_expr(ps)) + " " + W + "\":\" " + W + *v);
    }
    if (!add_false) {
      std::vector<Sub> subs;
      if (pat->additional) subs.push_back({pat->additional, child(pat->ptr, "additionalProperties")});
      if (const auto v = compile_list(subs, true)) extras.push_back(key_not_in_expr(names, rules_) + " " + W + "\":\" " + W + *v);
    }
  } else {
    std::vector<Sub> subs;
    for (const ObjPart& o : parts)
      if (o.additional) subs.push_back({o.additional, child(o.ptr, "additionalProperties")});
    if (const auto v = compile_list(subs, true)) extras.push_back(key_not_in_expr(names, rules_) + " " + W + "\":\" " + W + *v);
  }
  first_empty_ = saved;
  --container_;
  const std::string extra = extras.empty() ? "" : extras.size() == 1 ? extras[0] : rules_.add("extra-member", join_alts(extras));
  const size_t N = members.size();
  const uint64_t minP = n.min_props, maxP = n.max_props;
  const bool counting = minP > 0 || maxP != kNoMax;
  const uint64_t cap = maxP != kNoMax ? maxP : minP;
  if (N == 0 && !counting) {
    if (extra.empty()) return "\"{\" " + W + "\"}\"";
    return rules_.add("object", "\"{\" " + W + "(" + extra + " (" + W + "\",\" " + W + extra + ")* " + W + ")? \"}\"");
  }
  const bool any_order = N <= 8;
  uint64_t req_mask = 0;
  for (size_t i = 0; i < N && any_order; ++i)
    if (members[i].required) req_mask |= uint64_t{1} << i;
  std::vector<size_t> req_index;
  for (size_t i = 0; i < N; ++i)
    if (members[i].required) req_index.push_back(i);
  // State: any order: a = the set of members written; declared order: a = the index of the next candidate.
  auto need = [&](uint64_t a) -> uint64_t {
    if (any_order) return static_cast<uint64_t>(popcount(req_mask & ~a));
    return static_cast<uint64_t>(std::count_if(req_index.begin(), req_index.end(), [&](size_t r) { return r >= a; }));
  };
  auto left = [&](uint64_t a) -> uint64_t { return any_order ? N - static_cast<uint64_t>(popcount(a)) : N - a; };
  auto live = [&](uint64_t a, uint64_t c) {
    const uint64_t reach = extra.empty() ? c + left(a) : kNoMax;
    return std::max(c + need(a), minP) <= std::min(maxP, reach);
  };
  auto next_c = [&](uint64_t c) { return counting ? std::min(c + 1, cap) : 0; };
  // The member transitions from state a: (member index, next state).
  auto moves = [&](uint64_t a) {
    std::vector<std::pair<size_t, uint64_t>> out;
    if (any_order) {
      for (size_t i = 0; i < N; ++i)
        if (!(a >> i & 1)) out.emplace_back(i, a | uint64_t{1} << i);
    } else {
      for (size_t i = a; i < N; ++i) {
        out.emplace_back(i, i + 1);
        if (members[i].required) break;
      }
    }
    return out;
  };
  std::map<std::pair<uint64_t, uint64_t>, std::string> memo;
  std::function<std::string(uint64_t, uint64_t)> rest = [&](uint64_t a, uint64_t c) -> std::string {
    if (auto it = memo.find({a, c}); it != memo.end()) return it->second;
    const std::string name = rules_.reserve("obj-rest");
    memo[{a, c}] = name;
    std::vector<std::string> alts;
    if (need(a) == 0 && c >= minP) alts.push_back(W + "\"}\"");
    if (c < maxP) {
      const uint64_t c2 = next_c(c);
      for (const auto& [i, b] : moves(a))
        if (live(b, c2)) alts.push_back(W + "\",\" " + W + members[i].text + " " + rest(b, c2));
      if (!extra.empty() && live(a, c2)) alts.push_back(W + "\",\" " + W + extra + " " + rest(a, c2));
    }
    rules_.define(name, join_alts(alts));
    check_budget();
    return name;
  };
  if (!live(0, 0)) {
    note_empty(n.ptr, "minProperties/maxProperties cannot be met with the properties allowed");
    return std::nullopt;
  }
  std::vector<std::string> alts;
  if (need(0) == 0 && minP == 0) alts.push_back("\"}\"");
  if (maxP > 0) {
    const uint64_t c1 = next_c(0);
    for (const auto& [i, b] : moves(0))
      if (live(b, c1)) alts.push_back(members[i].text + " " + rest(b, c1));
    if (!extra.empty() && live(0, c1)) alts.push_back(extra + " " + rest(0, c1));
  }
  return rules_.add("object", "\"{\" " + W + "(" + join_alts(alts) + ")");
}

}  // namespace qtr::grammar::schema_detail
