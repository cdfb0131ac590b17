// JSON Schema (draft 2020-12; draft-07 spellings accepted) compiled to GBNF: the language of JSON texts that
// validate against the schema, written as json.dumps writes them (or compactly), each a grammar rule.
//
// What a grammar cannot express exactly is refused with Errc::unsupported and a message naming the keyword and its
// JSON pointer ("json-schema: 'uniqueItems' at /properties/tags is not supported"); with `lenient` it is
// approximated instead and the relaxation is reported. See docs/structured-output.md for the keyword table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qtr/json.hpp"

namespace qtr::grammar {

struct JsonSchemaOptions {
  // Whitespace between tokens: false = json.dumps style, a space after ':' and ',' and up to max_whitespace
  // optional whitespace characters ([ \t\n\r]) wherever JSON allows whitespace; true = none at all.
  bool compact = false;
  int max_whitespace = 20;
  // Numbers of bounded length (integer part and fraction at most 16 digits, exponent at most 3) for free numbers:
  // for generation (tool calls), where a small model may otherwise write digits until the length limit. Not JSON
  // Schema's language: off by default.
  bool bounded_numbers = false;
  // Approximate what cannot be expressed (accept a superset) instead of refusing it.
  bool lenient = false;
  // Budgets: refused with Errc::out_of_memory when exceeded.
  size_t max_rules = 20000;
  size_t max_grammar_bytes = size_t{8} << 20;
  int max_depth = 64;  // nesting of subschemas followed ($ref expansions included)
  // Largest count written as a bounded repetition (minLength/maxLength, minItems/maxItems); larger ones are
  // refused as unsupported (lenient: the bound is loosened).
  uint32_t max_repeat = 1000;
};

struct JsonSchemaResult {
  std::string gbnf;                  // root rule first
  std::vector<std::string> relaxed;  // lenient only: "'uniqueItems' at /properties/tags: not enforced", ...
};

// Throws qtr::Error: invalid_argument for a malformed schema (a keyword of the wrong type, an unresolvable $ref,
// no instance can satisfy it), unsupported for what a grammar cannot express (above), out_of_memory for budgets.
JsonSchemaResult json_schema_to_gbnf(const Json& schema, const JsonSchemaOptions& options = {});

}  // namespace qtr::grammar
