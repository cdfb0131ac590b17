// The regex compiler's internal form (regex_parse.cpp builds it, regex.cpp lowers it to GBNF): a DAG of nodes in
// one arena, kept in a normal form that GBNF can run without empty loops:
//
//   * `fail` (the empty language) never appears below another node: concatenations containing it and repetitions
//     needing it become `fail`, alternations drop it. Only the root may be `fail`.
//   * the body of a `repeat` never derives the empty string: (x)* with nullable x is rewritten as (x')* where x'
//     is x without the empty string (see nonempty()), so no loop can spin without consuming text.
//   * concatenations and alternations are flat, single-code-point alternatives merged into one set.
//
// Nodes are shared (the rewrite reuses subtrees), which is why they are indices, not owned pointers.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "grammar/regex.hpp"

namespace qtr::grammar::regex_detail {

constexpr uint32_t kUnbounded = UINT32_MAX;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

struct Node {
  enum Kind : uint8_t { empty, fail, set, concat, alt, repeat };
  Kind kind = empty;
  bool nullable = true;
  bool sealed = false;        // concat: kept whole inside other concats, so that sharing it shares its text
  CodePointSet chars;         // set: sorted, disjoint, no surrogates, never empty
  std::vector<int> kids;      // concat, alt: >= 2; repeat: 1 (never nullable)
  uint32_t min = 0, max = 0;  // repeat: max may be kUnbounded
  double weight = 1;          // a size estimate of the expanded grammar, for the budget
};

class Ast {
 public:
  int empty();
  int fail();
  int chars(CodePointSet set);  // normalizes; an empty set is fail
  int concat(std::vector<int> kids, bool sealed = false);  // sealed: not flattened into an enclosing concat
  int alt(std::vector<int> kids);
  int repeat(int kid, uint32_t min, uint32_t max);
  int nonempty(int id);  // the node's language without the empty string

  const Node& operator[](int id) const { return nodes_[static_cast<size_t>(id)]; }
  size_t size() const { return nodes_.size(); }

 private:
  int push(Node n);
  std::vector<Node> nodes_;
  int empty_ = -1, fail_ = -1;
};

// A parsed pattern: its top-level branches, each with its own anchors (`^a|b$` anchors per branch).
struct Branch {
  int node = -1;
  bool anchored_start = false;  // began with ^
  bool anchored_end = false;    // ended with $
};

struct ParsedRegex {
  std::vector<Branch> branches;
};

// Parses `pattern` (UTF-8) into `ast`. Throws qtr::Error: invalid_argument for bad syntax and limits,
// unsupported for constructs a grammar cannot express. Offsets in messages are byte offsets.
ParsedRegex parse_regex(std::string_view pattern, const RegexOptions& options, Ast& ast);

// Normalizes a code point set: sorted, merged, surrogates removed; with `negate`, the complement over all
// Unicode scalar values.
CodePointSet normalize_set(CodePointSet set, bool negate = false);

}  // namespace qtr::grammar::regex_detail
