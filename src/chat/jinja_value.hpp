// Jinja runtime values with Python semantics: what str(), repr(), truthiness, ==, < and json.dumps give in jinja2.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qtr::jinja {

class Value;
class Interpreter;

using List = std::vector<Value>;
struct Dict;

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};

// A builtin function, bound method or macro. `fn` throws TypeError-like failures as std::runtime_error-free
// EvalError (see jinja_eval.hpp); the interpreter adds the position.
struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

class Value {
 public:
  enum class Kind { undefined, none, boolean, integer, floating, string, list, tuple, dict, ns, callable };

  Value() = default;  // undefined
  static Value undefined(std::string hint = {}) { Value v; v.text_ = std::move(hint); return v; }
  static Value none() { Value v; v.kind_ = Kind::none; return v; }
  static Value boolean(bool b) { Value v; v.kind_ = Kind::boolean; v.int_ = b; return v; }
  static Value integer(int64_t i) { Value v; v.kind_ = Kind::integer; v.int_ = i; return v; }
  static Value floating(double f) { Value v; v.kind_ = Kind::floating; v.float_ = f; return v; }
  static Value string(std::string s) { Value v; v.kind_ = Kind::string; v.text_ = std::move(s); return v; }
  static Value list(List items);
  static Value tuple(List items);
  static Value dict(std::shared_ptr<Dict> d);
  static Value dict();
  static Value ns(std::shared_ptr<Dict> d);
  static Value callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_float() const { return kind_ == Kind::floating; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::floating || kind_ == Kind::boolean; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_sequence() const { return kind_ == Kind::list || kind_ == Kind::tuple; }
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_ns() const { return kind_ == Kind::ns; }
  bool is_callable() const { return kind_ == Kind::callable; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // integer or boolean
  double as_double() const { return kind_ == Kind::floating ? float_ : static_cast<double>(int_); }
  const std::string& str_ref() const { return text_; }  // string value, or an undefined's hint
  const List& items() const { return *list_; }
  const Dict& dict_ref() const { return *dict_; }
  Dict& dict_mut() const { return *dict_; }
  const Callable& fn() const { return *fn_; }

 private:
  Kind kind_ = Kind::undefined;
  int64_t int_ = 0;
  double float_ = 0;
  std::string text_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Callable> fn_;
};

// An insertion-ordered dict (Python 3.7+ order); small, so lookups are linear.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
};

// Python type name for messages: "str", "int", "dict", "NoneType", "Undefined", ...
const char* type_name(const Value& v);

bool truthy(const Value& v);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <, <=, >, >= for numbers, strings and sequences; false in `ok` when the types do not order.
int compare(const Value& a, const Value& b, bool& ok);

// Python str() and repr().
std::string to_str(const Value& v);
std::string to_repr(const Value& v);
std::string float_repr(double d);
std::string string_repr(std::string_view s);

// json.dumps(v, ensure_ascii, indent (<0: none), sort_keys) with Python's default separators; `ok` false when
// v holds something JSON cannot encode (undefined, callables).
std::string to_json(const Value& v, bool ensure_ascii, int indent, bool sort_keys, bool& ok);

// Code-point helpers over UTF-8 (invalid bytes count as one code point each).
std::vector<std::string_view> code_points(std::string_view s);
size_t code_point_count(std::string_view s);
bool is_py_space(std::string_view cp);  // str.isspace() for one code point
std::string py_strip(std::string_view s, bool left, bool right, const std::string* chars = nullptr);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);

}  // namespace qtr::jinja
