#include "chat/jinja_eval.hpp"

#include <cmath>
#include <limits>
#include <optional>

namespace qtr::jinja {

void undefined_error(const Value& v) {
  eval_fail(Errc::bad_format, v.str_ref().empty() ? std::string("value is undefined") : v.str_ref());
}

namespace {

bool mul_overflows(int64_t a, int64_t b, int64_t& r) { return __builtin_mul_overflow(a, b, &r); }

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t py_mod(int64_t a, int64_t b) {
  const int64_t m = a % b;
  return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
}

std::string op_type_error(const std::string& op, const Value& a, const Value& b) {
  return "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'";
}

// Python slice index normalisation (PySlice_AdjustIndices).
void adjust_slice(int64_t len, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step, int64_t& b,
                  int64_t& e) {
  auto fix = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= len) {
      x = step < 0 ? len - 1 : len;
    }
    return x;
  };
  b = fix(start, step < 0 ? len - 1 : 0);
  e = fix(stop, step < 0 ? -1 : len);
}

}  // namespace

void Interpreter::fail(Errc code, SourcePos pos, const std::string& message) const {
  throw make_error(code, tpl_.origin, pos, message);
}

void Interpreter::step() { charge(1); }

void Interpreter::charge(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    eval_fail(Errc::out_of_memory, "template exceeded its evaluation budget of " + std::to_string(limits_.max_steps) +
                                       " steps (endless or huge loop?)");
  }
}

void Interpreter::emit(std::string_view text) {
  if (captured_bytes_ + out_->size() + text.size() > limits_.max_output_bytes) {
    eval_fail(Errc::out_of_memory,
              "template output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
  out_->append(text);
}

std::string Interpreter::render(std::unordered_map<std::string, Value> variables) {
  add_globals(globals_);
  frames_.clear();
  frames_.push_back(std::move(variables));
  std::string out;
  out_ = &out;
  try {
    exec(tpl_.body);
  } catch (const EvalError& e) {
    // Statements without their own position (budget checks inside emit/step) report the template start.
    throw make_error(e.code, tpl_.origin, SourcePos{}, e.message);
  }
  return out;
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
    if (auto f = it->find(name); f != it->end()) return f->second;
  }
  if (auto g = globals_.find(name); g != globals_.end()) return g->second;
  return Value::undefined("'" + name + "' is undefined");
}

Interpreter::Flow Interpreter::exec(const Body& body) {
  for (const auto& s : body) {
    const Flow f = exec_stmt(*s);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

void Interpreter::assign(const std::vector<std::string>& names, const Value& v, SourcePos pos) {
  if (names.size() == 1) {
    frames_.back()[names[0]] = v;
    return;
  }
  if (!v.is_sequence() && !v.is_string() && !v.is_dict()) {
    fail(Errc::bad_format, pos, std::string("cannot unpack non-iterable ") + type_name(v) + " object");
  }
  const List items = iterate(v);
  if (items.size() != names.size()) {
    fail(Errc::bad_format, pos,
         items.size() > names.size() ? "too many values to unpack (expected " + std::to_string(names.size()) + ")"
                                     : "not enough values to unpack (expected " + std::to_string(names.size()) +
                                           ", got " + std::to_string(items.size()) + ")");
  }
  for (size_t i = 0; i < names.size(); ++i) frames_.back()[names[i]] = items[i];
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s) {
  try {
    switch (s.kind) {
      case Stmt::Kind::text: emit(s.text); return Flow::normal;
      case Stmt::Kind::output: emit(to_str(eval(*s.expr))); return Flow::normal;
      case Stmt::Kind::if_:
        for (const auto& [cond, body] : s.branches) {
          if (truthy(eval(*cond))) return exec(body);
        }
        return exec(s.else_body);
      case Stmt::Kind::for_: return exec_for(s);
      case Stmt::Kind::set: {
        const Value v = eval(*s.expr);
        if (s.attr_target) {
          const Value target = lookup(s.targets[0]);
          if (!target.is_ns()) {
            fail(Errc::bad_format, s.pos, "cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
          }
          target.dict_mut().set(Value::string(s.targets[1]), v);
        } else {
          assign(s.targets, v, s.pos);
        }
        return Flow::normal;
      }
      case Stmt::Kind::set_block: {
        std::string buffer;
        std::string* saved = out_;
        captured_bytes_ += saved->size();
        out_ = &buffer;
        try {
          exec(s.body);
        } catch (...) {
          out_ = saved;
          captured_bytes_ -= saved->size();
          throw;
        }
        out_ = saved;
        captured_bytes_ -= saved->size();
        frames_.back()[s.targets[0]] = Value::string(std::move(buffer));
        return Flow::normal;
      }
      case Stmt::Kind::macro: frames_.back()[s.text] = make_macro(s); return Flow::normal;
      case Stmt::Kind::break_: return Flow::break_loop;
      case Stmt::Kind::continue_: return Flow::continue_loop;
      case Stmt::Kind::block: return exec(s.body);
    }
  } catch (const EvalError& e) {
    fail(e.code, s.pos, e.message);
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s) {
  const Value iterable = eval(*s.expr);
  if (!iterable.is_undefined() && !iterable.is_sequence() && !iterable.is_dict() && !iterable.is_string()) {
    fail(Errc::bad_format, s.expr->pos, std::string("'") + type_name(iterable) + "' object is not iterable");
  }
  // A list or tuple is walked in place (no copy); dict keys and string characters are materialised, a step each.
  List materialised;
  const List* items = nullptr;
  if (iterable.is_sequence()) {
    items = &iterable.items();
  } else {
    materialised = iterate(iterable);
    charge(materialised.size());
    items = &materialised;
  }
  frames_.emplace_back();
  List kept;
  if (s.filter) {
    for (const auto& item : *items) {
      step();
      frames_.back().clear();
      assign(s.targets, item, s.pos);
      if (truthy(eval(*s.filter))) kept.push_back(item);
    }
    items = &kept;
  }
  const int64_t n = static_cast<int64_t>(items->size());
  auto index = std::make_shared<int64_t>(0);  // loop.cycle reads the current index through this
  const Value cycle = Value::callable("loop.cycle", [index](Interpreter&, CallArgs& a) {
    if (a.positional.empty()) eval_fail(Errc::bad_format, "no items for cycling given");
    return a.positional[static_cast<size_t>(*index) % a.positional.size()];
  });
  // The loop object's keys, made once; its dict is refilled in place while nothing else holds it (the common case:
  // the body did not store `loop` anywhere), so an iteration allocates nothing of its own.
  static constexpr const char* kLoopKeys[] = {"index0", "index", "revindex0", "revindex", "first", "last",
                                              "length", "depth", "depth0", "previtem", "nextitem", "cycle"};
  std::vector<Value> keys;
  keys.reserve(std::size(kLoopKeys));
  for (const char* k : kLoopKeys) keys.push_back(Value::string(k));
  std::shared_ptr<Dict> loop;
  const size_t frame_keys = s.targets.size() + 1;  // the targets and `loop`
  for (int64_t i = 0; i < n; ++i) {
    step();
    *index = i;
    Frame& frame = frames_.back();
    if (frame.size() != frame_keys) frame.clear();  // the body set other names: they do not outlive an iteration
    assign(s.targets, (*items)[static_cast<size_t>(i)], s.pos);
    Value& slot = frame["loop"];
    slot = Value();  // drop the frame's reference, so a dict held by nobody else can be refilled
    const bool layout_changes = i <= 1 || i + 1 >= n;  // previtem appears at 1, nextitem goes at n - 1
    if (!loop || loop.use_count() > 1 || layout_changes) {
      if (!loop || loop.use_count() > 1) loop = std::make_shared<Dict>();
      auto& e = loop->entries;  // keys are distinct: append directly
      e.clear();
      e.reserve(keys.size());
      e.emplace_back(keys[0], Value::integer(i));
      e.emplace_back(keys[1], Value::integer(i + 1));
      e.emplace_back(keys[2], Value::integer(n - i - 1));
      e.emplace_back(keys[3], Value::integer(n - i));
      e.emplace_back(keys[4], Value::boolean(i == 0));
      e.emplace_back(keys[5], Value::boolean(i == n - 1));
      e.emplace_back(keys[6], Value::integer(n));
      e.emplace_back(keys[7], Value::integer(1));
      e.emplace_back(keys[8], Value::integer(0));
      if (i > 0) e.emplace_back(keys[9], (*items)[static_cast<size_t>(i - 1)]);
      if (i + 1 < n) e.emplace_back(keys[10], (*items)[static_cast<size_t>(i + 1)]);
      e.emplace_back(keys[11], cycle);
    } else {
      // A middle iteration of an unshared loop object: only the values that move change.
      auto& e = loop->entries;
      e[0].second = Value::integer(i);
      e[1].second = Value::integer(i + 1);
      e[2].second = Value::integer(n - i - 1);
      e[3].second = Value::integer(n - i);
      e[4].second = Value::boolean(false);
      e[5].second = Value::boolean(false);
      e[9].second = (*items)[static_cast<size_t>(i - 1)];
      e[10].second = (*items)[static_cast<size_t>(i + 1)];
    }
    slot = Value::dict(loop);
    const Flow f = exec(s.body);
    if (f == Flow::break_loop) break;
  }
  frames_.pop_back();
  if (n == 0) return exec(s.else_body);
  return Flow::normal;
}

Value Interpreter::make_macro(const Stmt& s) {
  const Stmt* def = &s;
  return Value::callable(s.text, [def](Interpreter& in, CallArgs& args) {
    if (args.positional.size() > def->params.size()) {
      eval_fail(Errc::bad_format, "macro '" + def->text + "' takes not more than " +
                                      std::to_string(def->params.size()) + " argument(s)");
    }
    if (in.call_depth_ >= in.limits_.max_call_depth) {
      eval_fail(Errc::out_of_memory,
                "macro calls nest deeper than " + std::to_string(in.limits_.max_call_depth) + " (endless recursion?)");
    }
    Frame params;
    for (size_t k = 0; k < def->params.size(); ++k) {
      const auto& [pname, dflt] = def->params[k];
      if (k < args.positional.size()) {
        params[pname] = args.positional[k];
        continue;
      }
      bool found = false;
      for (auto& [key, v] : args.keywords) {
        if (key == pname) {
          params[pname] = v;
          found = true;
        }
      }
      if (!found) params[pname] = dflt ? in.eval(*dflt) : Value::undefined("'" + pname + "' is undefined");
    }
    for (auto& [key, v] : args.keywords) {
      bool known = false;
      for (const auto& p : def->params) known = known || p.first == key;
      if (!known) eval_fail(Errc::bad_format, "macro '" + def->text + "' takes no keyword argument '" + key + "'");
    }
    // The macro body sees the template's top-level variables and its parameters, not the caller's locals.
    std::vector<Frame> saved(std::make_move_iterator(in.frames_.begin() + 1), std::make_move_iterator(in.frames_.end()));
    in.frames_.resize(1);
    in.frames_.push_back(std::move(params));
    std::string buffer;
    std::string* saved_out = in.out_;
    in.captured_bytes_ += saved_out->size();
    in.out_ = &buffer;
    ++in.call_depth_;
    auto restore = [&] {
      --in.call_depth_;
      in.out_ = saved_out;
      in.captured_bytes_ -= saved_out->size();
      in.frames_.resize(1);
      for (auto& f : saved) in.frames_.push_back(std::move(f));
    };
    try {
      in.exec(def->body);
    } catch (...) {
      restore();
      throw;
    }
    restore();
    return Value::string(std::move(buffer));
  });
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined()) undefined_error(fn);
  if (!fn.is_callable()) type_error(std::string("'") + type_name(fn) + "' object is not callable");
  return fn.fn().fn(*this, args);
}

Value Interpreter::get_attr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::undefined: undefined_error(obj);
    case Value::Kind::ns:
      if (const Value* v = obj.dict_ref().find(std::string_view(name))) return *v;
      break;
    case Value::Kind::dict: {
      if (Value m = get_method(obj, name); !m.is_undefined()) return m;
      if (const Value* v = obj.dict_ref().find(std::string_view(name))) return *v;
      break;
    }
    case Value::Kind::string:
    case Value::Kind::list:
    case Value::Kind::tuple:
      if (Value m = get_method(obj, name); !m.is_undefined()) return m;
      break;
    default: break;
  }
  return Value::undefined(std::string("'") + type_name(obj) + " object' has no attribute '" + name + "'");
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::undefined: undefined_error(obj);
    case Value::Kind::dict:
    case Value::Kind::ns:
      if (const Value* v = obj.dict_ref().find(key)) return *v;
      if (key.is_string() && obj.is_dict()) return get_attr(obj, key.str_ref());
      break;
    case Value::Kind::list:
    case Value::Kind::tuple:
    case Value::Kind::string: {
      if (key.is_string()) return get_attr(obj, key.str_ref());
      if (!key.is_int() && !key.is_bool()) break;
      const int64_t len = obj.is_string() ? static_cast<int64_t>(code_point_count(obj.str_ref()))
                                          : static_cast<int64_t>(obj.items().size());
      int64_t i = key.as_int();
      if (i < 0) i += len;
      if (i < 0 || i >= len) break;
      if (obj.is_string()) return Value::string(std::string(code_points(obj.str_ref())[static_cast<size_t>(i)]));
      return obj.items()[static_cast<size_t>(i)];
    }
    default: break;
  }
  return Value::undefined(std::string("'") + type_name(obj) + " object' has no attribute or item " + to_repr(key));
}

Value Interpreter::eval(const Expr& e) {
  try {
    step();
    return eval_inner(e);
  } catch (const EvalError& err) {
    fail(err.code, e.pos, err.message);
  }
}

Value Interpreter::eval_inner(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::literal: return e.value;
    case Expr::Kind::name: return lookup(e.name);
    case Expr::Kind::attr: return get_attr(eval(*e.args[0]), e.name);
    case Expr::Kind::item: {
      const Value obj = eval(*e.args[0]);
      return get_item(obj, eval(*e.args[1]));
    }
    case Expr::Kind::slice: return eval_slice(e);
    case Expr::Kind::call: return eval_call(e);
    case Expr::Kind::filter: {
      const Value v = eval(*e.args[0]);
      CallArgs args;
      for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
      for (const auto& [k, x] : e.keywords) args.keywords.emplace_back(k, eval(*x));
      return apply_filter(*this, e.name, v, args);
    }
    case Expr::Kind::test: {
      const Value v = eval(*e.args[0]);
      std::vector<Value> args;
      for (size_t i = 1; i < e.args.size(); ++i) args.push_back(eval(*e.args[i]));
      if (!e.keywords.empty()) type_error("tests take no keyword arguments");
      return Value::boolean(apply_test(*this, e.name, v, args) != e.negated);
    }
    case Expr::Kind::unary: {
      const Value v = eval(*e.args[0]);
      if (e.name == "not") return Value::boolean(!truthy(v));
      if (v.is_undefined()) undefined_error(v);
      if (!v.is_number()) type_error(std::string("bad operand type for unary ") + e.name + ": '" + type_name(v) + "'");
      if (e.name == "+") return v.is_bool() ? Value::integer(v.as_int()) : v;
      if (v.is_float()) return Value::floating(-v.as_double());
      if (v.as_int() == std::numeric_limits<int64_t>::min()) eval_fail(Errc::unsupported, "integer overflow");
      return Value::integer(-v.as_int());
    }
    case Expr::Kind::binary: return eval_binary(e);
    case Expr::Kind::compare: return eval_compare(e);
    case Expr::Kind::cond:
      if (truthy(eval(*e.args[0]))) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.pos.line) +
                              " evaluated to false and no else section was defined");
    case Expr::Kind::list:
    case Expr::Kind::tuple: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      return e.kind == Expr::Kind::list ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case Expr::Kind::dict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        if (k.is_sequence() && k.kind() == Value::Kind::list) type_error("unhashable type: 'list'");
        if (k.is_dict()) type_error("unhashable type: 'dict'");
        d->set(std::move(k), eval(*e.args[i + 1]));
      }
      return Value::dict(std::move(d));
    }
  }
  return Value();
}

Value Interpreter::eval_call(const Expr& e) {
  const Value fn = eval(*e.args[0]);
  CallArgs args;
  for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
  for (const auto& [k, x] : e.keywords) args.keywords.emplace_back(k, eval(*x));
  return call(fn, args);
}

Value Interpreter::eval_slice(const Expr& e) {
  const Value obj = eval(*e.args[0]);
  if (obj.is_undefined()) undefined_error(obj);
  auto bound = [&](size_t k) -> std::optional<int64_t> {
    if (!e.args[k]) return std::nullopt;
    const Value v = eval(*e.args[k]);
    if (v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool()) type_error("slice indices must be integers or None");
    return v.as_int();
  };
  const auto start = bound(1), stop = bound(2), step_v = bound(3);
  const int64_t stride = step_v.value_or(1);
  if (stride == 0) type_error("slice step cannot be zero");
  if (!obj.is_string() && !obj.is_sequence()) {
    return Value::undefined(std::string("'") + type_name(obj) + " object' cannot be sliced");
  }
  std::vector<std::string_view> cps;
  if (obj.is_string()) cps = code_points(obj.str_ref());
  const int64_t len = obj.is_string() ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(obj.items().size());
  int64_t b = 0, end = 0;
  adjust_slice(len, start, stop, stride, b, end);
  std::string s;
  List items;
  for (int64_t i = b; stride > 0 ? i < end : i > end; i += stride) {
    if (obj.is_string()) s += cps[static_cast<size_t>(i)];
    else items.push_back(obj.items()[static_cast<size_t>(i)]);
  }
  if (obj.is_string()) return Value::string(std::move(s));
  return obj.kind() == Value::Kind::tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

Value Interpreter::eval_binary(const Expr& e) {
  const std::string& op = e.name;
  if (op == "and") {
    Value l = eval(*e.args[0]);
    return truthy(l) ? eval(*e.args[1]) : l;
  }
  if (op == "or") {
    Value l = eval(*e.args[0]);
    return truthy(l) ? l : eval(*e.args[1]);
  }
  const Value a = eval(*e.args[0]);
  const Value b = eval(*e.args[1]);
  if (op == "~") return Value::string(to_str(a) + to_str(b));
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  const bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) eval_fail(Errc::unsupported, "integer overflow");
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      if (a.str_ref().size() + b.str_ref().size() > limits_.max_output_bytes) eval_fail(Errc::out_of_memory, "string too long");
      return Value::string(a.str_ref() + b.str_ref());
    }
    if (a.is_sequence() && a.kind() == b.kind()) {
      List items = a.items();
      items.insert(items.end(), b.items().begin(), b.items().end());
      return a.kind() == Value::Kind::list ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    if (a.is_string()) type_error(std::string("can only concatenate str (not \"") + type_name(b) + "\") to str");
    type_error(op_type_error("+", a, b));
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) eval_fail(Errc::unsupported, "integer overflow");
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_double() - b.as_double());
    type_error(op_type_error("-", a, b));
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (mul_overflows(a.as_int(), b.as_int(), r)) eval_fail(Errc::unsupported, "integer overflow");
      return Value::integer(r);
    }
    if (nums) return Value::floating(a.as_double() * b.as_double());
    const Value& seq = (a.is_string() || a.is_sequence()) ? a : b;
    const Value& count = (&seq == &a) ? b : a;
    if ((seq.is_string() || seq.is_sequence()) && (count.is_int() || count.is_bool())) {
      const int64_t n = std::max<int64_t>(0, count.as_int());
      const size_t unit = seq.is_string() ? seq.str_ref().size() : seq.items().size() * 16;
      if (n > 0 && unit > 0 && static_cast<uint64_t>(n) > limits_.max_output_bytes / unit) {
        eval_fail(Errc::out_of_memory, "repetition result too large");
      }
      if (seq.is_string()) {
        std::string s;
        for (int64_t i = 0; i < n; ++i) s += seq.str_ref();
        return Value::string(std::move(s));
      }
      List items;
      for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq.items().begin(), seq.items().end());
      return seq.kind() == Value::Kind::list ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    type_error(op_type_error("*", a, b));
  }
  if (op == "/") {
    if (!nums) type_error(op_type_error("/", a, b));
    if (b.as_double() == 0.0) eval_fail(Errc::bad_format, "division by zero");
    return Value::floating(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (a.is_string() && op == "%") eval_fail(Errc::unsupported, "printf-style string formatting ('%') is not supported");
    if (!nums) type_error(op_type_error(op, a, b));
    if (b.as_double() == 0.0) eval_fail(Errc::bad_format, op == "//" ? "integer division or modulo by zero" : "modulo by zero");
    if (ints) {
      if (a.as_int() == std::numeric_limits<int64_t>::min() && b.as_int() == -1) eval_fail(Errc::unsupported, "integer overflow");
      return Value::integer(op == "//" ? floor_div(a.as_int(), b.as_int()) : py_mod(a.as_int(), b.as_int()));
    }
    const double x = a.as_double(), y = b.as_double();
    if (op == "//") return Value::floating(std::floor(x / y));
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value::floating(m);
  }
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      int64_t r = 1, base = a.as_int();
      for (int64_t i = 0; i < b.as_int(); ++i) {
        if (mul_overflows(r, base, r)) eval_fail(Errc::unsupported, "integer overflow");
        if (r == 0 || r == 1) break;
      }
      return Value::integer(r);
    }
    if (nums) return Value::floating(std::pow(a.as_double(), b.as_double()));
    type_error(op_type_error("** or pow()", a, b));
  }
  eval_fail(Errc::internal, "unknown operator " + op);
}

Value Interpreter::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (size_t k = 0; k < e.ops.size(); ++k) {
    Value right = eval(*e.args[k + 1]);
    const std::string& op = e.ops[k];
    bool result = false;
    if (op == "==") {
      result = equals(left, right);
    } else if (op == "!=") {
      result = !equals(left, right);
    } else if (op == "in" || op == "not in") {
      bool found = false;
      if (right.is_string()) {
        if (left.is_undefined()) undefined_error(left);
        if (!left.is_string()) type_error(std::string("'in <string>' requires string as left operand, not ") + type_name(left));
        found = right.str_ref().find(left.str_ref()) != std::string::npos;
      } else if (right.is_sequence()) {
        for (const auto& x : right.items()) found = found || equals(x, left);
      } else if (right.is_dict()) {
        found = right.dict_ref().find(left) != nullptr;
      } else if (!right.is_undefined()) {
        type_error(std::string("argument of type '") + type_name(right) + "' is not iterable");
      }
      result = (op == "in") == found;
    } else {
      if (left.is_undefined()) undefined_error(left);
      if (right.is_undefined()) undefined_error(right);
      bool ok = false;
      const int c = compare(left, right, ok);
      if (!ok) {
        type_error("'" + op + "' not supported between instances of '" + type_name(left) + "' and '" +
                   type_name(right) + "'");
      }
      const bool nan = (left.is_float() && std::isnan(left.as_double())) || (right.is_float() && std::isnan(right.as_double()));
      result = !nan && (op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0);
    }
    if (!result) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace qtr::jinja
