// The Jinja interpreter: runs a parsed Template against top-level variables, with jinja2's scoping (for loops
// and macros open scopes; namespace() objects carry values out of loops) and budgets on output, steps and depth.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/jinja_ast.hpp"
#include "chat/jinja_value.hpp"

namespace qtr::jinja {

// A failure raised inside a builtin (filter, test, method, global); the interpreter adds origin:line:col.
struct EvalError {
  Errc code;
  std::string message;
};
[[noreturn]] inline void eval_fail(Errc code, std::string message) { throw EvalError{code, std::move(message)}; }
[[noreturn]] inline void type_error(std::string message) { eval_fail(Errc::bad_format, std::move(message)); }
// Raised when an undefined value is used in a way jinja2's default Undefined refuses.
[[noreturn]] void undefined_error(const Value& v);

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;
  uint64_t max_steps = 2'000'000;
  int max_call_depth = 200;
  bool jinja2_tojson = false;  // jinja2's default tojson instead of transformers'
};

class Interpreter {
 public:
  Interpreter(const Template& tpl, const RenderLimits& limits) : tpl_(tpl), limits_(limits) {}

  std::string render(std::unordered_map<std::string, Value> variables);

  // Used by builtins.
  const RenderLimits& limits() const { return limits_; }
  Value call(const Value& fn, CallArgs& args);
  Value get_attr(const Value& obj, const std::string& name);
  Value get_item(const Value& obj, const Value& key);
  void step();
  // Charges n steps at once (work proportional to n: a list of n items made by range(), a string's characters).
  void charge(uint64_t n);

 private:
  enum class Flow { normal, break_loop, continue_loop };
  using Frame = std::unordered_map<std::string, Value>;

  Flow exec(const Body& body);
  Flow exec_stmt(const Stmt& s);
  Flow exec_for(const Stmt& s);
  void assign(const std::vector<std::string>& names, const Value& v, SourcePos pos);
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_slice(const Expr& e);
  Value lookup(const std::string& name) const;
  Value make_macro(const Stmt& s);
  void emit(std::string_view text);
  [[noreturn]] void fail(Errc code, SourcePos pos, const std::string& message) const;

  const Template& tpl_;
  RenderLimits limits_;
  std::vector<Frame> frames_;
  Frame globals_;
  std::string* out_ = nullptr;
  size_t captured_bytes_ = 0;  // bytes held in outer buffers while capturing (macro, set block)
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

// Builtins (jinja_builtins.cpp).
Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& v, const std::vector<Value>& args);
// A bound method of a str/dict/list value, or undefined when `name` is no method of it.
Value get_method(const Value& self, const std::string& name);
void add_globals(std::unordered_map<std::string, Value>& globals);
// Python-style iteration: list/tuple items, dict keys, string code points, undefined -> empty.
List iterate(const Value& v);
int64_t py_len(const Value& v);

}  // namespace qtr::jinja
