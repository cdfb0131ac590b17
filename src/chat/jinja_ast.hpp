// Jinja tokens and syntax tree, and the lexer/parser entry points.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_value.hpp"
#include "qtr/error.hpp"

namespace qtr::jinja {

struct SourcePos {
  int line = 1, column = 1;
};

// "<origin>:<line>:<col>: <message>"
Error make_error(Errc code, const std::string& origin, SourcePos pos, const std::string& message);

struct Token {
  enum class Kind { text, var_begin, var_end, block_begin, block_end, name, string, integer, floating, op, eof };
  Kind kind = Kind::eof;
  std::string text;  // text / name / decoded string / operator / number spelling
  SourcePos pos;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Splits a template into text and tag tokens, applying whitespace control ("-", "+", trim_blocks,
// lstrip_blocks) and jinja2's newline rules (\r\n and \r read as \n, one trailing newline dropped).
std::vector<Token> lex(std::string_view source, const std::string& origin, const LexOptions& options);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    literal,   // value
    name,      // name
    attr,      // args[0].name
    item,      // args[0][args[1]]
    slice,     // args[0][args[1]:args[2]:args[3]] (null parts allowed)
    call,      // args[0](args[1..], keywords)
    filter,    // args[0] | name(args[1..], keywords)
    test,      // args[0] is [not] name(args[1..])
    unary,     // name in {"-", "+", "not"} applied to args[0]
    binary,    // args[0] name args[1]: + - * / // % ** ~ and or
    compare,   // args[0] ops[0] args[1] ops[1] args[2] ... (chained)
    cond,      // args[1] if args[0] else args[2] (args[2] may be null)
    list,      // [args...]
    tuple,     // (args...)
    dict,      // {args[0]: args[1], ...}
  };
  Kind kind = Kind::literal;
  SourcePos pos;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  std::vector<std::string> ops;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { text, output, if_, for_, set, set_block, macro, break_, continue_, block };
  Kind kind = Kind::text;
  SourcePos pos;
  std::string text;                  // text; macro name
  ExprPtr expr;                      // output; for iterable; set value
  ExprPtr filter;                    // for ... if filter
  std::vector<std::string> targets;  // for/set names; set of ns.attr: {ns, attr} with attr_target
  bool attr_target = false;
  std::vector<std::pair<ExprPtr, Body>> branches;  // if / elif
  Body body, else_body;                             // for / if else / macro / set block / generation
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro parameters with optional defaults
};

struct Template {
  std::string origin;
  Body body;
};

// Throws qtr::Error(bad_format) for syntax errors and qtr::Error(unsupported) for Jinja outside the subset.
std::unique_ptr<Template> parse_template(std::string_view source, std::string origin, const LexOptions& options);

// Names the evaluator knows; the parser rejects others at parse time.
bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

}  // namespace qtr::jinja
