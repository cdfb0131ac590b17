// Jinja builtins: filters, tests, str/dict/list methods and globals (range, namespace, raise_exception,
// strftime_now, dict), following jinja2 3.1 and Python semantics.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "chat/jinja_eval.hpp"
#include "qtr/utf8.hpp"

namespace qtr::jinja {

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2's sandbox refuses larger ranges

const Value* arg(const CallArgs& a, size_t index, std::string_view name) {
  if (index < a.positional.size()) return &a.positional[index];
  for (const auto& [k, v] : a.keywords) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string str_arg(const CallArgs& a, size_t index, std::string_view name, const char* fallback, const char* who) {
  const Value* v = arg(a, index, name);
  if (!v || v->is_none()) return fallback;
  if (!v->is_string()) type_error(std::string(who) + ": argument '" + std::string(name) + "' must be a string");
  return v->str_ref();
}

int64_t int_arg(const CallArgs& a, size_t index, std::string_view name, int64_t fallback, const char* who) {
  const Value* v = arg(a, index, name);
  if (!v || v->is_none()) return fallback;
  if (!v->is_int() && !v->is_bool()) type_error(std::string(who) + ": argument '" + std::string(name) + "' must be an integer");
  return v->as_int();
}

bool bool_arg(const CallArgs& a, size_t index, std::string_view name, bool fallback) {
  const Value* v = arg(a, index, name);
  return v ? truthy(*v) : fallback;
}

const std::string& need_str(const Value& v, const char* who) {
  if (v.is_undefined()) undefined_error(v);
  if (!v.is_string()) type_error(std::string(who) + " needs a string, got " + type_name(v));
  return v.str_ref();
}

// Simple case mapping of one code point (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic); others unchanged.
char32_t map_case(char32_t c, bool upper) {
  auto in = [&](char32_t lo, char32_t hi) { return c >= lo && c <= hi; };
  if (upper) {
    if (in('a', 'z') || (in(0xE0, 0xFE) && c != 0xF7) || in(0x3B1, 0x3C1) || in(0x3C3, 0x3C9) || in(0x430, 0x44F)) {
      return c - 32;
    }
    if (c == 0xFF) return 0x178;
    if (c == 0x3C2) return 0x3A3;
    if (in(0x450, 0x45F)) return c - 80;
    if (c == 0x3AC) return 0x386;
    if (in(0x3AD, 0x3AF)) return c - 37;
    if (c == 0x3CC) return 0x38C;
    if (c == 0x3CD || c == 0x3CE) return c - 63;
    if ((in(0x100, 0x137) || in(0x14A, 0x177)) && (c & 1)) return c - 1;
    if ((in(0x139, 0x148) || in(0x179, 0x17E)) && !(c & 1)) return c - 1;
    return c;
  }
  if (in('A', 'Z') || (in(0xC0, 0xDE) && c != 0xD7) || in(0x391, 0x3A1) || in(0x3A3, 0x3A9) || in(0x410, 0x42F)) {
    return c + 32;
  }
  if (c == 0x178) return 0xFF;
  if (in(0x400, 0x40F)) return c + 80;
  if (c == 0x386) return 0x3AC;
  if (in(0x388, 0x38A)) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if ((in(0x100, 0x137) || in(0x14A, 0x177)) && !(c & 1)) return c + 1;
  if ((in(0x139, 0x148) || in(0x179, 0x17E)) && (c & 1)) return c + 1;
  return c;
}

// str.upper()/lower() with map_case; U+00DF (sharp s) upper-cases to "SS" as in Python.
std::string change_case(std::string_view s, bool upper) {
  std::string out;
  for (std::string_view cp : code_points(s)) {
    if (cp.size() == 1) {
      out += static_cast<char>(map_case(static_cast<unsigned char>(cp[0]), upper));
      continue;
    }
    if (utf8::valid_sequence_length(cp) != cp.size()) {
      out += cp;
      continue;
    }
    const char32_t c = utf8::decode(cp, cp.size());
    if (upper && c == 0xDF) {
      out += "SS";
      continue;
    }
    utf8::append(out, map_case(c, upper));
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string lower = change_case(s, false);
  if (!lower.empty()) {
    const auto cps = code_points(lower);
    return change_case(cps[0], true) + lower.substr(cps[0].size());
  }
  return lower;
}

// str.title(): a cased character after an uncased one is upper-cased, other cased characters lower-cased.
std::string py_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (std::string_view cp : code_points(s)) {
    const char32_t c = cp.size() == 1 || utf8::valid_sequence_length(cp) != cp.size()
                           ? static_cast<unsigned char>(cp[0])
                           : utf8::decode(cp, cp.size());
    const bool cased = cp.size() <= 4 && (map_case(c, true) != c || map_case(c, false) != c || c == 0xDF);
    out += cased ? change_case(cp, !prev_cased) : std::string(cp);
    prev_cased = cased;
  }
  return out;
}

// jinja2's title filter: capitalize each piece split at runs of [-\s({[<].
std::string jinja_title(std::string_view s) {
  std::string out, word;
  auto is_sep = [](std::string_view cp) {
    return is_py_space(cp) || cp == "-" || cp == "(" || cp == "{" || cp == "[" || cp == "<";
  };
  auto flush = [&] {
    if (!word.empty()) out += py_capitalize(word);
    word.clear();
  };
  for (std::string_view cp : code_points(s)) {
    if (is_sep(cp)) {
      flush();
      out += cp;
    } else {
      word += cp;
    }
  }
  flush();
  return out;
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count) {
  if (count < 0) count = std::numeric_limits<int64_t>::max();
  std::string out;
  if (old.empty()) {
    const auto cps = code_points(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (done < count) {
        out += repl;
        ++done;
      }
      if (i < cps.size()) out += cps[i];
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (done < count) {
    const size_t f = s.find(old, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += repl;
    pos = f + old.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

List py_split(const std::string& s, const Value* sep, int64_t maxsplit) {
  List parts;
  if (maxsplit < 0) maxsplit = std::numeric_limits<int64_t>::max();
  if (!sep || sep->is_none()) {
    const auto cps = code_points(s);
    size_t i = 0;
    int64_t splits = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      std::string word;
      if (splits >= maxsplit) {
        for (; i < cps.size(); ++i) word += cps[i];
        // Python keeps the rest as-is but strips trailing whitespace only when splitting on whitespace.
        parts.push_back(Value::string(py_strip(word, false, true)));
        break;
      }
      while (i < cps.size() && !is_py_space(cps[i])) word += cps[i++];
      parts.push_back(Value::string(std::move(word)));
      ++splits;
    }
    return parts;
  }
  const std::string& d = need_str(*sep, "split");
  if (d.empty()) type_error("empty separator");
  size_t pos = 0;
  int64_t splits = 0;
  while (splits < maxsplit) {
    const size_t f = s.find(d, pos);
    if (f == std::string::npos) break;
    parts.push_back(Value::string(s.substr(pos, f - pos)));
    pos = f + d.size();
    ++splits;
  }
  parts.push_back(Value::string(s.substr(pos)));
  return parts;
}

bool prefix_match(const std::string& s, const Value& p, bool suffix) {
  auto one = [&](const Value& x) {
    const std::string& t = need_str(x, suffix ? "endswith" : "startswith");
    if (t.size() > s.size()) return false;
    return suffix ? s.compare(s.size() - t.size(), t.size(), t) == 0 : s.compare(0, t.size(), t) == 0;
  };
  if (p.kind() == Value::Kind::tuple) {
    for (const auto& x : p.items()) {
      if (one(x)) return true;
    }
    return false;
  }
  return one(p);
}

Value string_method(const std::string& s, const std::string& name, CallArgs& a) {
  const char* who = name.c_str();
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value* chars = arg(a, 0, "chars");
    std::string set;
    if (chars && !chars->is_none()) set = need_str(*chars, who);
    return Value::string(py_strip(s, name != "rstrip", name != "lstrip", chars && !chars->is_none() ? &set : nullptr));
  }
  if (name == "split") return Value::list(py_split(s, arg(a, 0, "sep"), int_arg(a, 1, "maxsplit", -1, who)));
  if (name == "startswith" || name == "endswith") {
    const Value* p = arg(a, 0, "prefix");
    if (!p) type_error(name + "() takes at least 1 argument");
    return Value::boolean(prefix_match(s, *p, name == "endswith"));
  }
  if (name == "upper") return Value::string(change_case(s, true));
  if (name == "lower") return Value::string(change_case(s, false));
  if (name == "title") return Value::string(py_title(s));
  if (name == "capitalize") return Value::string(py_capitalize(s));
  if (name == "replace") {
    const Value* o = arg(a, 0, "old");
    const Value* n = arg(a, 1, "new");
    if (!o || !n) type_error("replace() takes at least 2 arguments");
    return Value::string(py_replace(s, need_str(*o, who), need_str(*n, who), int_arg(a, 2, "count", -1, who)));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const Value* sub = arg(a, 0, "sub");
    if (!sub) type_error(name + "() takes at least 1 argument");
    const std::string& t = need_str(*sub, who);
    if (name == "count") {
      if (t.empty()) return Value::integer(static_cast<int64_t>(code_point_count(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(t); p != std::string::npos; p = s.find(t, p + t.size())) ++n;
      return Value::integer(n);
    }
    const size_t p = name[0] == 'r' ? s.rfind(t) : s.find(t);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") type_error("substring not found");
      return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(code_point_count(std::string_view(s).substr(0, p))));
  }
  if (name == "join") {
    const Value* items = arg(a, 0, "iterable");
    if (!items) type_error("join() takes exactly one argument");
    std::string out;
    bool first = true;
    for (const auto& x : iterate(*items)) {
      if (!first) out += s;
      first = false;
      out += need_str(x, "join");
    }
    return Value::string(std::move(out));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    if (s.empty()) return Value::boolean(false);
    for (std::string_view cp : code_points(s)) {
      const char c = cp.size() == 1 ? cp[0] : 0;
      const bool digit = c >= '0' && c <= '9';
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool ok = name == "isdigit" ? digit : name == "isalpha" ? alpha : name == "isalnum" ? (digit || alpha) : is_py_space(cp);
      if (!ok) return Value::boolean(false);
    }
    return Value::boolean(true);
  }
  if (name == "format") eval_fail(Errc::unsupported, "str.format() is not supported");
  eval_fail(Errc::internal, "unknown str method " + name);
}

bool is_string_method(const std::string& n) {
  static const char* const kNames[] = {"strip", "lstrip", "rstrip", "split", "startswith", "endswith", "upper",
                                       "lower", "title", "capitalize", "replace", "find", "rfind", "index", "rindex",
                                       "count", "join", "isdigit", "isalpha", "isspace", "isalnum", "format"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

List dict_items(const Value& d) {
  List out;
  for (const auto& [k, v] : d.dict_ref().entries) out.push_back(Value::tuple({k, v}));
  return out;
}

// Attribute or item for selectattr/map/join/sort(attribute=...): jinja2's make_attrgetter uses getitem, which
// tries the item first; "a.b" walks both levels.
Value attr_path(Interpreter& in, const Value& obj, const std::string& path) {
  Value cur = obj;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value key = Value::string(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      key = Value::integer(std::strtoll(part.c_str(), nullptr, 10));
    }
    cur = in.get_item(cur, key);
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(change_case(v.str_ref(), false));
  return v;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value filter_select(Interpreter& in, const Value& seq, CallArgs& a, bool by_attr, bool keep) {
  size_t next = 0;
  std::string attr;
  if (by_attr) {
    const Value* av = arg(a, next++, "attribute");
    if (!av) type_error("selectattr/rejectattr need an attribute name");
    attr = need_str(*av, "selectattr");
  }
  std::string test;
  if (next < a.positional.size()) test = need_str(a.positional[next++], "select test name");
  std::vector<Value> test_args(a.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, a.positional.size())),
                               a.positional.end());
  if (!test.empty() && !is_known_test(test)) eval_fail(Errc::unsupported, "unknown test '" + test + "'");
  List out;
  for (const auto& item : iterate(seq)) {
    in.step();
    const Value subject = by_attr ? attr_path(in, item, attr) : item;
    const bool ok = test.empty() ? truthy(subject) : apply_test(in, test, subject, test_args);
    if (ok == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value to_int(const Value& v, const Value& fallback, int base) {
  if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
  if (v.is_float()) {
    const double d = v.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    std::string t = py_strip(v.str_ref(), true, true);
    t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
    if (!t.empty()) {
      char* end = nullptr;
      errno = 0;
      const long long r = std::strtoll(t.c_str(), &end, base);
      if (*end == 0 && errno == 0) return Value::integer(r);
      const double d = std::strtod(t.c_str(), &end);
      if (*end == 0 && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
    }
  }
  return fallback;
}

}  // namespace

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::undefined: return {};
    case Value::Kind::list:
    case Value::Kind::tuple: return v.items();
    case Value::Kind::dict: {
      List keys;
      for (const auto& [k, x] : v.dict_ref().entries) keys.push_back(k);
      return keys;
    }
    case Value::Kind::string: {
      List chars;
      for (std::string_view cp : code_points(v.str_ref())) chars.push_back(Value::string(std::string(cp)));
      return chars;
    }
    default: type_error(std::string("'") + type_name(v) + "' object is not iterable");
  }
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::undefined: return 0;
    case Value::Kind::string: return static_cast<int64_t>(code_point_count(v.str_ref()));
    case Value::Kind::list:
    case Value::Kind::tuple: return static_cast<int64_t>(v.items().size());
    case Value::Kind::dict: return static_cast<int64_t>(v.dict_ref().entries.size());
    default: type_error(std::string("object of type '") + type_name(v) + "' has no len()");
  }
}

Value get_method(const Value& self, const std::string& name) {
  if (self.is_string()) {
    if (!is_string_method(name)) return Value::undefined();
    return Value::callable("str." + name, [self, name](Interpreter&, CallArgs& a) {
      return string_method(self.str_ref(), name, a);
    });
  }
  if (self.is_dict()) {
    if (name == "get") {
      return Value::callable("dict.get", [self](Interpreter&, CallArgs& a) {
        const Value* key = arg(a, 0, "key");
        if (!key) type_error("get expected at least 1 argument, got 0");
        if (const Value* v = self.dict_ref().find(*key)) return *v;
        const Value* d = arg(a, 1, "default");
        return d ? *d : Value::none();
      });
    }
    if (name == "items" || name == "keys" || name == "values") {
      return Value::callable("dict." + name, [self, name](Interpreter&, CallArgs&) {
        if (name == "items") return Value::list(dict_items(self));
        List out;
        for (const auto& [k, v] : self.dict_ref().entries) out.push_back(name == "keys" ? k : v);
        return Value::list(std::move(out));
      });
    }
    if (name == "pop" || name == "popitem" || name == "update" || name == "setdefault" || name == "clear") {
      return Value::callable("dict." + name, [name](Interpreter&, CallArgs&) -> Value {
        eval_fail(Errc::unsupported, "dict." + name + "() modifies a value, which chat templates may not do");
      });
    }
    return Value::undefined();
  }
  if (self.is_sequence()) {
    if (name == "append" || name == "pop" || name == "extend" || name == "insert" || name == "remove" ||
        name == "sort" || name == "reverse" || name == "clear") {
      return Value::callable("list." + name, [name](Interpreter&, CallArgs&) -> Value {
        eval_fail(Errc::unsupported, "list." + name + "() modifies a value, which chat templates may not do");
      });
    }
    if (name == "index" || name == "count") {
      return Value::callable("list." + name, [self, name](Interpreter&, CallArgs& a) {
        const Value* x = arg(a, 0, "value");
        if (!x) type_error(name + "() takes exactly one argument");
        int64_t n = 0;
        for (size_t i = 0; i < self.items().size(); ++i) {
          if (equals(self.items()[i], *x)) {
            if (name == "index") return Value::integer(static_cast<int64_t>(i));
            ++n;
          }
        }
        if (name == "index") type_error("value is not in list");
        return Value::integer(n);
      });
    }
  }
  return Value::undefined();
}

bool is_known_filter(std::string_view n) {
  static const char* const kNames[] = {
      "abs",   "attr",  "capitalize", "count",  "d",       "default", "e",      "escape", "first",   "float",
      "indent", "int",  "items",      "join",   "last",    "length",  "list",   "lower",  "map",     "max",
      "min",   "reject", "rejectattr", "replace", "reverse", "safe",  "select", "selectattr", "sort", "string",
      "sum",   "title", "tojson",     "trim",   "unique",  "upper",   "wordcount", "forceescape", "center"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

bool is_known_test(std::string_view n) {
  static const char* const kNames[] = {
      "defined", "undefined", "none",  "boolean", "true",   "false", "integer",  "float", "number", "string",
      "mapping", "iterable",  "sequence", "callable", "sameas", "odd", "even",   "divisibleby", "eq", "equalto",
      "==",      "ne",        "!=",    "lt",      "<",      "lessthan", "le",   "<=",    "gt",     ">",
      "greaterthan", "ge",    ">=",    "in",      "lower",  "upper", "filter",  "test",  "escaped"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

bool apply_test([[maybe_unused]] Interpreter& in, const std::string& n, const Value& v, const std::vector<Value>& args) {
  auto need = [&](size_t k) -> const Value& {
    if (args.size() < k + 1) type_error("test '" + n + "' needs an argument");
    return args[k];
  };
  auto cmp = [&](const char* op) {
    const Value& o = need(0);
    if (v.is_undefined()) undefined_error(v);
    if (o.is_undefined()) undefined_error(o);
    bool ok = false;
    const int c = compare(v, o, ok);
    if (!ok) type_error(std::string("'") + op + "' not supported between instances of '" + type_name(v) + "' and '" + type_name(o) + "'");
    return c;
  };
  if (n == "defined") return !v.is_undefined();
  if (n == "undefined") return v.is_undefined();
  if (n == "none") return v.is_none();
  if (n == "boolean") return v.is_bool();
  if (n == "true") return v.is_bool() && v.as_bool();
  if (n == "false") return v.is_bool() && !v.as_bool();
  if (n == "integer") return v.is_int();
  if (n == "float") return v.is_float();
  if (n == "number") return v.is_number();
  if (n == "string") return v.is_string();
  if (n == "mapping") return v.is_dict();
  if (n == "iterable") return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (n == "sequence") return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (n == "callable") return v.is_callable() || v.is_undefined();
  if (n == "escaped") return false;
  if (n == "filter") return is_known_filter(need_str(need(0), "filter test"));
  if (n == "test") return is_known_test(need_str(need(0), "test test"));
  if (n == "sameas") {
    const Value& o = need(0);
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.kind() == o.kind() && equals(v, o);
    return false;
  }
  if (n == "odd" || n == "even" || n == "divisibleby") {
    if (v.is_undefined()) undefined_error(v);
    if (!v.is_int() && !v.is_bool()) type_error("test '" + n + "' needs an integer, got " + type_name(v));
    if (n == "divisibleby") {
      const Value& d = need(0);
      if (!d.is_int() || d.as_int() == 0) type_error("divisibleby needs a non-zero integer");
      return v.as_int() % d.as_int() == 0;
    }
    return (v.as_int() % 2 != 0) == (n == "odd");
  }
  if (n == "eq" || n == "equalto" || n == "==") return equals(v, need(0));
  if (n == "ne" || n == "!=") return !equals(v, need(0));
  if (n == "lt" || n == "<" || n == "lessthan") return cmp("<") < 0;
  if (n == "le" || n == "<=") return cmp("<=") <= 0;
  if (n == "gt" || n == ">" || n == "greaterthan") return cmp(">") > 0;
  if (n == "ge" || n == ">=") return cmp(">=") >= 0;
  if (n == "in") {
    const Value& seq = need(0);
    if (seq.is_string()) return v.is_string() && seq.str_ref().find(v.str_ref()) != std::string::npos;
    if (seq.is_dict()) return seq.dict_ref().find(v) != nullptr;
    for (const auto& x : iterate(seq)) {
      if (equals(x, v)) return true;
    }
    return false;
  }
  if (n == "lower" || n == "upper") {
    const std::string s = to_str(v);
    bool cased = false;
    for (char c : s) {
      if (c >= 'a' && c <= 'z') {
        if (n == "upper") return false;
        cased = true;
      } else if (c >= 'A' && c <= 'Z') {
        if (n == "lower") return false;
        cased = true;
      }
    }
    return cased;
  }
  eval_fail(Errc::unsupported, "unknown test '" + n + "'");
}

Value apply_filter(Interpreter& in, const std::string& n, const Value& v, CallArgs& a) {
  const char* who = n.c_str();
  if (n == "default" || n == "d") {
    const Value* dflt = arg(a, 0, "default_value");
    const bool boolean = bool_arg(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !truthy(v))) return dflt ? *dflt : Value::string("");
    return v;
  }
  if (n == "length" || n == "count") return Value::integer(py_len(v));
  if (n == "string") return Value::string(to_str(v));
  if (n == "safe") return v.is_string() ? v : Value::string(to_str(v));
  if (n == "e" || n == "escape" || n == "forceescape") return Value::string(html_escape(to_str(v)));
  if (n == "trim") {
    const Value* chars = arg(a, 0, "chars");
    std::string set;
    if (chars && !chars->is_none()) set = need_str(*chars, who);
    return Value::string(py_strip(to_str(v), true, true, chars && !chars->is_none() ? &set : nullptr));
  }
  if (n == "upper") return Value::string(change_case(to_str(v), true));
  if (n == "lower") return Value::string(change_case(to_str(v), false));
  if (n == "capitalize") return Value::string(py_capitalize(to_str(v)));
  if (n == "title") return Value::string(jinja_title(to_str(v)));
  if (n == "replace") {
    const Value* o = arg(a, 0, "old");
    const Value* r = arg(a, 1, "new");
    if (!o || !r) type_error("replace needs 'old' and 'new'");
    return Value::string(py_replace(to_str(v), to_str(*o), to_str(*r), int_arg(a, 2, "count", -1, who)));
  }
  if (n == "wordcount") return Value::integer(static_cast<int64_t>(py_split(to_str(v), nullptr, -1).size()));
  if (n == "center") {
    const int64_t width = int_arg(a, 0, "width", 80, who);
    const std::string s = to_str(v);
    const int64_t len = static_cast<int64_t>(code_point_count(s));
    if (width <= len) return Value::string(s);
    if (width > 1 << 20) eval_fail(Errc::out_of_memory, "center width too large");
    const int64_t marg = width - len;
    const int64_t left = marg / 2 + (marg & width & 1);
    return Value::string(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(marg - left), ' '));
  }
  if (n == "indent") {
    const Value* w = arg(a, 0, "width");
    std::string pad = "    ";
    if (w && w->is_string()) pad = w->str_ref();
    else if (w) {
      const int64_t k = int_arg(a, 0, "width", 4, who);
      if (k < 0 || k > 1 << 16) type_error("indent width out of range");
      pad = std::string(static_cast<size_t>(k), ' ');
    }
    const bool first = bool_arg(a, 1, "first", false), blank = bool_arg(a, 2, "blank", false);
    std::string s = to_str(v) + "\n";
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t p = s.find('\n'); p != std::string::npos; p = s.find('\n', start)) {
      lines.push_back(s.substr(start, p - start));
      start = p + 1;
    }
    std::string rv;
    if (blank) {
      for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + pad : "") + lines[i];
    } else {
      rv = lines[0];
      for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : pad) + lines[i];
    }
    return Value::string(first ? pad + rv : rv);
  }
  if (n == "int") {
    const Value* d = arg(a, 0, "default");
    return to_int(v, d ? *d : Value::integer(0), static_cast<int>(int_arg(a, 1, "base", 10, who)));
  }
  if (n == "float") {
    const Value* d = arg(a, 0, "default");
    if (v.is_number()) return Value::floating(v.as_double());
    if (v.is_string()) {
      const std::string t = py_strip(v.str_ref(), true, true);
      char* end = nullptr;
      const double x = std::strtod(t.c_str(), &end);
      if (!t.empty() && *end == 0) return Value::floating(x);
    }
    return d ? *d : Value::floating(0.0);
  }
  if (n == "abs") {
    if (v.is_float()) return Value::floating(std::fabs(v.as_double()));
    if (v.is_int() || v.is_bool()) return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
    type_error(std::string("bad operand type for abs(): '") + type_name(v) + "'");
  }
  if (n == "list") return Value::list(iterate(v));
  if (n == "items") {
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict()) type_error("Can only get item pairs from a mapping.");
    return Value::list(dict_items(v));
  }
  if (n == "first" || n == "last") {
    if (v.is_undefined() && n == "last") undefined_error(v);
    const List items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No ") + n + " item, sequence was empty.");
    return n == "first" ? items.front() : items.back();
  }
  if (n == "reverse") {
    if (v.is_string()) {
      const auto cps = code_points(v.str_ref());
      std::string s;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) s += *it;
      return Value::string(std::move(s));
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (n == "join") {
    const std::string sep = str_arg(a, 0, "d", "", who);
    const Value* attr = arg(a, 1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& x : iterate(v)) {
      in.step();
      if (!first) out += sep;
      first = false;
      out += to_str(attr && !attr->is_none() ? attr_path(in, x, to_str(*attr)) : x);
      if (out.size() > in.limits().max_output_bytes) eval_fail(Errc::out_of_memory, "join result too large");
    }
    return Value::string(std::move(out));
  }
  if (n == "select" || n == "reject") return filter_select(in, v, a, false, n == "select");
  if (n == "selectattr" || n == "rejectattr") return filter_select(in, v, a, true, n == "selectattr");
  if (n == "map") {
    List out;
    const Value* attr = nullptr;
    for (const auto& [k, x] : a.keywords) {
      if (k == "attribute") attr = &x;
    }
    if (attr) {
      const Value* dflt = nullptr;
      for (const auto& [k, x] : a.keywords) {
        if (k == "default") dflt = &x;
      }
      for (const auto& x : iterate(v)) {
        Value r = attr_path(in, x, to_str(*attr));
        if (r.is_undefined() && dflt) r = *dflt;
        out.push_back(std::move(r));
      }
      return Value::list(std::move(out));
    }
    if (a.positional.empty()) type_error("map needs a filter name or attribute=");
    const std::string filter = need_str(a.positional[0], "map");
    if (!is_known_filter(filter)) eval_fail(Errc::unsupported, "unknown filter '" + filter + "'");
    CallArgs rest;
    rest.positional.assign(a.positional.begin() + 1, a.positional.end());
    rest.keywords = a.keywords;
    for (const auto& x : iterate(v)) {
      in.step();
      CallArgs copy = rest;
      out.push_back(apply_filter(in, filter, x, copy));
    }
    return Value::list(std::move(out));
  }
  if (n == "unique" || n == "sort" || n == "min" || n == "max") {
    const bool case_sensitive = bool_arg(a, n == "sort" ? 1 : 0, "case_sensitive", false);
    const Value* attr = arg(a, n == "sort" ? 2 : (n == "unique" ? 1 : 1), "attribute");
    auto key = [&](const Value& x) {
      return sort_key(attr && !attr->is_none() ? attr_path(in, x, to_str(*attr)) : x, case_sensitive);
    };
    List items = iterate(v);
    if (n == "unique") {
      List out, seen;
      for (const auto& x : items) {
        const Value k = key(x);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) {
          seen.push_back(k);
          out.push_back(x);
        }
      }
      return Value::list(std::move(out));
    }
    auto less = [&](const Value& x, const Value& y) {
      bool ok = false;
      const int c = compare(key(x), key(y), ok);
      if (!ok) type_error(std::string("'<' not supported between instances of '") + type_name(x) + "' and '" + type_name(y) + "'");
      return c < 0;
    };
    if (n == "sort") {
      // Python's sort(reverse=True) keeps equal items in their original order, as a stable sort on y < x does.
      const bool reverse = bool_arg(a, 0, "reverse", false);
      std::stable_sort(items.begin(), items.end(),
                       [&](const Value& x, const Value& y) { return reverse ? less(y, x) : less(x, y); });
      return Value::list(std::move(items));
    }
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    Value best = items[0];
    for (size_t i = 1; i < items.size(); ++i) {
      if (n == "min" ? less(items[i], best) : less(best, items[i])) best = items[i];
    }
    return best;
  }
  if (n == "sum") {
    const Value* attr = arg(a, 0, "attribute");
    const Value* start = arg(a, 1, "start");
    int64_t isum = start && (start->is_int() || start->is_bool()) ? start->as_int() : 0;
    double fsum = start && start->is_float() ? start->as_double() : 0;
    bool is_float = start && start->is_float();
    for (const auto& x0 : iterate(v)) {
      const Value x = attr && !attr->is_none() ? attr_path(in, x0, to_str(*attr)) : x0;
      if (x.is_float()) {
        if (!is_float) fsum = static_cast<double>(isum);
        is_float = true;
        fsum += x.as_double();
      } else if (x.is_int() || x.is_bool()) {
        if (is_float) fsum += static_cast<double>(x.as_int());
        else if (__builtin_add_overflow(isum, x.as_int(), &isum)) eval_fail(Errc::unsupported, "integer overflow");
      } else {
        type_error(std::string("unsupported operand type(s) for +: 'int' and '") + type_name(x) + "'");
      }
    }
    return is_float ? Value::floating(fsum) : Value::integer(isum);
  }
  if (n == "attr") {
    const Value* name = arg(a, 0, "name");
    if (!name) type_error("attr needs a name");
    return in.get_attr(v, need_str(*name, who));
  }
  if (n == "tojson") {
    bool ok = false;
    std::string out;
    const Value* indent_v = arg(a, 0, "indent");
    const int indent = indent_v && !indent_v->is_none() ? static_cast<int>(int_arg(a, 0, "indent", -1, who)) : -1;
    if (indent > 64) type_error("tojson indent too large");
    if (in.limits().jinja2_tojson) {
      out = to_json(v, true, indent, true, ok);
      std::string safe;
      for (char c : out) {
        if (c == '<') safe += "\\u003c";
        else if (c == '>') safe += "\\u003e";
        else if (c == '&') safe += "\\u0026";
        else if (c == '\'') safe += "\\u0027";
        else safe += c;
      }
      out = std::move(safe);
    } else {
      const Value* sep = arg(a, 2, "separators");
      if (sep && !sep->is_none()) eval_fail(Errc::unsupported, "tojson(separators=...) is not supported");
      out = to_json(v, bool_arg(a, 1, "ensure_ascii", false), indent, bool_arg(a, 3, "sort_keys", false), ok);
    }
    if (!ok) {
      if (v.is_undefined()) undefined_error(v);
      type_error(std::string("Object of type ") + type_name(v) + " is not JSON serializable");
    }
    return Value::string(std::move(out));
  }
  eval_fail(Errc::unsupported, "unknown filter '" + n + "'");
}

void add_globals(std::unordered_map<std::string, Value>& g) {
  g["range"] = Value::callable("range", [](Interpreter& in, CallArgs& a) {
    if (!a.keywords.empty() || a.positional.empty() || a.positional.size() > 3) type_error("range expects 1 to 3 integer arguments");
    for (const auto& x : a.positional) {
      if (!x.is_int() && !x.is_bool()) type_error(std::string("'") + type_name(x) + "' object cannot be interpreted as an integer");
    }
    int64_t start = 0, stop = 0, stride = 1;
    if (a.positional.size() == 1) {
      stop = a.positional[0].as_int();
    } else {
      start = a.positional[0].as_int();
      stop = a.positional[1].as_int();
      if (a.positional.size() == 3) stride = a.positional[2].as_int();
    }
    if (stride == 0) type_error("range() arg 3 must not be zero");
    const long double count = stride > 0 ? std::ceil((static_cast<long double>(stop) - start) / stride)
                                         : std::ceil((static_cast<long double>(start) - stop) / -stride);
    if (count > kMaxRange) {
      eval_fail(Errc::out_of_memory, "range too big: the sandbox blocks ranges larger than " + std::to_string(kMaxRange));
    }
    in.charge(count > 0 ? static_cast<uint64_t>(count) : 0);  // making the list is work, like iterating it
    List out;
    if (count > 0) out.reserve(static_cast<size_t>(count));
    for (int64_t i = start; stride > 0 ? i < stop : i > stop; i += stride) out.push_back(Value::integer(i));
    return Value::list(std::move(out));
  });
  auto make_dict = [](CallArgs& a) {
    auto d = std::make_shared<Dict>();
    if (a.positional.size() > 1) type_error("expected at most 1 positional argument");
    if (!a.positional.empty()) {
      const Value& src = a.positional[0];
      if (src.is_dict() || src.is_ns()) {
        for (const auto& [k, x] : src.dict_ref().entries) d->set(k, x);
      } else {
        for (const auto& pair : iterate(src)) {
          if (!pair.is_sequence() || pair.items().size() != 2) type_error("dictionary update sequence element has wrong length");
          d->set(pair.items()[0], pair.items()[1]);
        }
      }
    }
    for (auto& [k, x] : a.keywords) d->set(Value::string(k), x);
    return d;
  };
  g["namespace"] = Value::callable("namespace", [make_dict](Interpreter&, CallArgs& a) { return Value::ns(make_dict(a)); });
  g["dict"] = Value::callable("dict", [make_dict](Interpreter&, CallArgs& a) { return Value::dict(make_dict(a)); });
  g["raise_exception"] = Value::callable("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
    const Value* m = arg(a, 0, "message");
    eval_fail(Errc::invalid_argument, "template raised an exception: " + (m ? to_str(*m) : std::string()));
  });
  g["strftime_now"] = Value::callable("strftime_now", [](Interpreter&, CallArgs& a) {
    const Value* f = arg(a, 0, "format");
    if (!f) type_error("strftime_now needs a format");
    const std::string& fmt = need_str(*f, "strftime_now");
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::string buf(fmt.size() * 8 + 64, '\0');
    const size_t len = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    buf.resize(len);
    return Value::string(std::move(buf));
  });
}

}  // namespace qtr::jinja
