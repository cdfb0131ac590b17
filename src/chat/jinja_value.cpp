#include "chat/jinja_value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "qtr/utf8.hpp"

namespace qtr::jinja {

Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::list;
  v.list_ = std::make_shared<const List>(std::move(items));
  return v;
}

Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::tuple;
  return v;
}

Value Value::dict(std::shared_ptr<Dict> d) {
  Value v;
  v.kind_ = Kind::dict;
  v.dict_ = std::move(d);
  return v;
}

Value Value::dict() { return dict(std::make_shared<Dict>()); }

Value Value::ns(std::shared_ptr<Dict> d) {
  Value v = dict(std::move(d));
  v.kind_ = Kind::ns;
  return v;
}

Value Value::callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
  Value v;
  v.kind_ = Kind::callable;
  v.fn_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : entries) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.is_string() && k.str_ref() == key) return &v;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : entries) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::undefined: return "Undefined";
    case Value::Kind::none: return "NoneType";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::floating: return "float";
    case Value::Kind::string: return "str";
    case Value::Kind::list: return "list";
    case Value::Kind::tuple: return "tuple";
    case Value::Kind::dict: return "dict";
    case Value::Kind::ns: return "Namespace";
    case Value::Kind::callable: return "function";
  }
  return "?";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return false;
    case Value::Kind::boolean:
    case Value::Kind::integer: return v.as_int() != 0;
    case Value::Kind::floating: return v.as_double() != 0.0;
    case Value::Kind::string: return !v.str_ref().empty();
    case Value::Kind::list:
    case Value::Kind::tuple: return !v.items().empty();
    case Value::Kind::dict: return !v.dict_ref().entries.empty();
    case Value::Kind::ns:
    case Value::Kind::callable: return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.is_sequence() && b.is_sequence()) {
    if (a.kind() != b.kind() || a.items().size() != b.items().size()) return false;
    for (size_t i = 0; i < a.items().size(); ++i) {
      if (!equals(a.items()[i], b.items()[i])) return false;
    }
    return true;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return true;
    case Value::Kind::string: return a.str_ref() == b.str_ref();
    case Value::Kind::dict: {
      const auto& x = a.dict_ref().entries;
      if (x.size() != b.dict_ref().entries.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = b.dict_ref().find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::ns: return &a.dict_ref() == &b.dict_ref();
    case Value::Kind::callable: return &a.fn() == &b.fn();
    default: return false;
  }
}

int compare(const Value& a, const Value& b, bool& ok) {
  ok = true;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.as_double(), y = b.as_double();
      return x < y ? -1 : (x > y ? 1 : 0);  // NaN compares as equal-ish; callers only use <, <=, >, >=
    }
    return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str_ref().compare(b.str_ref());  // UTF-8 byte order = code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_sequence() && b.is_sequence() && a.kind() == b.kind()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i])) continue;
      return compare(x[i], y[i], ok);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  ok = false;
  return 0;
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]xx
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e_pos + 1));
  std::string out;
  if (exp >= -5 + 1 && exp < 16) {  // Python repr: fixed notation for 1e-4 <= |d| < 1e16
    if (exp >= 0) {
      std::string int_part = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (int_part.size() < static_cast<size_t>(exp + 1)) int_part += '0';
      std::string frac = digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out = int_part + "." + frac;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += e;
  }
  return sign + out;
}

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = utf8::valid_sequence_length(s.substr(i));
    if (n == 0) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

size_t code_point_count(std::string_view s) {
  size_t count = 0, i = 0;
  while (i < s.size()) {
    const size_t n = utf8::valid_sequence_length(s.substr(i));
    i += n == 0 ? 1 : n;
    ++count;
  }
  return count;
}

static char32_t decode_one(std::string_view cp) {
  if (cp.size() == 1) return static_cast<unsigned char>(cp[0]);
  if (utf8::valid_sequence_length(cp) != cp.size()) return 0xFFFD;
  return utf8::decode(cp, cp.size());
}

bool is_py_space(std::string_view cp) {
  const char32_t c = decode_one(cp);
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string py_strip(std::string_view s, bool left, bool right, const std::string* chars) {
  const auto cps = code_points(s);
  std::vector<std::string_view> set;
  if (chars) set = code_points(*chars);
  auto strip_this = [&](std::string_view cp) {
    if (!chars) return is_py_space(cp);
    return std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_this(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_this(cps[e - 1])) --e;
  }
  std::string out;
  for (size_t i = b; i < e; ++i) out += cps[i];
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Python's repr(str): single quotes unless the text has ' and no ", printable non-ASCII kept as it is.
std::string string_repr(std::string_view s) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (std::string_view cp : code_points(s)) {
    const char32_t c = decode_one(cp);
    char buf[16];
    if (c == static_cast<char32_t>(q) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0xAD) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c == 0x2028 || c == 0x2029 || (c >= 0x200B && c <= 0x200F) || c == 0xFEFF) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += cp;
    }
  }
  out += q;
  return out;
}

std::string to_repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::string: return string_repr(v.str_ref());
    case Value::Kind::list:
    case Value::Kind::tuple: {
      const bool tuple = v.kind() == Value::Kind::tuple;
      std::string out = tuple ? "(" : "[";
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += ", ";
        out += to_repr(v.items()[i]);
      }
      if (tuple && v.items().size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Value::Kind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.dict_ref().entries) {
        if (!first) out += ", ";
        first = false;
        out += to_repr(k) + ": " + to_repr(x);
      }
      return out + "}";
    }
    case Value::Kind::undefined: return "Undefined";
    default: return to_str(v);
  }
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::undefined: return "";
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return v.as_bool() ? "True" : "False";
    case Value::Kind::integer: return std::to_string(v.as_int());
    case Value::Kind::floating: return float_repr(v.as_double());
    case Value::Kind::string: return v.str_ref();
    case Value::Kind::ns: return "<Namespace " + to_repr(Value::dict(std::make_shared<Dict>(v.dict_ref()))) + ">";
    case Value::Kind::callable: return "<function " + v.fn().name + ">";
    default: return to_repr(v);
  }
}

static void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (std::string_view cp : code_points(s)) {
    const char32_t c = decode_one(cp);
    char buf[16];
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {
        const char32_t u = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (u >> 10)),
                      static_cast<unsigned>(0xDC00 + (u & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      out += cp;
    }
  }
  out += '"';
}

static bool json_value(std::string& out, const Value& v, bool ensure_ascii, int indent, bool sort_keys, int level) {
  const auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * lvl, ' ');
  };
  switch (v.kind()) {
    case Value::Kind::none: out += "null"; return true;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return true;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return true;
    case Value::Kind::floating: {
      const double d = v.as_double();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : float_repr(d);
      return true;
    }
    case Value::Kind::string: json_string(out, v.str_ref(), ensure_ascii); return true;
    case Value::Kind::list:
    case Value::Kind::tuple: {
      if (v.items().empty()) {
        out += "[]";
        return true;
      }
      out += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(level + 1);
        if (!json_value(out, v.items()[i], ensure_ascii, indent, sort_keys, level + 1)) return false;
      }
      if (indent >= 0) newline(level);
      out += ']';
      return true;
    }
    case Value::Kind::dict: {
      if (v.dict_ref().entries.empty()) {
        out += "{}";
        return true;
      }
      std::vector<std::pair<std::string, const Value*>> members;
      for (const auto& [k, x] : v.dict_ref().entries) {
        std::string key;
        if (k.is_string()) key = k.str_ref();
        else if (k.is_bool()) key = k.as_bool() ? "true" : "false";
        else if (k.is_none()) key = "null";
        else if (k.is_int() || k.is_float()) key = to_str(k);
        else return false;
        members.emplace_back(std::move(key), &x);
      }
      if (sort_keys) {
        std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += indent >= 0 ? "," : ", ";
        if (indent >= 0) newline(level + 1);
        json_string(out, members[i].first, ensure_ascii);
        out += ": ";
        if (!json_value(out, *members[i].second, ensure_ascii, indent, sort_keys, level + 1)) return false;
      }
      if (indent >= 0) newline(level);
      out += '}';
      return true;
    }
    default: return false;
  }
}

std::string to_json(const Value& v, bool ensure_ascii, int indent, bool sort_keys, bool& ok) {
  std::string out;
  ok = json_value(out, v, ensure_ascii, indent, sort_keys, 0);
  return out;
}

}  // namespace qtr::jinja
