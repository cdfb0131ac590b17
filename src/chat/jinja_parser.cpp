// Jinja parser: recursive descent over the lexer's tokens, following jinja2's grammar and operator precedence
// (jinja2/parser.py): condexpr > or > and > not > compare > + - > ~ > * / // % > ** > unary > postfix/filters.
#include <cerrno>
#include <cstdlib>
#include <initializer_list>

#include "chat/jinja_ast.hpp"

namespace qtr::jinja {

namespace {

constexpr int kMaxNesting = 256;

// Tags jinja2 has that this interpreter does not run.
constexpr const char* kUnsupportedTags[] = {"include", "import", "from",  "extends",  "block", "call",
                                            "filter",  "raw",    "with",  "autoescape", "do",  "trans",
                                            "pluralize", "endcall", "endfilter", "endwith", "endblock"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& origin) : tokens_(std::move(tokens)), origin_(origin) {}

  Body parse_all() {
    Body body = parse_body({});
    return body;
  }

 private:
  // ---- token helpers
  const Token& cur() const { return tokens_[i_]; }
  const Token& peek(size_t k = 1) const { return tokens_[std::min(i_ + k, tokens_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < tokens_.size()) ++i_;
  }
  bool is_op(const char* op) const { return cur().kind == Token::Kind::op && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == Token::Kind::name && cur().text == name; }

  [[noreturn]] void fail(Errc code, const Token& at, const std::string& message) const {
    throw make_error(code, origin_, at.pos, message);
  }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Token::Kind::eof: return "end of template";
      case Token::Kind::block_end: return "end of statement block";
      case Token::Kind::var_end: return "end of print statement";
      case Token::Kind::text: return "template text";
      default: return "'" + t.text + "'";
    }
  }

  void expect_op(const char* op) {
    if (!is_op(op)) fail(Errc::bad_format, cur(), std::string("expected '") + op + "', got " + describe(cur()));
    advance();
  }
  std::string expect_name() {
    if (cur().kind != Token::Kind::name) fail(Errc::bad_format, cur(), "expected a name, got " + describe(cur()));
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != Token::Kind::block_end) {
      fail(Errc::bad_format, cur(), "expected end of statement block, got " + describe(cur()));
    }
    advance();
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting) {
        p.fail(Errc::unsupported, p.cur(), "template nests deeper than " + std::to_string(kMaxNesting) + " levels");
      }
    }
    ~DepthGuard() { --p.depth_; }
  };

  ExprPtr node(Expr::Kind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // ---- statements
  // Parses until a block tag whose name is in `ends` (left unconsumed: the cursor is on that name) or the end.
  Body parse_body(std::initializer_list<const char*> ends, const Token* opener = nullptr, const char* what = nullptr) {
    DepthGuard guard(*this);
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.kind == Token::Kind::eof) {
        if (ends.size() == 0) return body;
        std::string expected;
        for (const char* e : ends) expected += (expected.empty() ? "'" : " or '") + std::string(e) + "'";
        fail(Errc::bad_format, *opener,
             std::string("unexpected end of template: '") + what + "' opened here was never closed (expected " +
                 expected + ")");
      }
      if (t.kind == Token::Kind::text) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::text;
        s->pos = t.pos;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == Token::Kind::var_begin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::output;
        s->pos = t.pos;
        advance();
        s->expr = parse_tuple(false);
        if (cur().kind != Token::Kind::var_end) {
          fail(Errc::bad_format, cur(), "expected end of print statement '}}', got " + describe(cur()));
        }
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == Token::Kind::block_begin) {
        const Token& name = peek();
        if (name.kind != Token::Kind::name) fail(Errc::bad_format, name, "expected a tag name, got " + describe(name));
        for (const char* e : ends) {
          if (name.text == e) {
            advance();
            return body;
          }
        }
        body.push_back(parse_statement());
      } else {
        fail(Errc::bad_format, t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& open = cur();  // block_begin
    advance();
    const Token& name_tok = cur();
    const std::string name = name_tok.text;
    auto s = std::make_unique<Stmt>();
    s->pos = open.pos;
    advance();
    if (name == "if") {
      s->kind = Stmt::Kind::if_;
      ExprPtr cond = parse_test_expression();
      for (;;) {
        expect_block_end();
        Body body = parse_body({"elif", "else", "endif"}, &open, "if");
        s->branches.emplace_back(std::move(cond), std::move(body));
        const std::string end = cur().text;
        advance();
        if (end == "elif") {
          cond = parse_test_expression();
          continue;
        }
        if (end == "else") {
          expect_block_end();
          s->else_body = parse_body({"endif"}, &open, "if");
          advance();
        }
        expect_block_end();
        return s;
      }
    }
    if (name == "for") {
      s->kind = Stmt::Kind::for_;
      s->targets = parse_target_names(true);
      if (!is_name("in")) fail(Errc::bad_format, cur(), "expected 'in' in for loop, got " + describe(cur()));
      advance();
      no_condexpr_ = true;  // jinja2 parses the iterable without conditional expressions: `if` starts a filter
      s->expr = parse_tuple(true);
      no_condexpr_ = false;
      if (is_name("if")) {
        advance();
        s->filter = parse_expression();
      }
      if (is_name("recursive")) fail(Errc::unsupported, cur(), "recursive for loops are not supported");
      expect_block_end();
      ++loop_depth_;
      s->body = parse_body({"else", "endfor"}, &open, "for");
      --loop_depth_;
      if (cur().text == "else") {
        advance();
        expect_block_end();
        s->else_body = parse_body({"endfor"}, &open, "for");
      }
      advance();
      expect_block_end();
      return s;
    }
    if (name == "set") {
      if (cur().kind == Token::Kind::name && peek().kind == Token::Kind::op && peek().text == ".") {
        s->attr_target = true;
        s->targets.push_back(expect_name());
        advance();
        s->targets.push_back(expect_name());
      } else {
        s->targets = parse_target_names(false);
      }
      if (is_op("=")) {
        advance();
        s->kind = Stmt::Kind::set;
        s->expr = parse_tuple(true);
        expect_block_end();
        return s;
      }
      if (is_op("|")) fail(Errc::unsupported, cur(), "filters on '{% set %}' blocks are not supported");
      if (s->attr_target || s->targets.size() != 1) fail(Errc::bad_format, cur(), "expected '=' in set statement");
      expect_block_end();
      s->kind = Stmt::Kind::set_block;
      s->body = parse_body({"endset"}, &open, "set");
      advance();
      expect_block_end();
      return s;
    }
    if (name == "macro") {
      s->kind = Stmt::Kind::macro;
      s->text = expect_name();
      expect_op("(");
      while (!is_op(")")) {
        if (is_op("*") || is_op("**")) fail(Errc::unsupported, cur(), "variadic macro parameters are not supported");
        std::string param = expect_name();
        ExprPtr def;
        if (is_op("=")) {
          advance();
          def = parse_expression();
        }
        s->params.emplace_back(std::move(param), std::move(def));
        if (!is_op(")")) expect_op(",");
      }
      advance();
      expect_block_end();
      const int saved_loops = loop_depth_;
      loop_depth_ = 0;
      s->body = parse_body({"endmacro"}, &open, "macro");
      loop_depth_ = saved_loops;
      advance();
      if (cur().kind == Token::Kind::name) advance();  // {% endmacro name %}
      expect_block_end();
      return s;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail(Errc::bad_format, name_tok, "'" + name + "' outside of a loop");
      s->kind = name == "break" ? Stmt::Kind::break_ : Stmt::Kind::continue_;
      expect_block_end();
      return s;
    }
    if (name == "generation") {  // transformers' AssistantTracker tag: renders its body
      s->kind = Stmt::Kind::block;
      expect_block_end();
      s->body = parse_body({"endgeneration"}, &open, "generation");
      advance();
      expect_block_end();
      return s;
    }
    for (const char* u : kUnsupportedTags) {
      if (name == u) fail(Errc::unsupported, name_tok, "'{% " + name + " %}' is not supported");
    }
    if (name.rfind("end", 0) == 0 || name == "else" || name == "elif") {
      fail(Errc::bad_format, name_tok, "unexpected '" + name + "' (no open block it could close)");
    }
    fail(Errc::bad_format, name_tok, "unknown tag '" + name + "'");
  }

  // for/set targets: a name, or names separated by commas, optionally in parentheses.
  std::vector<std::string> parse_target_names(bool for_loop) {
    std::vector<std::string> names;
    const bool paren = is_op("(");
    if (paren) advance();
    for (;;) {
      names.push_back(expect_name());
      if (!is_op(",")) break;
      advance();
      if (paren && is_op(")")) break;
      if (!paren && (is_name("in") || is_op("="))) break;
    }
    if (paren) expect_op(")");
    (void)for_loop;
    return names;
  }

  // ---- expressions
  // jinja2 parses if/elif tests without conditional expressions (parse_tuple(with_condexpr=False)).
  ExprPtr parse_test_expression() {
    no_condexpr_ = true;
    ExprPtr e = parse_tuple(true);
    no_condexpr_ = false;
    return e;
  }

  ExprPtr parse_tuple(bool no_condexpr_for) {
    (void)no_condexpr_for;
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_expression();
    if (!is_op(",")) return first;
    auto t = node(Expr::Kind::tuple, pos);
    t->args.push_back(std::move(first));
    while (is_op(",")) {
      advance();
      if (cur().kind == Token::Kind::block_end || cur().kind == Token::Kind::var_end || is_op(")") ||
          is_name("if")) {
        break;
      }
      t->args.push_back(parse_expression());
    }
    return t;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      const SourcePos pos = cur().pos;
      // `for x in y if cond` filters are handled by the caller: only treat `if` as a conditional when an `else`
      // can follow or it is a plain expression context. jinja2 parses the same way (condexpr binds here).
      if (no_condexpr_) break;
      advance();
      auto c = node(Expr::Kind::cond, pos);
      c->args.push_back(parse_or());
      c->args.push_back(std::move(expr));
      if (is_name("else")) {
        advance();
        c->args.push_back(parse_expression());
      } else {
        c->args.push_back(nullptr);
      }
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, SourcePos pos) {
    auto b = node(Expr::Kind::binary, pos);
    b->name = op;
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("or", std::move(l), parse_and(), pos);
    }
    return l;
  }

  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("and", std::move(l), parse_not(), pos);
    }
    return l;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto u = node(Expr::Kind::unary, cur().pos);
      u->name = "not";
      advance();
      u->args.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().kind == Token::Kind::op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == Token::Kind::name && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(Expr::Kind::compare, pos);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const SourcePos pos = cur().pos;
      advance();
      l = binary(op, std::move(l), parse_concat(), pos);
    }
    return l;
  }

  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("~", std::move(l), parse_math2(), pos);
    }
    return l;
  }

  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const SourcePos pos = cur().pos;
      advance();
      l = binary(op, std::move(l), parse_pow(), pos);
    }
    return l;
  }

  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      const SourcePos pos = cur().pos;
      advance();
      l = binary("**", std::move(l), parse_unary(true), pos);
    }
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node(Expr::Kind::unary, cur().pos);
      e->name = cur().text;
      advance();
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    if (t.kind == Token::Kind::name) {
      auto e = node(Expr::Kind::literal, t.pos);
      if (t.text == "true" || t.text == "True") e->value = Value::boolean(true);
      else if (t.text == "false" || t.text == "False") e->value = Value::boolean(false);
      else if (t.text == "none" || t.text == "None") e->value = Value::none();
      else {
        e->kind = Expr::Kind::name;
        e->name = t.text;
      }
      advance();
      return e;
    }
    if (t.kind == Token::Kind::string) {
      auto e = node(Expr::Kind::literal, t.pos);
      std::string s;
      while (cur().kind == Token::Kind::string) {
        s += cur().text;
        advance();
      }
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.kind == Token::Kind::integer) {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(t.text.c_str(), &end, 10);
      if (errno == ERANGE) fail(Errc::unsupported, t, "integer literal " + t.text + " is out of the 64-bit range");
      auto e = node(Expr::Kind::literal, t.pos);
      e->value = Value::integer(v);
      advance();
      return e;
    }
    if (t.kind == Token::Kind::floating) {
      auto e = node(Expr::Kind::literal, t.pos);
      e->value = Value::floating(std::strtod(t.text.c_str(), nullptr));
      advance();
      return e;
    }
    if (is_op("(")) {
      const SourcePos pos = t.pos;
      advance();
      if (is_op(")")) {
        advance();
        return node(Expr::Kind::tuple, pos);
      }
      const bool saved = no_condexpr_;
      no_condexpr_ = false;
      ExprPtr inner = parse_tuple(false);
      no_condexpr_ = saved;
      expect_op(")");
      return inner;
    }
    if (is_op("[")) {
      auto e = node(Expr::Kind::list, t.pos);
      advance();
      const bool saved = no_condexpr_;
      no_condexpr_ = false;
      while (!is_op("]")) {
        e->args.push_back(parse_expression());
        if (!is_op("]")) expect_op(",");
      }
      no_condexpr_ = saved;
      advance();
      return e;
    }
    if (is_op("{")) {
      auto e = node(Expr::Kind::dict, t.pos);
      advance();
      const bool saved = no_condexpr_;
      no_condexpr_ = false;
      while (!is_op("}")) {
        e->args.push_back(parse_expression());
        expect_op(":");
        e->args.push_back(parse_expression());
        if (!is_op("}")) expect_op(",");
      }
      no_condexpr_ = saved;
      advance();
      return e;
    }
    fail(Errc::bad_format, t, "unexpected " + describe(t) + " in expression");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".")) {
        const SourcePos pos = cur().pos;
        advance();
        if (cur().kind == Token::Kind::integer) {
          auto item = node(Expr::Kind::item, pos);
          item->args.push_back(std::move(e));
          item->args.push_back(parse_primary());
          e = std::move(item);
          continue;
        }
        auto a = node(Expr::Kind::attr, pos);
        a->name = expect_name();
        a->args.push_back(std::move(e));
        e = std::move(a);
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const SourcePos pos = cur().pos;
    advance();  // [
    const bool saved = no_condexpr_;
    no_condexpr_ = false;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression();
      if (is_op("]")) {
        advance();
        no_condexpr_ = saved;
        auto item = node(Expr::Kind::item, pos);
        item->args.push_back(std::move(obj));
        item->args.push_back(std::move(start));
        return item;
      }
      if (is_op(",")) fail(Errc::unsupported, cur(), "tuple subscripts are not supported");
    }
    expect_op(":");
    ExprPtr stop, step;
    if (!is_op("]") && !is_op(":")) stop = parse_expression();
    if (is_op(":")) {
      advance();
      if (!is_op("]")) step = parse_expression();
    }
    expect_op("]");
    no_condexpr_ = saved;
    auto s = node(Expr::Kind::slice, pos);
    s->args.push_back(std::move(obj));
    s->args.push_back(std::move(start));
    s->args.push_back(std::move(stop));
    s->args.push_back(std::move(step));
    return s;
  }

  // Reads "(args)" into e->args (after any already there) and e->keywords.
  void parse_call_args(Expr& e) {
    expect_op("(");
    const bool saved = no_condexpr_;
    no_condexpr_ = false;
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) fail(Errc::unsupported, cur(), "*args / **kwargs in calls are not supported");
      if (cur().kind == Token::Kind::name && peek().kind == Token::Kind::op && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        e.keywords.emplace_back(std::move(key), parse_expression());
      } else {
        if (!e.keywords.empty()) fail(Errc::bad_format, cur(), "positional argument after keyword argument");
        e.args.push_back(parse_expression());
      }
      if (!is_op(")")) expect_op(",");
    }
    advance();
    no_condexpr_ = saved;
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = node(Expr::Kind::call, callee->pos);  // errors point at what is called, not at "("
    c->args.push_back(std::move(callee));
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        advance();
        const Token& name = cur();
        auto f = node(Expr::Kind::filter, name.pos);
        f->name = expect_name();
        if (is_op(".")) fail(Errc::unsupported, cur(), "dotted filter names are not supported");
        if (!is_known_filter(f->name)) fail(Errc::unsupported, name, "unknown filter '" + f->name + "'");
        f->args.push_back(std::move(e));
        if (is_op("(")) parse_call_args(*f);
        e = std::move(f);
      } else if (is_name("is")) {
        advance();
        auto t = node(Expr::Kind::test, cur().pos);
        if (is_name("not")) {
          t->negated = true;
          advance();
        }
        const Token& name = cur();
        t->name = expect_name();
        if (!is_known_test(t->name)) fail(Errc::unsupported, name, "unknown test '" + t->name + "'");
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((cur().kind == Token::Kind::name || cur().kind == Token::Kind::string ||
                    cur().kind == Token::Kind::integer || cur().kind == Token::Kind::floating || is_op("[") ||
                    is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) fail(Errc::bad_format, cur(), "you cannot chain multiple tests with 'is'");
          t->args.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

 public:
  bool no_condexpr_ = false;

 private:
  std::vector<Token> tokens_;
  const std::string& origin_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Template> parse_template(std::string_view source, std::string origin, const LexOptions& options) {
  auto tpl = std::make_unique<Template>();
  tpl->origin = std::move(origin);
  Parser parser(lex(source, tpl->origin, options), tpl->origin);
  tpl->body = parser.parse_all();
  return tpl;
}

}  // namespace qtr::jinja
