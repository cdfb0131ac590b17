// Shared pieces of the JSON Schema compiler (json_schema.cpp: the driver, $ref, combinators, objects and arrays;
// json_schema_values.cpp: literals, numbers and integer ranges, strings, formats, keys that differ from names).
//
// The compiler writes its rules into its own Rules store rather than into a GbnfWriter, because a $ref needs a
// rule's name before its body is known (recursion). Its names always contain '_', which GbnfWriter never produces,
// so they cannot collide with the rules regex_to_gbnf writes into the GbnfWriter the compiler hands it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "grammar/json_schema.hpp"

namespace qtr::grammar::schema_detail {

class Rules {
 public:
  // A rule for `body` (an existing one with the same body is reused); returns its name.
  std::string add(std::string_view hint, std::string body);
  // A fresh name to be defined later with define() (or never used).
  std::string reserve(std::string_view hint);
  void define(const std::string& name, std::string body);
  const std::vector<std::pair<std::string, std::string>>& list() const { return rules_; }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::pair<std::string, std::string>> rules_;
  std::unordered_map<std::string, std::string> by_body_;
  std::unordered_map<std::string, int> taken_;
  size_t bytes_ = 0;
};

// Where JSON allows whitespace: "ws_ " (a rule of up to max_whitespace characters), or "" when compact.
struct Style {
  bool compact = false;
  std::string ws() const { return compact ? "" : "ws_ "; }
};

// Defines the rules every grammar may use (pruned later when unused): ws_, char_, string_, number_, integer_,
// value_, object_, array_.
void add_builtin_rules(Rules& rules, const JsonSchemaOptions& options);

// An integer as a sign and decimal digits without leading zeros ("0" for zero, never negative zero).
struct Big {
  bool neg = false;
  std::string mag = "0";
};
int compare(const Big& a, const Big& b);
Big add_one(const Big& a);
Big sub_one(const Big& a);
// The integer nearest to a JSON number in the given direction (ceil = true rounds up); `integral` tells whether
// the number was an integer already.
Big big_from_json(const Json& number, bool ceil, bool* integral);

// A numeric bound with integral value (non-integral ones are rounded by the caller first).
struct IntBound {
  bool set = false;
  bool exclusive = false;
  Big value;
};
// Numbers in [lo, hi] (either side open or absent) without exponent. integer_only: integer values, spelled as
// integers or as integral floats (1, 1.0, -0); otherwise any decimal fraction. Empty optional: no number fits.
std::optional<std::string> number_range_expr(const IntBound& lo, const IntBound& hi, bool integer_only);

// JSON literal text that json.dumps may write for `value` (numbers in all the spellings of their value that
// json.dumps produces for int or float, strings raw or ASCII-escaped), with whitespace per `style`.
std::string literal_expr(const Json& value, const Style& style);
// A quoted JSON string literal for the UTF-8 text `s` (raw or \uXXXX for non-ASCII, escapes for controls).
std::string string_literal_expr(std::string_view s);
// A quoted JSON string (any spelling) whose decoded text is none of `names`.
std::string key_not_in_expr(const std::vector<std::string>& names, Rules& rules);
// The string (quoted) of a format the compiler asserts; nullopt for formats that are annotations only.
std::optional<std::string> format_expr(std::string_view format, Rules& rules);
// Compact JSON text of `value` (strings with UTF-8 raw), for testing enum members against a grammar.
std::string dump_json(const Json& value);
// JSON Schema equality: numbers by value (1 == 1.0), objects regardless of key order.
bool json_equal(const Json& a, const Json& b);
// Whether a JSON number is integral.
bool is_integral(const Json& number);

}  // namespace qtr::grammar::schema_detail
