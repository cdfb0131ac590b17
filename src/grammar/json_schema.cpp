// JSON Schema → GBNF: the driver. Keywords are collected into a Norm (json_schema_compiler.hpp), $ref is resolved
// as a local JSON pointer, combinators are merged or distributed, and the rules are assembled into one grammar.
//
// Keywords (draft 2020-12, with draft-07 spellings: definitions, items as an array, additionalItems, draft-04
// boolean exclusiveMinimum/Maximum):
//   - type, enum, const: exact (enum values are filtered by the other keywords; values compare as JSON, 1 == 1.0);
//   - allOf: merged (types intersected, bounds tightened, required unioned, properties/items per subschema);
//   - anyOf: the union of each branch merged with its siblings; oneOf: the same when the branches are provably
//     disjoint (different types, different const/enum values, or a required property with different constants),
//     otherwise refused (lenient: accepted as anyOf);
//   - not: only `not: {}`/true (nothing), `not: false` and `not: {type: ...}`; other forms refused;
//   - $ref: local pointers ("#", "#/$defs/x", "#/definitions/x", ~0 ~1 and %XX escapes, and a base equal to the
//     root's $id); recursion becomes recursive rules; anchors and remote references are refused;
//   - refused (lenient: dropped): if/then/else, contains, uniqueItems: true, dependentRequired, dependentSchemas,
//     dependencies, propertyNames, unevaluatedProperties/Items (unless true), $dynamicRef, $recursiveRef;
//   - annotations (title, description, default, examples, $comment, deprecated, readOnly, ...) and unknown
//     keywords are ignored, as JSON Schema says.
// The values themselves are written in json_schema_emit.cpp and json_schema_values.cpp; property order and the
// >8-properties relaxation are described there.
//
// A grammar with an empty language (false, an empty enum, minimum > maximum, a required property that cannot be
// met, a recursion with no finite instance) is invalid_argument "no value can satisfy the schema at <pointer>".
#include <algorithm>
#include <tuple>

#include "grammar/grammar.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/json_schema_compiler.hpp"

namespace qtr::grammar {
namespace schema_detail {
namespace {

const Json kTrue(true);
const Json kFalse(false);

bool is_assertion(const std::string& k) {
  static const char* const kKeywords[] = {
      "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
      "minLength", "maxLength", "pattern", "format", "properties", "additionalProperties", "patternProperties",
      "required", "minProperties", "maxProperties", "prefixItems", "items", "additionalItems", "minItems", "maxItems",
      "allOf", "anyOf", "oneOf", "not", "if", "uniqueItems", "contains", "dependentRequired", "dependentSchemas",
      "dependencies", "propertyNames", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef"};
  for (const char* kw : kKeywords)
    if (k == kw) return true;
  return false;
}

unsigned type_bits(const Json& t, const std::string& ptr) {
  if (!t.is_string()) Compiler::fail(Errc::invalid_argument, "'type' at " + Compiler::at(ptr) + " must be a string or an array of strings");
  const std::string& s = t.as_string("");
  if (s == "null") return kNull;
  if (s == "boolean") return kBool;
  if (s == "object") return kObject;
  if (s == "array") return kArray;
  if (s == "string") return kString;
  if (s == "integer") return kInteger;
  if (s == "number") return kInteger | kFraction;
  Compiler::fail(Errc::invalid_argument, "'type' at " + Compiler::at(ptr) + ": unknown type '" + s + "'");
}

unsigned value_bits(const Json& v) {
  switch (v.kind()) {
    case Json::Kind::null: return kNull;
    case Json::Kind::boolean: return kBool;
    case Json::Kind::object: return kObject;
    case Json::Kind::array: return kArray;
    case Json::Kind::string: return kString;
    default: return is_integral(v) ? kInteger : kFraction;
  }
}

uint64_t count_value(const std::string& k, const Json& v, const std::string& ptr) {
  if (!v.is_number() || !is_integral(v) || v.as_double("") < 0) {
    Compiler::fail(Errc::invalid_argument, "'" + k + "' at " + Compiler::at(ptr) + " must be a non-negative integer");
  }
  const double d = v.as_double("");
  return d >= 1.8e19 ? kNoMax - 1 : static_cast<uint64_t>(d);
}

void tighten(Bound& b, const Json& v, bool exclusive, bool lower, const std::string& ptr) {
  const double d = v.as_double("");
  const bool tighter = !b.set || (lower ? d > b.value : d < b.value) || (d == b.value && exclusive && !b.exclusive);
  if (tighter) b = {true, d, exclusive, &v, ptr};
}

std::string percent_decode(const std::string& s) {
  std::string out;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1; };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The types an instance of n can have.
unsigned effective_types(const Norm& n) {
  if (!n.has_enum) return n.types;
  unsigned m = 0;
  for (const Json& v : n.values) m |= value_bits(v);
  return m & (n.types | ((n.types & kFraction) ? 0u : 0u));
}

bool trivial(const Norm& n) {
  return n.types == kAll && !n.has_enum && !n.lo.set && !n.hi.set && !n.multiple && n.min_len == 0 &&
         n.max_len == kNoMax && n.patterns.empty() && n.format.empty() && n.objs.empty() && n.required.empty() &&
         n.min_props == 0 && n.max_props == kNoMax && n.arrs.empty() && n.min_items == 0 && n.max_items == kNoMax &&
         n.choices.empty() && !n.empty;
}

}  // namespace

DepthGuard::DepthGuard(Compiler& c, const std::string& ptr) : c_(c) {
  if (++c_.depth_ > c_.options_.max_depth) {
    --c_.depth_;
    Compiler::fail(Errc::out_of_memory, "the schema nests deeper than max_depth (" + std::to_string(c_.options_.max_depth) +
                                            ") at " + Compiler::at(ptr));
  }
}

Compiler::Compiler(const Json& root, const JsonSchemaOptions& options, std::vector<std::string>& relaxed)
    : root_(root), options_(options), relaxed_(relaxed) {
  style_.compact = options.compact || options.max_whitespace <= 0;
  add_builtin_rules(rules_, options);
}

void Compiler::fail(Errc code, const std::string& message) { throw Error(code, "json-schema: " + message); }

void Compiler::unsupported(const std::string& keyword, const std::string& ptr, const std::string& why) {
  if (!options_.lenient) fail(Errc::unsupported, "'" + keyword + "' at " + at(ptr) + " is not supported" + (why.empty() ? "" : " (" + why + ")"));
  const std::string line = "'" + keyword + "' at " + at(ptr) + ": not enforced" + (why.empty() ? "" : " (" + why + ")");
  if (std::find(relaxed_.begin(), relaxed_.end(), line) == relaxed_.end()) relaxed_.push_back(line);
}

void Compiler::note_empty(const std::string& ptr, const std::string& why) {
  if (first_empty_.empty()) first_empty_ = "at " + at(ptr) + " (" + why + ")";
}

void Compiler::check_budget() const {
  if (rules_.list().size() + regex_out_.rule_count() > options_.max_rules) {
    fail(Errc::out_of_memory, "the grammar needs more than max_rules (" + std::to_string(options_.max_rules) + ") rules");
  }
  if (rules_.bytes() + regex_out_.bytes() > options_.max_grammar_bytes) {
    fail(Errc::out_of_memory, "the grammar is larger than max_grammar_bytes (" + std::to_string(options_.max_grammar_bytes) + ")");
  }
}

std::string Compiler::child(const std::string& ptr, const std::string& key) {
  std::string out = ptr + "/";
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

bool Compiler::is_pure_ref(const Json& s) const {
  if (!s.is_object() || !s.find("$ref")) return false;
  for (const auto& [k, v] : s.as_object(""))
    if (is_assertion(k)) return false;
  return true;
}

Sub Compiler::resolve_ref(const Json& ref, const std::string& ptr) {
  if (!ref.is_string()) fail(Errc::invalid_argument, "'$ref' at " + at(ptr) + " must be a string");
  std::string r = ref.as_string("");
  if (const Json* id = root_.find("$id"); id && id->is_string() && !id->as_string("").empty()) {
    const std::string& base = id->as_string("");
    if (r.compare(0, base.size(), base) == 0 && (r.size() == base.size() || r[base.size()] == '#')) r = r.substr(base.size());
  }
  if (r.empty()) r = "#";
  const std::string pointer = percent_decode(r.substr(1));
  if (r[0] != '#' || (!pointer.empty() && pointer[0] != '/')) {
    unsupported("$ref", ptr, "'" + ref.as_string("") + "' is not a local JSON pointer; anchors, $id-relative and remote references are not resolved");
    return {&kTrue, ptr};
  }
  const Json* cur = &root_;
  std::string canonical;
  size_t i = 1;
  while (i <= pointer.size() && !pointer.empty()) {
    const size_t j = std::min(pointer.find('/', i), pointer.size());
    std::string seg;
    for (size_t k = i; k < j; ++k) {
      if (pointer[k] == '~' && k + 1 < j && (pointer[k + 1] == '0' || pointer[k + 1] == '1')) {
        seg += pointer[k + 1] == '0' ? '~' : '/';
        ++k;
      } else {
        seg += pointer[k];
      }
    }
    const Json* next = nullptr;
    if (cur->is_object()) {
      next = cur->find(seg);
    } else if (cur->is_array() && !seg.empty() && seg.find_first_not_of("0123456789") == std::string::npos && seg.size() < 10) {
      const size_t idx = std::stoul(seg);
      if (idx < cur->as_array("").size()) next = &cur->as_array("")[idx];
    }
    if (!next) fail(Errc::invalid_argument, "'$ref' at " + at(ptr) + ": '" + ref.as_string("") + "' does not resolve");
    cur = next;
    canonical = child(canonical, seg);
    i = j + 1;
  }
  return {cur, canonical};
}

std::optional<std::string> Compiler::compile_list(std::vector<Sub> subs, bool in_container) {
  (void)in_container;
  std::vector<Sub> list;
  for (Sub s : subs) {
    for (int hops = 0; is_pure_ref(*s.schema); ++hops) {
      if (hops > 64) fail(Errc::invalid_argument, "'$ref' at " + at(s.ptr) + " is circular (a chain of references to itself)");
      s = resolve_ref(*s.schema->find("$ref"), s.ptr);
    }
    if (s.schema->is_bool()) {
      if (s.schema->as_bool("")) continue;
      note_empty(s.ptr, "the schema is false");
      return std::nullopt;
    }
    list.push_back(std::move(s));
  }
  if (list.empty()) return "value_";
  std::string key;
  for (const Sub& s : list) key += s.ptr + "\n";
  if (auto it = memo_.find(key); it != memo_.end()) {
    Memo& m = it->second;
    if (m.done) return m.result;
    if (m.container == container_) {
      fail(Errc::invalid_argument, "'$ref' at " + at(list[0].ptr) + " is circular (it reaches its own schema without an object or array in between)");
    }
    m.used = true;
    return m.name;
  }
  const std::string& last = list.back().ptr;
  const std::string hint = last.empty() ? "schema" : last.substr(last.rfind('/') + 1);
  {
    Memo m;
    m.name = rules_.reserve(hint);
    m.container = container_;
    memo_[key] = m;
  }
  std::optional<std::string> result;
  {
    DepthGuard guard(*this, list[0].ptr);
    Norm n;
    n.ptr = list[0].ptr;
    for (const Sub& s : list) collect(*s.schema, s.ptr, n);
    result = emit(n);
  }
  Memo& m = memo_[key];
  m.done = true;
  if (m.used) {
    rules_.define(m.name, result ? *result : "\"\\x00\" " + m.name);  // an empty language: a rule that never ends
    m.result = result ? std::optional<std::string>(m.name) : std::nullopt;
  } else {
    m.result = result;
  }
  check_budget();
  return m.result;
}

void Compiler::collect(const Json& s, const std::string& ptr, Norm& n) {
  if (s.is_bool()) {
    if (!s.as_bool("")) {
      n.empty = true;
      note_empty(ptr, "the schema is false");
    }
    return;
  }
  if (!s.is_object()) fail(Errc::invalid_argument, "the schema at " + at(ptr) + " must be an object or a boolean, not " + json_kind_name(s.kind()));
  DepthGuard guard(*this, ptr);
  ObjPart obj{nullptr, nullptr, nullptr, ptr};
  ArrPart arr{nullptr, "", nullptr, ""};
  for (const auto& [k, v] : s.as_object("")) {
    if (k == "properties" || k == "patternProperties") {
      if (!v.is_object()) fail(Errc::invalid_argument, "'" + k + "' at " + at(ptr) + " must be an object");
      (k == "properties" ? obj.properties : obj.patterns) = &v;
    } else if (k == "additionalProperties") {
      obj.additional = &v;
    } else if (k == "prefixItems" || (k == "items" && v.is_array())) {
      if (!v.is_array()) fail(Errc::invalid_argument, "'" + k + "' at " + at(ptr) + " must be an array");
      arr.prefix = &v;
      arr.prefix_ptr = child(ptr, k);
      if (k == "items" && s.find("additionalItems")) {
        arr.items = s.find("additionalItems");
        arr.items_ptr = child(ptr, "additionalItems");
      }
    } else if (k == "items") {
      arr.items = &v;
      arr.items_ptr = child(ptr, k);
    } else if (k == "additionalItems") {
      // only meaningful with items as an array (handled above)
    } else {
      collect_keyword(k, v, ptr, n);
    }
  }
  if (obj.properties || obj.additional || obj.patterns) n.objs.push_back(obj);
  if (arr.prefix || arr.items) n.arrs.push_back(arr);
  // draft-04: boolean exclusiveMinimum/exclusiveMaximum modify minimum/maximum.
  for (const auto& [flag, base, lower] : {std::tuple{"exclusiveMinimum", "minimum", true}, std::tuple{"exclusiveMaximum", "maximum", false}}) {
    const Json* f = s.find(flag);
    const Json* b = s.find(base);
    if (f && f->is_bool() && f->as_bool("") && b) tighten(lower ? n.lo : n.hi, *b, true, lower, ptr);
  }
}

void Compiler::collect_keyword(const std::string& k, const Json& v, const std::string& ptr, Norm& n) {
  const std::string where = "'" + k + "' at " + at(ptr);
  auto need_number = [&] {
    if (!v.is_number()) fail(Errc::invalid_argument, where + " must be a number");
  };
  auto need_array = [&] {
    if (!v.is_array() || v.as_array("").empty()) fail(Errc::invalid_argument, where + " must be a non-empty array");
  };
  if (k == "type") {
    unsigned mask = 0;
    if (v.is_array()) {
      for (const Json& t : v.as_array("")) mask |= type_bits(t, ptr);
    } else {
      mask = type_bits(v, ptr);
    }
    n.types &= mask;
    if (n.types == 0 && !n.empty) {
      n.empty = true;
      note_empty(ptr, "'type' leaves no type");
    }
  } else if (k == "enum" || k == "const") {
    std::vector<Json> vals;
    if (k == "enum") {
      if (!v.is_array()) fail(Errc::invalid_argument, where + " must be an array");
      vals = v.as_array("");
    } else {
      vals.push_back(v);
    }
    if (n.has_enum) {
      std::vector<Json> kept;
      for (const Json& a : n.values)
        if (std::any_of(vals.begin(), vals.end(), [&](const Json& b) { return json_equal(a, b); })) kept.push_back(a);
      vals = std::move(kept);
    }
    n.has_enum = true;
    n.values = std::move(vals);
    n.enum_ptr = ptr;
    if (n.values.empty() && !n.empty) {
      n.empty = true;
      note_empty(ptr, "'" + k + "' leaves no value");
    }
  } else if (k == "minimum" || k == "exclusiveMinimum" || k == "maximum" || k == "exclusiveMaximum") {
    if (v.is_bool() && k[0] == 'e') return;  // draft-04 flag, applied by collect()
    need_number();
    const bool lower = k == "minimum" || k == "exclusiveMinimum";
    tighten(lower ? n.lo : n.hi, v, k[0] == 'e', lower, ptr);
  } else if (k == "multipleOf") {
    need_number();
    if (v.as_double("") <= 0) fail(Errc::invalid_argument, where + " must be greater than 0");
    if (n.multiple && !json_equal(*n.multiple, v)) unsupported(k, ptr, "several different multipleOf");
    n.multiple = &v;
    n.multiple_ptr = ptr;
  } else if (k == "minLength" || k == "maxLength") {
    const uint64_t c = count_value(k, v, ptr);
    if (k == "minLength") n.min_len = std::max(n.min_len, c);
    else n.max_len = std::min(n.max_len, c);
    n.len_ptr = ptr;
  } else if (k == "minProperties" || k == "maxProperties") {
    const uint64_t c = count_value(k, v, ptr);
    if (k == "minProperties") n.min_props = std::max(n.min_props, c);
    else n.max_props = std::min(n.max_props, c);
  } else if (k == "minItems" || k == "maxItems") {
    const uint64_t c = count_value(k, v, ptr);
    if (k == "minItems") n.min_items = std::max(n.min_items, c);
    else n.max_items = std::min(n.max_items, c);
  } else if (k == "pattern") {
    if (!v.is_string()) fail(Errc::invalid_argument, where + " must be a string");
    n.patterns.push_back({&v, ptr});
  } else if (k == "format") {
    if (!v.is_string()) fail(Errc::invalid_argument, where + " must be a string");
    Rules scratch;
    if (!format_expr(v.as_string(""), scratch)) return;  // an annotation only
    if (!n.format.empty() && n.format != v.as_string("")) unsupported(k, ptr, "two different formats");
    if (n.format.empty()) n.format = v.as_string(""), n.format_ptr = ptr;
  } else if (k == "required") {
    if (!v.is_array()) fail(Errc::invalid_argument, where + " must be an array of strings");
    for (const Json& r : v.as_array("")) {
      if (!r.is_string()) fail(Errc::invalid_argument, where + " must be an array of strings");
      if (std::find(n.required.begin(), n.required.end(), r.as_string("")) == n.required.end()) n.required.push_back(r.as_string(""));
    }
  } else if (k == "allOf") {
    need_array();
    for (size_t i = 0; i < v.as_array("").size(); ++i) collect(v.as_array("")[i], child(child(ptr, k), std::to_string(i)), n);
  } else if (k == "anyOf" || k == "oneOf") {
    need_array();
    Choice c;
    c.one_of = k == "oneOf";
    c.ptr = ptr;
    for (size_t i = 0; i < v.as_array("").size(); ++i) c.branches.push_back({&v.as_array("")[i], child(child(ptr, k), std::to_string(i))});
    n.choices.push_back(std::move(c));
  } else if (k == "$ref") {
    const Sub t = resolve_ref(v, ptr);
    collect(*t.schema, t.ptr, n);
  } else if (k == "not") {
    collect_not(v, ptr, n);
  } else if (k == "uniqueItems") {
    if (!v.is_bool()) fail(Errc::invalid_argument, where + " must be a boolean");
    if (v.as_bool("")) unsupported(k, ptr);
  } else if (k == "unevaluatedProperties" || k == "unevaluatedItems" || k == "propertyNames") {
    if (!(v.is_bool() && v.as_bool(""))) unsupported(k, ptr);
  } else if (k == "if" || k == "contains" || k == "dependentRequired" || k == "dependentSchemas" || k == "dependencies" ||
             k == "$dynamicRef" || k == "$recursiveRef") {
    unsupported(k, ptr);
  }
  // Anything else is an annotation or an unknown keyword: ignored.
}

void Compiler::collect_not(const Json& v, const std::string& ptr, Norm& n) {
  const std::string nptr = child(ptr, "not");
  if ((v.is_bool() && v.as_bool("")) || (v.is_object() && v.as_object("").empty())) {
    n.empty = true;
    note_empty(ptr, "'not' excludes every value");
    return;
  }
  if (v.is_bool()) return;  // not: false
  if (v.is_object() && v.as_object("").size() == 1 && v.find("type")) {
    unsigned mask = 0;
    const Json& t = *v.find("type");
    if (t.is_array()) {
      for (const Json& e : t.as_array("")) mask |= type_bits(e, nptr);
    } else {
      mask = type_bits(t, nptr);
    }
    const unsigned left = n.types & ~mask;
    if ((left & kFraction) && !(left & kInteger)) {
      unsupported("not", ptr, "numbers that are not integers");
      return;
    }
    n.types = left;
    if (n.types == 0 && !n.empty) {
      n.empty = true;
      note_empty(ptr, "'not' leaves no type");
    }
    return;
  }
  unsupported("not", ptr);
}

std::optional<std::vector<Json>> Compiler::property_values(const Norm& n, const std::string& name) {
  Norm p;
  bool any = false;
  for (const ObjPart& o : n.objs) {
    const Json* s = o.properties ? o.properties->find(name) : nullptr;
    if (s) collect(*s, child(child(o.ptr, "properties"), name), p), any = true;
  }
  if (!any || !p.has_enum) return std::nullopt;
  return p.values;
}

bool Compiler::disjoint(const Norm& a, const Norm& b) {
  const unsigned ta = effective_types(a), tb = effective_types(b);
  if ((ta & tb) == 0 || a.empty || b.empty) return true;
  auto share = [](const std::vector<Json>& x, const std::vector<Json>& y) {
    for (const Json& v : x)
      for (const Json& w : y)
        if (json_equal(v, w)) return true;
    return false;
  };
  if (a.has_enum && b.has_enum) return !share(a.values, b.values);
  if ((ta & tb) == kObject) {  // tagged unions: a required property with different constants
    for (const std::string& r : a.required) {
      if (std::find(b.required.begin(), b.required.end(), r) == b.required.end()) continue;
      const auto va = property_values(a, r), vb = property_values(b, r);
      if (va && vb && !share(*va, *vb)) return true;
    }
  }
  return false;
}

std::optional<std::string> Compiler::emit_choice(const Norm& n) {
  const Choice c = n.choices[0];
  Norm rest = n;
  rest.choices.erase(rest.choices.begin());
  const bool plain = trivial(rest);
  std::vector<std::string> alts;
  std::vector<Norm> norms;
  const std::string saved = first_empty_;
  for (const Sub& b : c.branches) {
    Norm m = rest;
    if (!plain || c.one_of) collect(*b.schema, b.ptr, m);
    norms.push_back(m);
    const std::optional<std::string> r = plain ? compile_list({b}, false) : emit(m);
    if (r && std::find(alts.begin(), alts.end(), *r) == alts.end()) alts.push_back(*r);
  }
  if (c.one_of) {
    for (size_t i = 0; i < norms.size(); ++i)
      for (size_t j = i + 1; j < norms.size(); ++j)
        if (!disjoint(norms[i], norms[j])) {
          unsupported("oneOf", c.ptr, "branches " + std::to_string(i) + " and " + std::to_string(j) +
                                          " may overlap; accepted as anyOf");
          i = j = norms.size();
        }
  }
  if (alts.empty()) return std::nullopt;
  first_empty_ = saved;
  if (alts.size() == 1) return alts[0];
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return rules_.add(c.one_of ? "one-of" : "any-of", body);
}

std::optional<std::string> Compiler::emit(const Norm& n) {
  if (n.empty) return std::nullopt;
  if (!n.choices.empty()) return emit_choice(n);
  if (n.has_enum) return emit_enum(n);
  std::vector<std::string> alts;
  if (n.types & kObject)
    if (auto e = emit_object(n)) alts.push_back(*e);
  if (n.types & kArray)
    if (auto e = emit_array(n)) alts.push_back(*e);
  if (n.types & kString)
    if (auto e = emit_string(n)) alts.push_back(*e);
  if (n.types & (kInteger | kFraction))
    if (auto e = emit_number(n)) alts.push_back(*e);
  if (n.types & kBool) alts.push_back("\"true\""), alts.push_back("\"false\"");
  if (n.types & kNull) alts.push_back("\"null\"");
  if (alts.empty()) {
    note_empty(n.ptr, "no type is left that its keywords allow");
    return std::nullopt;
  }
  if (alts.size() == 1) return alts[0];
  std::string body;
  for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
  return rules_.add("value", body);
}

std::string Compiler::finish(const std::string& top, bool check) {
  std::vector<std::pair<std::string, std::string>> all;
  all.emplace_back("root", style_.compact ? top : "ws_ " + top + " ws_");
  for (const auto& r : rules_.list()) all.push_back(r);
  {
    const std::string text = regex_out_.text();
    size_t pos = text.find('\n') + 1;  // skip the writer's (empty) root line
    while (pos < text.size()) {
      const size_t end = text.find('\n', pos);
      const std::string line = text.substr(pos, end - pos);
      const size_t sep = line.find(" ::= ");
      if (sep != std::string::npos) all.emplace_back(line.substr(0, sep), line.substr(sep + 5));
      pos = end + 1;
    }
  }
  // Keep the rules reachable from the root.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < all.size(); ++i) index.emplace(all[i].first, i);
  std::vector<char> keep(all.size(), 0);
  std::vector<size_t> work = {0};
  keep[0] = 1;
  while (!work.empty()) {
    const std::string& body = all[work.back()].second;
    work.pop_back();
    for (size_t i = 0; i < body.size();) {
      const char c = body[i];
      if (c == '"' || c == '[') {
        const char close = c == '"' ? '"' : ']';
        for (++i; i < body.size() && body[i] != close; ++i)
          if (body[i] == '\\') ++i;
        ++i;
      } else if (c == '{') {
        i = body.find('}', i) + 1;
      } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
        size_t j = i;
        while (j < body.size() && ((body[j] >= 'a' && body[j] <= 'z') || (body[j] >= 'A' && body[j] <= 'Z') ||
                                   (body[j] >= '0' && body[j] <= '9') || body[j] == '_' || body[j] == '-'))
          ++j;
        auto it = index.find(body.substr(i, j - i));
        if (it != index.end() && !keep[it->second]) keep[it->second] = 1, work.push_back(it->second);
        i = j;
      } else {
        ++i;
      }
    }
  }
  std::string out;
  size_t count = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!keep[i]) continue;
    out += all[i].first + " ::= " + all[i].second + "\n";
    ++count;
  }
  if (count > options_.max_rules) fail(Errc::out_of_memory, "the grammar needs more than max_rules (" + std::to_string(options_.max_rules) + ") rules");
  if (out.size() > options_.max_grammar_bytes) fail(Errc::out_of_memory, "the grammar is larger than max_grammar_bytes (" + std::to_string(options_.max_grammar_bytes) + ")");
  if (check) {
    try {
      (void)parse_gbnf(out);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (e.code() == Errc::invalid_argument && what.find("language is empty") != std::string::npos) {
        fail(Errc::invalid_argument, "no value can satisfy the schema (its recursion has no finite instance)");
      }
      if (e.code() == Errc::out_of_memory) throw;
      fail(Errc::internal, "the grammar written for the schema does not parse: " + what);
    }
  }
  return out;
}

}  // namespace schema_detail

JsonSchemaResult json_schema_to_gbnf(const Json& schema, const JsonSchemaOptions& options) {
  using namespace schema_detail;
  JsonSchemaResult result;
  Compiler c(schema, options, result.relaxed);
  const std::optional<std::string> top = c.compile_list({{&schema, ""}}, false);
  if (!top) {
    Compiler::fail(Errc::invalid_argument, "no value can satisfy the schema " + (c.empty_reason().empty() ? std::string("at the root") : c.empty_reason()));
  }
  result.gbnf = c.finish(*top, true);
  return result;
}

}  // namespace qtr::grammar
