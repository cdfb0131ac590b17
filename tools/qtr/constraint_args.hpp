// The constraint options shared by `qtr grammar`, `run` and `chat`: --grammar FILE, --json-schema FILE|JSON,
// --regex RE, --choice TEXT (repeatable), --json, --lenient, --compact-json.
#pragma once

#include <memory>
#include <span>

#include "args.hpp"
#include "qtr/constraint.hpp"

namespace qtr::cli {

// The option specs, for a command's constexpr option table.
#define QTR_CONSTRAINT_OPTION_SPECS                                                                                      \
  {"--grammar", "FILE", "constrain the output to a GBNF grammar (llama.cpp's format)"},                                  \
      {"--json-schema", "FILE|JSON", "constrain the output to JSON valid under a JSON Schema (a file, or inline)"},     \
      {"--regex", "RE", "constrain the whole output to match a regular expression"},                                    \
      {"--choice", "TEXT", "constrain the output to exactly one of the given texts (repeatable)", true},                \
      {"--json-object", "", "constrain the output to a JSON object"},                                                  \
      {"--lenient", "", "JSON Schema: approximate what a grammar cannot express instead of refusing it"},              \
      {"--compact-json", "", "JSON: no whitespace between tokens"}

// True when one of --grammar / --json-schema / --regex / --choice / --json-object is given; throws UsageError
// when more than one is.
bool has_constraint(const Args& args);
// Compiles the one given (has_constraint must be true). `for_generation`: JSON numbers of bounded length
// (ConstraintOptions::bounded_numbers), as run and chat use them; qtr grammar checks the exact language.
std::shared_ptr<const Constraint> compile_constraint(const Args& args, std::shared_ptr<const TokenVocabulary> vocab,
                                                     bool for_generation);

}  // namespace qtr::cli
